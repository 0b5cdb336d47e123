package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/client/phase"
)

// TestClientTimeouts: [client] timeouts bound single phases by the
// tester's names; a phase the tester does not have, a duration that is
// not positive, or an idle_hold that does not fit the idle phase's bound
// is an error at its line.
func TestClientTimeouts(t *testing.T) {
	tests := []struct {
		name   string
		client string
		want   string // the error, "" for none
	}{
		{"one phase", `timeouts = { greeting = "1s" }`, ""},
		{"unknown phase", `timeouts = { login = "1s" }`, `bad.toml:3: client.timeouts.login: "login" is not allowed (allowed: ` + strings.Join(testerPhases, ", ") + `)`},
		{"zero", `timeouts = { auth = "0s" }`, `bad.toml:3: client.timeouts.auth: 0s: write a positive duration such as "1s"`},
		{"idle hold within the idle phase's bound", "timeouts = { idle = \"4s\" }\nidle_hold = \"2s\"", ""},
		{"idle hold past the idle phase's bound", "timeouts = { idle = \"1s\" }\nidle_hold = \"2s\"", `bad.toml:4: client.idle_hold: 2s: want 0 up to half of client.timeouts.idle (500ms)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := Parse("bad.toml", []byte("name = \"x\"\n[client]\n"+tt.client+"\n"), nil)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("Parse() error = %q, want %q", got, tt.want)
			}
			if err == nil && sc.Client.Timeout != DefaultClientTimeout {
				t.Errorf("client timeout = %v, want the default %v", sc.Client.Timeout, DefaultClientTimeout)
			}
		})
	}
	sc, err := Parse("ok.toml", []byte("name = \"x\"\n[client]\ntimeouts = { greeting = \"1s\", tls = \"20s\" }\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[phase.Phase]time.Duration{phase.Greeting: time.Second, phase.TLS: 20 * time.Second}, sc.Client.Timeouts); diff != "" {
		t.Errorf("timeouts (-want +got):\n%s", diff)
	}
}
