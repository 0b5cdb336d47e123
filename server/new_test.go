package server

import (
	"strings"
	"testing"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/scenarios"
)

// TestNewValidatesGoScenario: a scenario built in Go, without Parse or
// Validate, is validated by New: its zero fields take the defaults a file
// would get, and what cannot work is an error rather than a nil pointer
// dereference later on.
func TestNewValidatesGoScenario(t *testing.T) {
	alice := []scenarios.User{{Name: "alice", Password: "pw"}}
	tests := []struct {
		name    string
		sc      *scenarios.Scenario
		wantErr string // "" when the server must serve a login
	}{
		{"zero fields take the defaults", &scenarios.Scenario{Name: "go-built", Users: alice}, ""},
		{"starttls with the default certificate", &scenarios.Scenario{Name: "go-tls", Server: scenarios.Server{TLS: scenarios.TLSStartTLS}, Users: alice}, ""},
		{"zero scenario", &scenarios.Scenario{}, "name"},
		{"unknown transport", &scenarios.Scenario{Name: "bad", Server: scenarios.Server{TLS: "ssl"}, Users: alice}, "server.tls"},
		{"fault without action", &scenarios.Scenario{Name: "bad", Users: alice, Faults: []faults.Fault{{When: faults.When{Command: "LOGIN"}}}}, "faults[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := New(tt.sc, Options{})
			if tt.wantErr != "" {
				if err == nil {
					srv.Close()
					t.Fatalf("New() = nil error, want one naming %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New() = %v, want an error naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			defer srv.Close()
			w := dialWire(t, srv.Addr())
			w.line()
			if tt.sc.Server.TLS == scenarios.TLSStartTLS {
				w.startTLS(srv.ClientTLSConfig())
			}
			w.send("a LOGIN alice pw")
			if got := w.until("a "); !strings.HasPrefix(got[len(got)-1], "a OK") {
				t.Errorf("LOGIN: %q", got)
			}
		})
	}
}
