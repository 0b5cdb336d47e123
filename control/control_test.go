package control

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
)

func newAPI(t *testing.T, opts Options) (*httptest.Server, *server.Server) {
	t.Helper()
	srv := server.NewTestBuiltin(t, "healthy")
	h, err := New([]Target{{Name: "healthy", Server: srv}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts, srv
}

func do(t *testing.T, method, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// TestOpenAPIMatchesRoutes: every route the handler serves is in
// openapi.json and every operation there is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var documented, served []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	h := &Handler{}
	for _, r := range h.routes() {
		served = append(served, r.method+" "+r.path)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if d := cmp.Diff(documented, served); d != "" {
		t.Errorf("openapi.json (-) and the routes (+) differ:\n%s", d)
	}
	ts, _ := newAPI(t, Options{})
	code, body := do(t, "GET", ts.URL+"/openapi.json", "")
	if code != 200 || !json.Valid([]byte(body)) {
		t.Errorf("GET /openapi.json: %d", code)
	}
}

// TestHostileInput: a request the API cannot take gets a 4xx whose JSON
// says what to fix, and changes nothing.
func TestHostileInput(t *testing.T) {
	ts, srv := newAPI(t, Options{})
	huge := strings.Repeat("x", MaxBody+1)
	tests := []struct {
		name, method, path, body string
		code                     int
		want                     string
	}{
		{"huge message", "POST", "/api/users/alice/mailboxes/INBOX/messages", "Subject: x\r\n\r\n" + huge, 413, "over 1048576 bytes"},
		{"huge fault", "POST", "/api/faults", `{"respond": "` + huge + `"}`, 413, "over 1048576 bytes"},
		{"invalid TOML", "PUT", "/api/scenario", "name = [", 400, "request-body.toml:1"},
		{"scenario that fails validation", "PUT", "/api/scenario", "name = \"x\"\n[server]\ntls = \"sometimes\"\n", 400, `server.tls: "sometimes" is not allowed`},
		{"scenario with files", "PUT", "/api/scenario", "[[users]]\nname = \"a\"\npassword = \"p\"\nmailboxes = [{ name = \"INBOX\", files = [\"*.eml\"] }]\n", 400, "no folder to read files from"},
		{"too much generated mail", "PUT", "/api/scenario", "name = \"big\"\n[[users]]\nname = \"a\"\npassword = \"p\"\nmailboxes = [{ name = \"A\", generate = { count = 60000 } }, { name = \"B\", generate = { count = 60000 } }]\n", 400, "more than 100000 generated messages"},
		{"unknown built-in", "PUT", "/api/scenario", `{"name": "no-such"}`, 404, `no built-in scenario "no-such"`},
		{"unknown field in scenario request", "PUT", "/api/scenario", `{"name": "healthy", "tls": "none"}`, 400, `unknown field "tls" (allowed: name)`},
		{"unknown fault key", "POST", "/api/faults", `{"when": {"comand": "LOGIN"}, "drop": "fin"}`, 400, `when.comand: unknown key "comand"`},
		{"wrong type in fault", "POST", "/api/faults", `{"when": {"first": "2"}, "drop": "fin"}`, 400, "when.first: want an integer, got the string"},
		{"fault not an object", "POST", "/api/faults", `"drop"`, 400, "a fault is a JSON object"},
		{"invalid fault", "POST", "/api/faults", `{"respond": "PERHAPS"}`, 400, `respond: "PERHAPS" must start with a status`},
		{"wrong type in user", "POST", "/api/users", `{"name": "bob", "password": 7}`, 400, `field "password": want a string, got a JSON number`},
		{"unknown field in user", "POST", "/api/users", `{"name": "bob", "password": "p", "admin": true}`, 400, `unknown field "admin" (allowed: name, password)`},
		{"not JSON", "POST", "/api/users", `{"name": `, 400, "body is not JSON"},
		{"two objects", "POST", "/api/users", `{"name": "bob", "password": "p"} {}`, 400, "found more after it"},
		{"empty body", "POST", "/api/users", ``, 400, "empty body: send a JSON object with the fields name, password"},
		{"existing user", "POST", "/api/users", `{"name": "alice", "password": "p"}`, 409, `user "alice": already exists`},
		{"bad flag", "POST", "/api/users/alice/mailboxes/INBOX/messages?flag=not+a+flag", "Subject: x\r\n\r\nx", 400, `"not a flag" is not a flag`},
		{"no such mailbox", "POST", "/api/users/alice/mailboxes/Nope/messages", "Subject: x\r\n\r\nx", 404, `user "alice" has no mailbox "Nope"`},
		{"bad special use", "POST", "/api/users/alice/mailboxes", `{"name": "X", "special_use": "\\Spam"}`, 400, `special_use`},
		{"bad fault id", "DELETE", "/api/faults/abc", "", 400, `id "abc": want a positive whole number`},
		{"no such fault", "DELETE", "/api/faults/42", "", 404, "no live fault 42"},
		{"flags missing", "PUT", "/api/users/alice/mailboxes/INBOX/messages/1/flags", `{}`, 400, `field "flags"`},
		{"bad conn filter", "GET", "/api/transcript?conn=x", "", 400, "query parameter conn"},
		{"unknown server", "GET", "/api/server?server=other", "", 404, `no server "other" (servers: healthy)`},
		{"unknown route", "GET", "/api/nothing", "", 404, "no route GET /api/nothing"},
		{"wrong method", "PATCH", "/api/faults", "", 405, "PATCH is not allowed on /api/faults (allowed: GET, POST, DELETE)"},
	}
	before, _ := srv.Messages("alice", "INBOX")
	users := srv.Users()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, tt.method, ts.URL+tt.path, tt.body)
			var e apiError
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("%d %q: not a JSON error: %v", code, body, err)
			}
			if code != tt.code || !strings.Contains(e.Error, tt.want) {
				t.Errorf("%d %q, want %d and %q", code, e.Error, tt.code, tt.want)
			}
		})
	}
	after, _ := srv.Messages("alice", "INBOX")
	if d := cmp.Diff(before, after); d != "" || srv.Scenario().Name != "healthy" || len(srv.Faults()) != 0 || !slices.Equal(users, srv.Users()) {
		t.Errorf("state changed by refused requests: scenario %s, faults %d, users %v, messages:\n%s", srv.Scenario().Name, len(srv.Faults()), srv.Users(), d)
	}
}

// TestToken: with a token, /api needs it and /readyz does not.
func TestToken(t *testing.T) {
	ts, _ := newAPI(t, Options{Token: "s3cret"})
	if code, body := do(t, "GET", ts.URL+"/api/server", ""); code != 401 || !strings.Contains(body, "Authorization: Bearer") {
		t.Errorf("no token: %d %s", code, body)
	}
	if code, _ := do(t, "GET", ts.URL+"/api/server", "", "Authorization", "Bearer wrong"); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
	if code, _ := do(t, "GET", ts.URL+"/api/server", "", "Authorization", "Bearer s3cret"); code != 200 {
		t.Errorf("right token: %d", code)
	}
	if code, _ := do(t, "GET", ts.URL+"/readyz", ""); code != 200 {
		t.Errorf("readyz without token: %d", code)
	}
}

// TestServerChoice: with several servers a request must name one.
func TestServerChoice(t *testing.T) {
	a := server.NewTestBuiltin(t, "healthy")
	b := server.NewTestBuiltin(t, "login-rejected")
	h, err := New([]Target{{Name: "a", Server: a}, {Name: "b", Server: b}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	if code, body := do(t, "GET", ts.URL+"/api/server", ""); code != 400 || !strings.Contains(body, "?server=NAME (one of: a, b)") {
		t.Errorf("no server named: %d %s", code, body)
	}
	code, body := do(t, "GET", ts.URL+"/api/server?server=b", "")
	var st ServerState
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil || st.Scenario != "login-rejected" || st.Address != b.Addr() {
		t.Errorf("server b: %d %s", code, body)
	}
	if _, err := New([]Target{{Name: "a", Server: a}, {Name: "a", Server: b}}, Options{}); err == nil {
		t.Error("two servers named a accepted")
	}
}

// TestEventsStream: the stream announces its subscription, then carries
// the lines a client sends; it ends when the server stops.
func TestEventsStream(t *testing.T) {
	srv, err := server.New(plainScenario(t), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := New([]Target{{Name: "p", Server: srv}}, Options{})
	ts := httptest.NewServer(h)
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if l, _ := r.ReadString('\n'); l != ": subscribed\n" {
		t.Fatalf("first line %q", l)
	}
	c, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("a LOGOUT\r\n"))
	deadline := time.AfterFunc(10*time.Second, func() { resp.Body.Close() })
	defer deadline.Stop()
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before LOGOUT: %v", err)
		}
		if strings.HasPrefix(l, "data: ") && strings.Contains(l, `"text":"a LOGOUT"`) {
			break
		}
	}
	srv.Close()
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended without an end event: %v", err)
		}
		if l == "event: end\n" {
			break
		}
	}
}

// plainScenario is a healthy scenario without TLS, for raw sockets.
func plainScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse("plain.toml", []byte("name = \"plain\"\n[[users]]\nname = \"alice\"\npassword = \"pw\"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
