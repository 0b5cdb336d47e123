package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapfault/imapfault/control/controlclient"
)

// proxyCheck runs the tester through the proxy and returns its
// diagnosis code and phase.
func proxyCheck(t *testing.T, ready proxyReady) string {
	t.Helper()
	r := runCmd(t, map[string]string{"IMAPFAULT_PASSWORD": "correct horse battery staple"}, "check", "--json", "--user", "alice", "--ca-file", ready.CAFile, clientAddr(ready.Address))
	var rep struct {
		Diagnosis struct{ Code, Phase string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("check output %q (stderr %q): %v", r.stdout, r.stderr, err)
	}
	return rep.Diagnosis.Code + "/" + rep.Diagnosis.Phase
}

// TestProxyControl: a fault added through the proxy's control API acts on
// the next connection through the proxy; removing it gives back the
// upstream's own answer; what a proxy cannot do is a 409 naming it, and a
// hostile fault a 400.
func TestProxyControl(t *testing.T) {
	upstream, caFile := upstreamServer(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ready := startProxy(t, upstream, caFile, "", "--control", "127.0.0.1:0", "--control-token-file", tokenFile)
	if !strings.HasPrefix(ready.Control, "http://127.0.0.1:") {
		t.Fatalf("ready line's control = %q, want the API's URL", ready.Control)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	api := controlclient.New(ready.Control, controlclient.Options{Token: "s3cret"})
	if err := api.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if got := proxyCheck(t, ready); got != "ok/logout" {
		t.Fatalf("check through the proxy before any fault = %s, want ok/logout", got)
	}

	f, err := api.AddFault(ctx, `{"when": {"command": "SELECT"}, "respond": "NO [NONEXISTENT] Mailbox does not exist"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := proxyCheck(t, ready); got != "mailbox.inbox_missing/select" {
		t.Errorf("check after adding a SELECT fault = %s, want mailbox.inbox_missing/select", got)
	}
	list, err := api.Faults(ctx)
	if err != nil || len(list) != 1 || list[0].Fired != 1 {
		t.Errorf("faults after one check = %+v, %v; want the fault, fired once", list, err)
	}
	st, err := api.State(ctx)
	if err != nil || st.Upstream != upstream || st.Address != ready.Address || st.Faults != 1 {
		t.Errorf("state = %+v, %v; want upstream %s, address %s, 1 fault", st, err, upstream, ready.Address)
	}
	if err := api.RemoveFault(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if got := proxyCheck(t, ready); got != "ok/logout" {
		t.Errorf("check after removing the fault = %s, want ok/logout", got)
	}

	if _, err := api.Users(ctx); !controlclient.IsStatus(err, http.StatusConflict) || !strings.Contains(err.Error(), "is a proxy in front of "+upstream) {
		t.Errorf("users on the proxy: %v, want 409 saying it is a proxy", err)
	}
	if _, err := api.AddFault(ctx, `{"when": {"command": "SELECT"}, "respond": "NO x", "rm -rf": true}`); !controlclient.IsStatus(err, http.StatusBadRequest) {
		t.Errorf("hostile fault: %v, want 400", err)
	}
	if _, err := controlclient.New(ready.Control, controlclient.Options{}).Faults(ctx); !controlclient.IsStatus(err, http.StatusUnauthorized) {
		t.Errorf("faults without the token: %v, want 401", err)
	}
}

func TestProxyControlUsageErrors(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"proxy", "--upstream", "127.0.0.1:143", "--control-token-file", empty}, "needs --control ADDR"},
		{[]string{"proxy", "--upstream", "127.0.0.1:143", "--control", "127.0.0.1:0", "--control-token-file", empty}, "is empty"},
	} {
		r := runCmd(t, nil, tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v = %d, %q; want %d and %q", tt.args, r.code, r.stderr, exitUsage, tt.want)
		}
	}
}
