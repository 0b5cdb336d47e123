package monitor

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/status"
)

// TestAdvance walks the state machine through sequences of checks and
// lists the alerts it calls for: one per transition, one more when the
// diagnosis changes while failing, none for unknown checks.
func TestAdvance(t *testing.T) {
	tests := []struct {
		name                string
		failures, successes int
		codes               []string // "ok", "unknown", or a failing code
		want                []string // "firing CODE" / "resolved CODE" after the check at that index
	}{
		{"one failure alerts no one", 2, 1, []string{"ok", "auth.failed", "ok", "auth.failed", "ok"}, nil},
		{"two in a row fire once", 2, 1, []string{"auth.failed", "auth.failed", "auth.failed", "auth.failed"},
			[]string{"1 firing auth.failed"}},
		{"recovery after M successes", 2, 2, []string{"tcp.refused", "tcp.refused", "ok", "tcp.refused", "ok", "ok", "ok"},
			[]string{"1 firing tcp.refused", "5 resolved tcp.refused"}},
		{"a new diagnosis while failing fires again", 1, 1, []string{"tcp.refused", "greeting.eof", "greeting.eof", "ok"},
			[]string{"0 firing tcp.refused", "1 firing greeting.eof (was tcp.refused)", "3 resolved greeting.eof"}},
		{"unknown checks change nothing", 2, 1, []string{"auth.failed", "unknown", "auth.failed", "unknown", "ok"},
			[]string{"2 firing auth.failed", "4 resolved auth.failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := &Target{Name: "t", Failures: tt.failures, Successes: tt.successes}
			var r resume
			var got []string
			for i, code := range tt.codes {
				state := status.Critical
				switch code {
				case "ok":
					state = status.OK
				case "unknown":
					state, code = status.Unknown, client.CodeCheckCanceled
				}
				rep := &client.Report{Started: time.Unix(int64(i), 0), Diagnosis: client.Diagnosis{Code: code}}
				if a := r.advance(tg, state, rep); a != nil {
					s := string(a.Status) + " " + a.Code
					if a.Previous != "" {
						s += " (was " + a.Previous + ")"
					}
					got = append(got, string(rune('0'+i))+" "+s)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
		})
	}
}
