package verify

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/replay"
	"github.com/imapfault/imapfault/scenarios"
)

// roundTripExceptions are the built-in scenarios whose report does not
// replay to the same diagnosis and phase, and why. The test fails when
// one of them starts to round-trip, so that the list stays true.
var roundTripExceptions = map[string]string{
	// The flag the first session stored is missing in the second: the
	// STORE is left to the server behind, which keeps it.
	"flags-not-persisted": "a write the server keeps",
	// The failure is something the server did not do (push EXISTS for the
	// message the second session stored); the server behind the script
	// pushes.
	"idle-no-push": "an absence",
	// A SASL exchange with a challenge ("+" line, the client's answer,
	// then NO) cannot be a step, which answers in one go: AUTHENTICATE
	// goes to the server, which accepts the replay's token.
	"oauth-insufficient-scope": "SASL challenge",
	"oauth-token-expired":      "SASL challenge",
	// The transcript keeps 2000 characters of a line: the replayed line
	// is no longer overlong.
	"overlong-line": "line cut in the transcript",
	// The bytes injected after STARTTLS's OK are read from the buffer,
	// never as a transcript line: they are only in the evidence, so the
	// replay has no line to send after the OK (after_ok).
	"starttls-injection": "injected bytes not in the transcript",
	// The transcript keeps a literal's size, not its bytes: the FETCH goes
	// to the server, which sends it whole.
	"truncated-literal": "literal bytes not in the transcript",
}

// TestFromReportRoundTrip: for every built-in scenario, the tester's
// report, written as JSON and read back, becomes a scenario through
// replay.FromReport that parses, and whose server leads the tester to the
// same diagnosis and phase, except as roundTripExceptions says.
func TestFromReportRoundTrip(t *testing.T) {
	all, err := scenarios.All()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := Run(ctx, all, Options{Parallel: len(all)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct{ Diagnosis, Phase string }
	want := map[string]outcome{}
	// A scenario whose [expect] names no phase leaves it to timing (a reset
	// on accept can beat the tester's dial, or come just after it): its
	// replay is held to the diagnosis alone, as the scenario itself is.
	phaseFixed := map[string]bool{}
	for _, sc := range all {
		phaseFixed[sc.Name] = sc.Expect.Phase != ""
	}
	judged := func(name string, rep *client.Report) outcome {
		o := outcome{Diagnosis: rep.Diagnosis.Code}
		if phaseFixed[name] {
			o.Phase = rep.Diagnosis.Phase
		}
		return o
	}
	var replays []*scenarios.Scenario
	for _, r := range first {
		if r.Report == nil {
			t.Errorf("%s: no report: %v", r.Scenario, r.Err)
			continue
		}
		b, err := json.Marshal(r.Report)
		if err != nil {
			t.Fatal(err)
		}
		var back client.Report
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		src, err := replay.FromReport(&back)
		if err != nil {
			t.Errorf("%s: FromReport: %v", r.Scenario, err)
			continue
		}
		sc, err := scenarios.Parse(r.Scenario+".replay.toml", src, nil)
		if err != nil {
			t.Errorf("%s: the replay does not parse: %v\n%s", r.Scenario, err, src)
			continue
		}
		sc.Name = r.Scenario // results are named after the original
		want[r.Scenario] = judged(r.Scenario, r.Report)
		replays = append(replays, sc)
	}
	second, err := Run(ctx, replays, Options{Parallel: len(replays)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range second {
		t.Run(r.Scenario, func(t *testing.T) {
			var got outcome
			if r.Report != nil {
				got = judged(r.Scenario, r.Report)
			}
			diff := cmp.Diff(want[r.Scenario], got)
			why, excepted := roundTripExceptions[r.Scenario]
			switch {
			case excepted && diff == "":
				t.Errorf("listed as an exception (%s), but it round-trips now: take it off the list", why)
			case !excepted && diff != "":
				t.Errorf("the replay differs (-original +replay):\n%s\nerr: %v\nreplay transcript tail:\n%s", diff, r.Err, transcriptTail(r))
			}
		})
	}
}
