package monitor

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/imapfault/imapfault/client"
)

// tokenEndpoint is an OAuth2 token endpoint that hands out the healthy
// scenario's token, or refuses with an error code.
type tokenEndpoint struct {
	srv      *httptest.Server
	mu       sync.Mutex
	requests int
	refuse   string // an RFC 6749 error code, or "" to grant
	forms    []string
}

func newTokenEndpoint(t *testing.T) *tokenEndpoint {
	e := &tokenEndpoint{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm() //nolint:errcheck // an empty form is refused below
		e.mu.Lock()
		e.requests++
		e.forms = append(e.forms, r.PostForm.Get("grant_type"))
		refuse := e.refuse
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if refuse != "" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": refuse, "error_description": "Token has been expired or revoked."}) //nolint:errcheck // test
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "ya29.alice-oauth-token", "token_type": "Bearer", "expires_in": 3600}) //nolint:errcheck // test
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func TestOAuth2(t *testing.T) {
	tests := []struct {
		name   string
		oauth  string
		refuse string
		want   string
		grant  string
	}{
		{"refresh token", `grant = "refresh_token"
refresh_token_env = "TEST_REFRESH"
client_secret_env = "TEST_CLIENT_SECRET"`, "", client.CodeOK, "refresh_token"},
		{"client credentials", `grant = "client_credentials"
client_secret_env = "TEST_CLIENT_SECRET"`, "", client.CodeOK, "client_credentials"},
		{"refused", `refresh_token_env = "TEST_REFRESH"`, "invalid_grant", client.CodeAuthOAuthTokenRefreshFailed, "refresh_token"},
	}
	env := map[string]string{"TEST_REFRESH": "1//refresh-secret", "TEST_CLIENT_SECRET": "client-secret-value"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := newTokenEndpoint(t)
			ep.refuse = tt.refuse
			f := newFixture(t, nil, "", "healthy")
			text := `[[targets]]
name = "gmail"
address = "` + f.servers["healthy"].Addr() + `"
ca_file = "healthy.pem"
user = "alice"
auth = "xoauth2"

[targets.oauth2]
token_url = "` + ep.srv.URL + `/token"
client_id = "imapfault-test"
` + tt.oauth + "\n"
			cfg, err := ParseConfig(f.dir+"/oauth.toml", []byte(text))
			if err != nil {
				t.Fatalf("ParseConfig:\n%v", err)
			}
			m, err := New(context.Background(), Options{Config: cfg, Getenv: func(k string) string { return env[k] }})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				rep := m.checkTarget(context.Background(), &cfg.Targets[0], cfg.Targets[0].Address)
				if rep.Diagnosis.Code != tt.want {
					t.Fatalf("check = %s (%s), want %s", rep.Diagnosis.Code, rep.Diagnosis.Evidence, tt.want)
				}
				if tt.refuse != "" {
					if !strings.Contains(rep.Diagnosis.Evidence, "HTTP 400, error invalid_grant") {
						t.Errorf("evidence %q lacks the endpoint's error code", rep.Diagnosis.Evidence)
					}
					b, _ := json.Marshal(rep)
					for _, s := range env {
						if strings.Contains(string(b), s) {
							t.Errorf("the report holds secret %q", s)
						}
					}
				}
			}
			ep.mu.Lock()
			defer ep.mu.Unlock()
			wantRequests := 1 // the token is cached until it expires
			if tt.refuse != "" {
				// Each check asks again; x/oauth2 tries the client secret
				// in the header, then in the body, before it gives up.
				wantRequests = 4
			}
			if ep.requests != wantRequests || ep.forms[0] != tt.grant {
				t.Errorf("token endpoint saw %d requests (%v), want %d of grant %s", ep.requests, ep.forms, wantRequests, tt.grant)
			}
		})
	}
}

func TestTokenCommandAndMissingSecret(t *testing.T) {
	f := newFixture(t, nil, "", "healthy")
	text := `[[targets]]
name = "cmd"
address = "` + f.servers["healthy"].Addr() + `"
ca_file = "healthy.pem"
user = "alice"
auth = "oauthbearer"
token_command = ["/bin/sh", "-c", "echo ya29.alice-oauth-token"]

[[targets]]
name = "failing-cmd"
address = "` + f.servers["healthy"].Addr() + `"
ca_file = "healthy.pem"
user = "alice"
auth = "xoauth2"
token_command = ["/bin/sh", "-c", "echo oops >&2; exit 7"]

[[targets]]
name = "no-env"
address = "` + f.servers["healthy"].Addr() + `"
ca_file = "healthy.pem"
user = "alice"
password_env = "UNSET_PW"
`
	cfg, err := ParseConfig(f.dir+"/cmd.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(context.Background(), Options{Config: cfg, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct{ code, evidence string }{
		{client.CodeOK, ""},
		{client.CodeAuthSecretUnavailable, "token_command /bin/sh: exit status 7"},
		{client.CodeAuthSecretUnavailable, "password_env: $UNSET_PW is not set"},
	} {
		rep := m.checkTarget(context.Background(), &cfg.Targets[i], cfg.Targets[i].Address)
		if rep.Diagnosis.Code != want.code || !strings.Contains(rep.Diagnosis.Evidence, want.evidence) {
			t.Errorf("%s: %s %q, want %s %q", cfg.Targets[i].Name, rep.Diagnosis.Code, rep.Diagnosis.Evidence, want.code, want.evidence)
		}
	}
}
