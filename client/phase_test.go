package client

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/client/phase"
)

// checkPhaseNames fails when a report names a phase that is not in
// client/phase, the list scenarios validate [expect] against: every
// end-to-end case runs it, so a new or misspelt phase cannot drift from
// the list unnoticed.
func checkPhaseNames(t *testing.T, rep *Report) {
	t.Helper()
	names := []string{rep.Diagnosis.Phase}
	for _, st := range rep.Steps {
		names = append(names, st.Phase)
	}
	for _, w := range rep.Warnings {
		names = append(names, w.Phase)
	}
	for _, n := range names {
		if !phase.Valid(n) {
			t.Errorf("the report names phase %q, which is not in client/phase (%v)", n, phase.Names())
		}
	}
}

// TestWalkCoversEveryPhase: a STARTTLS walk with --write takes every step
// there is, so its steps are the whole list in order, and a phase added to
// the walk but not to the list (or the reverse) fails here.
func TestWalkCoversEveryPhase(t *testing.T) {
	ca := newTestCA(t, "imapfault test CA")
	rep := runCase(t, e2eCase{
		cfg: fakeConfig{starttls: ca.serverConfig(t, leafOpts{}), caps: "IMAP4rev1 IDLE LITERAL+ UIDPLUS SASL-IR AUTH=PLAIN STARTTLS ID",
			on: map[string]func(c *fconn, tag, args string){"ID": lines(`* ID ("name" "fake")`, "TAG OK done")}},
		opts: func(o *Options) { o.RootCAs = ca.pool; o.Write = true },
		code: CodeOK, phase: "logout",
	})
	var got []string
	for _, st := range rep.Steps {
		if len(got) == 0 || got[len(got)-1] != st.Phase {
			got = append(got, st.Phase)
		}
	}
	// STARTTLS upgrades, then asks CAPABILITY again: the walk's own order.
	want := []string{"connect", "greeting", "capability", "starttls", "tls", "capability", "auth", "id", "list", "select", "fetch", "idle", "append", "flags", "delete", "logout"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, p := range got {
		seen[p] = true
	}
	for _, p := range phase.Names() {
		if !seen[p] {
			t.Errorf("phase %q is in client/phase but the full walk never takes it", p)
		}
	}
}
