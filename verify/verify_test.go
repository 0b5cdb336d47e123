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
	if err := CheckCodes(sc); err == nil || !strings.HasPrefix(err.Error(), `typo.toml:3: expect.diagnosis: "auth.faild" is a code the tester never reports: did you mean auth.failed? (known: `) {
		t.Errorf("CheckCodes() = %v", err)
	}
	if r := One(context.Background(), sc, Options{}); r.Err == nil || r.Pass {
		t.Errorf("One() with a typo = pass %v, err %v; want an error", r.Pass, r.Err)
	}
}

// TestEmptyWarningsMeanNone: "warnings = []" in [expect], as the docs'
// example writes it, means what no list means; it used to FAIL with
// "expected auth.failed got auth.failed".
func TestEmptyWarningsMeanNone(t *testing.T) {
	src := "name = \"mine\"\n[[users]]\nname = \"alice\"\npassword = \"pw\"\n" +
		"[[faults]]\nwhen = { command = \"LOGIN\" }\nrespond = \"NO [AUTHENTICATIONFAILED] no\"\n" +
		"[expect]\ndiagnosis = \"auth.failed\"\nwarnings = []\nabsent = []\n"
	sc, err := scenarios.Parse("mine.toml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := One(context.Background(), sc, Options{}); !r.Pass {
		t.Errorf("One() = pass %v, err %v, diff:\n%s", r.Pass, r.Err, r.Diff)
	}
}

func TestMismatch(t *testing.T) {
	base := Outcome{Diagnosis: "auth.failed", Phase: "auth"}
	with := func(f func(o *Outcome)) Outcome { o := base; f(&o); return o }
	tests := []struct {
		name        string
		want, got   Outcome
		wantT, gotT string
	}{
		{"equal", base, base, "", ""},
		{"diagnosis", base, with(func(o *Outcome) { o.Diagnosis = "auth.expired" }), "auth.failed", "auth.expired"},
		{"phase", base, with(func(o *Outcome) { o.Phase = "greeting" }), "phase auth", "phase greeting"},
		{"warnings", with(func(o *Outcome) { o.Warnings = []string{"auth.slow"} }), base, "warnings [auth.slow]", "warnings []"},
		{"absent", base, with(func(o *Outcome) { o.Forbidden = []string{"auth.slow"} }), "absent [auth.slow]", "reported [auth.slow]"},
		{"durations",
			with(func(o *Outcome) { o.Durations = map[string]string{"auth": withinBounds, "connect": withinBounds} }),
			with(func(o *Outcome) {
				o.Durations = map[string]string{"auth": withinBounds, "connect": "took 3s, want 0s..1s"}
			}),
			"connect within bounds", "connect took 3s, want 0s..1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, g := Mismatch(tt.want, tt.got)
			if w != tt.wantT || g != tt.gotT {
				t.Errorf("Mismatch() = %q, %q; want %q, %q", w, g, tt.wantT, tt.gotT)
			}
			if w != "" && w == g {
				t.Errorf("Mismatch() shows two equal values %q", w)
			}
		})
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
