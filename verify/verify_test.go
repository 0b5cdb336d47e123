package verify

import (
	"context"
	"strings"
	"testing"

	"github.com/imapfault/imapfault/scenarios"
)

// TestBuiltinScenarios is `imapfault verify` as go test subtests: every
// built-in scenario has a subtest named after its file. The scenarios run
// all at once first, since they mostly wait on timers and t.Parallel would
// hold them to GOMAXPROCS at a time.
func TestBuiltinScenarios(t *testing.T) {
	all, err := scenarios.All()
	if err != nil {
		t.Fatal(err)
	}
	results, err := Run(context.Background(), all, Options{Parallel: len(all)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		t.Run(r.Scenario, func(t *testing.T) {
			if r.Err != nil {
				t.Fatalf("%s: %v", r.Source, r.Err)
			}
			if !r.Pass {
				t.Errorf("%s: expect (-want +got):\n%s\nevidence: %s\ntester transcript tail:\n%s", r.Source, r.Diff, r.Report.Diagnosis.Evidence, transcriptTail(r))
			}
		})
	}
}

func transcriptTail(r Result) string {
	var lines []string
	tr := r.Report.Transcript
	if len(tr) > 10 {
		tr = tr[len(tr)-10:]
	}
	for _, e := range tr {
		lines = append(lines, "  "+e.Dir+" "+e.Text)
	}
	return strings.Join(lines, "\n")
}

// TestWrongExpectationFails: a scenario whose [expect] is wrong must fail
// with a diff that names what was expected and what was found.
func TestWrongExpectationFails(t *testing.T) {
	src, err := scenarios.Source("login-rejected")
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(src), `diagnosis = "auth.failed"`, `diagnosis = "auth.expired"`, 1)
	if _, err := scenarios.Parse("wrong.toml", []byte(wrong), nil); err == nil {
		t.Fatal("the copy should not parse without its message folder")
	}
	wrong = strings.Replace(wrong, `files = ["messages/0[1-4]-*.eml"]`, "", 1)
	sc, err := scenarios.Parse("wrong.toml", []byte(wrong), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := One(context.Background(), sc, Options{})
	if r.Pass || r.Err != nil {
		t.Fatalf("One() = pass %v, err %v; want a failure", r.Pass, r.Err)
	}
	for _, want := range []string{`-`, `"auth.expired"`, `+`, `"auth.failed"`} {
		if !strings.Contains(r.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, r.Diff)
		}
	}
}

func TestCheckCodes(t *testing.T) {
	sc, err := scenarios.Parse("typo.toml", []byte("name = \"typo\"\n[expect]\ndiagnosis = \"auth.faild\"\nwarnings = [\"auth.slow\"]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckCodes(sc); err == nil || !strings.Contains(err.Error(), "names auth.faild, which the tester never reports") {
		t.Errorf("CheckCodes() = %v", err)
	}
	if r := One(context.Background(), sc, Options{}); r.Err == nil || r.Pass {
		t.Errorf("One() with a typo = pass %v, err %v; want an error", r.Pass, r.Err)
	}
}

// TestGoBuiltScenario: a scenario built in Go, never validated, is
// verified like a file: its [client] and [expect] take their defaults
// (trust the run's CA, expect ok) instead of dereferencing nil.
func TestGoBuiltScenario(t *testing.T) {
	sc := &scenarios.Scenario{
		Name:   "go-built",
		Server: scenarios.Server{TLS: scenarios.TLSImplicit},
		Users:  []scenarios.User{{Name: "alice", Password: "pw", Mailboxes: []scenarios.Mailbox{{Name: "INBOX"}}}},
	}
	r := One(context.Background(), sc, Options{})
	if r.Err != nil || !r.Pass {
		t.Fatalf("One() = pass %v, err %v, diff:\n%s", r.Pass, r.Err, r.Diff)
	}
}

// TestPhaseTimeoutBoundsOnlyItsPhase: a scenario's short deadline for the
// phase it tests leaves the other phases their generous default. Here the
// TLS handshake is slow, as on a loaded machine under the race detector,
// and only the greeting must time out; with one 1s timeout for every
// phase the handshake failed first (tls.handshake_failed), which made
// the built-in scenarios fail under load.
func TestPhaseTimeoutBoundsOnlyItsPhase(t *testing.T) {
	src := `name = "slow-handshake-silent-greeting"
[server]
tls = "implicit"
[[users]]
name = "alice"
password = "pw"
[[faults]]
delay = "1500ms"
[[faults]]
when = { phase = "greeting" }
stall = true
[client]
timeouts = { greeting = "1s" }
[expect]
diagnosis = "greeting.timeout"
phase = "greeting"
`
	sc, err := scenarios.Parse("slow.toml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := One(context.Background(), sc, Options{})
	if r.Err != nil || !r.Pass {
		t.Fatalf("One() = pass %v, err %v, diff:\n%s", r.Pass, r.Err, r.Diff)
	}
}
