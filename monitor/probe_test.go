package monitor

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	f := newFixture(t, nil, "", "healthy", "login-rejected")
	f.cfg.Targets[1].ProbeHosts = []string{"127.0.0.1:*"}
	m, err := New(context.Background(), Options{Config: f.cfg, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	m.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(query string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/probe?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	rejected := f.servers["login-rejected"].Addr()
	tests := []struct {
		name, query string
		code        int
		want, not   []string
	}{
		{"by name", "target=healthy", 200,
			[]string{"probe_success 1", "probe_duration_seconds ", `imapfault_step_duration_seconds{step="auth"}`,
				`imapfault_diagnosis_info{code="ok",phase="logout"} 1`, "probe_ssl_earliest_cert_expiry ", `probe_tls_version_info{version="TLS 1.3"} 1`},
			[]string{"target=", "imapfault_checks_total"}},
		{"address with a module", "target=" + url.QueryEscape(rejected) + "&module=healthy", 200,
			// The module's settings include its CA, which did not sign
			// the other server's certificate.
			[]string{"probe_success 0", `imapfault_diagnosis_info{code="tls.cert_untrusted",phase="tls"} 1`}, nil},
		{"no target", "", 400, []string{"target parameter is missing"}, nil},
		{"unknown name", "target=nope", 400, []string{`no target named "nope"`}, nil},
		{"unknown module", "target=127.0.0.1:1&module=nope", 400, []string{`unknown module "nope"`}, nil},
		{"bad address", "target=nohost&module=healthy", 400, []string{"want HOST:PORT"}, nil},
		{"address not in probe_hosts", "target=192.0.2.1:993&module=login-rejected", 403, []string{"probe_hosts"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(tt.query)
			if code != tt.code {
				t.Errorf("GET /probe?%s = %d, want %d:\n%s", tt.query, code, tt.code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET /probe?%s lacks %q:\n%s", tt.query, w, body)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("GET /probe?%s has %q:\n%s", tt.query, n, body)
				}
			}
		})
	}
	// "/" stays free for a dashboard.
	if resp, err := http.Get(srv.URL + "/"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET / = %v, %v; want 404", resp, err)
	} else {
		resp.Body.Close()
	}
}
