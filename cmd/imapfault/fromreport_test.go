package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapfault/imapfault/scenarios"
)

// TestScenariosFromReport: from-report turns a check --json report into a
// scenario that loads, and refuses what is not a report with a hint.
func TestScenariosFromReport(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report.json")
	os.WriteFile(report, []byte(`{"target": "imap.acme.example:993", "tls_mode": "implicit", "user": "bob",
		"diagnosis": {"code": "auth.failed", "phase": "auth"},
		"transcript": [
			{"session": 1, "dir": "==", "text": "connected to 192.0.2.1:993 (IPv4)", "elapsed_ms": 10},
			{"session": 1, "dir": "<~", "text": "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Acme ready", "elapsed_ms": 2010},
			{"session": 1, "dir": "~>", "text": "a1 LOGIN bob ********", "elapsed_ms": 2011},
			{"session": 1, "dir": "<~", "text": "a1 NO [AUTHENTICATIONFAILED] Invalid credentials", "elapsed_ms": 2012}
		]}`), 0o644)
	r := runCmd(t, nil, "scenarios", "from-report", report)
	if r.code != exitOK {
		t.Fatalf("from-report = %d, stderr %q", r.code, r.stderr)
	}
	sc, err := scenarios.Parse("acme.toml", []byte(r.stdout), nil)
	if err != nil {
		t.Fatalf("the scenario does not load: %v\n%s", err, r.stdout)
	}
	if sc.Replay.Delay.String() != "2s" || len(sc.Replay.Steps) != 1 || sc.Replay.Steps[0].Status != "NO [AUTHENTICATIONFAILED] Invalid credentials" {
		t.Errorf("replay %+v; want the 2s greeting delay and the LOGIN refusal", sc.Replay)
	}

	os.WriteFile(report, []byte(`{"not": "a report"`), 0o644)
	if r := runCmd(t, nil, "scenarios", "from-report", report); r.code != exitUsage || !strings.Contains(r.stderr, "imapfault check --json") {
		t.Errorf("broken JSON: %d, stderr %q; want a usage error with a hint", r.code, r.stderr)
	}
}
