package control

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/server"
)

// TestProxyTarget: a proxy target offers the fault endpoints over its
// faults.Live; every other endpoint answers 409 naming the proxy, and
// hostile bodies get a 400 as they do for a server.
func TestProxyTarget(t *testing.T) {
	base, err := faults.NewSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	live := faults.NewLive(base)
	h, err := New([]Target{{Name: "proxy", Proxy: &Proxy{Faults: live, Address: "127.0.0.1:1143", TLS: "starttls", Upstream: "imap.example.com:143", Scenario: "no-faults"}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()

	code, body := do(t, "POST", ts.URL+"/api/faults", `{"when": {"command": "SELECT"}, "respond": "NO nope"}`)
	var f Fault
	if err := json.Unmarshal([]byte(body), &f); code != 201 || err != nil || f.ID != 1 {
		t.Fatalf("add fault: %d %s", code, body)
	}
	if got := live.Faults(); len(got) != 1 || got[0].Fault().When.Command != "SELECT" {
		t.Errorf("the proxy's live faults after adding: %+v", got)
	}
	code, body = do(t, "GET", ts.URL+"/api/server", "")
	var st ServerState
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil || st.Upstream != "imap.example.com:143" || st.Faults != 1 || st.TLS != "starttls" {
		t.Errorf("server state: %d %s", code, body)
	}
	if code, body := do(t, "GET", ts.URL+"/api/faults", ""); code != 200 || !strings.Contains(body, `"respond": "NO nope"`) {
		t.Errorf("list faults: %d %s", code, body)
	}
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/api/users", ""},
		{"POST", "/api/users", `{"name": "bob", "password": "pw"}`},
		{"PUT", "/api/scenario", `{"name": "healthy"}`},
		{"POST", "/api/reset", ""},
		{"POST", "/api/users/alice/mailboxes/INBOX/messages", "Subject: hi\n\nhi\n"},
		{"GET", "/api/connections", ""},
		{"GET", "/api/transcript", ""},
		{"GET", "/api/events", ""},
	} {
		code, body := do(t, req.method, ts.URL+req.path, req.body)
		if code != 409 || !strings.Contains(body, `"server \"proxy\" is a proxy in front of imap.example.com:143`) {
			t.Errorf("%s %s on a proxy: %d %s, want 409 saying it is a proxy", req.method, req.path, code, body)
		}
	}
	for _, hostile := range []string{`{"when": {"nth": 0}, "drop": "fin"}`, `{"respond": `, `{"when": {"command": "SELECT"}, "respond": "NO x", "evil": 1}`, strings.Repeat("[", 1<<16)} {
		if code, body := do(t, "POST", ts.URL+"/api/faults", hostile); code != 400 {
			t.Errorf("hostile fault %.40q: %d %s, want 400", hostile, code, body)
		}
	}
	if code, body := do(t, "DELETE", ts.URL+"/api/faults/1", ""); code != 204 {
		t.Errorf("remove fault 1: %d %s", code, body)
	}
	if code, body := do(t, "DELETE", ts.URL+"/api/faults/1", ""); code != 404 {
		t.Errorf("remove fault 1 again: %d %s, want 404", code, body)
	}
	if code, body := do(t, "DELETE", ts.URL+"/api/faults", ""); code != 204 || len(live.Faults()) != 0 {
		t.Errorf("clear faults: %d %s", code, body)
	}
}

// TestTargetKinds: a target is a server or a proxy, never both or neither.
func TestTargetKinds(t *testing.T) {
	srv := server.NewTestBuiltin(t, "healthy")
	base, _ := faults.NewSet(nil)
	for _, tg := range []Target{
		{Name: "none"},
		{Name: "both", Server: srv, Proxy: &Proxy{Faults: faults.NewLive(base)}},
		{Name: "empty-proxy", Proxy: &Proxy{}},
	} {
		if _, err := New([]Target{tg}, Options{}); err == nil {
			t.Errorf("New(%s) = nil error", tg.Name)
		}
	}
}
