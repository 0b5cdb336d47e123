package history

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/status"
)

// fixed is a history of two targets around the period [at(0), at(6)).
func fixed() []Result {
	rs := []Result{
		res(-3, "ok", 10), res(-2, "auth.failed", 10), res(-1, "auth.failed", 10), res(0, "auth.failed", 40),
		res(1, "ok", 10), res(2, "ok", 12), res(3, "tcp.refused", 90), res(4, "ok", 10), res(5, "ok", 10),
		res(6, "ok", 500), // after the period
		of("b", res(0, "ok", 3)), of("b", res(3, "ok", 4)),
	}
	rs[2].Warnings = []Warning{{Code: "auth.slow", Phase: "auth", Evidence: "took 3s"}}
	rs[4].Steps = []Step{{Phase: "connect", Duration: 1500 * time.Microsecond, OK: true}, {Phase: "auth", Duration: time.Second}}
	rs[5].Transcript = "   0.001s 1 <- * OK ready\n"
	rs[5].CertExpiry = at(90 * 24 * 60)
	return rs
}

func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "history.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestRecordAndQuery(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	for i, r := range fixed() {
		if err := db.Record(ctx, r, []byte{byte(i)}); err != nil {
			t.Fatalf("Record(%d): %v", i, err)
		}
	}
	var mode string
	if err := db.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	// Reopened, the database holds everything recorded.
	db.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	defer db.Close()

	all, err := db.Results(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sorted(fixed()), all, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Results() mismatch (-want +got):\n%s", diff)
	}
	got, err := db.Results(ctx, Query{Target: "a", From: at(1), To: at(3)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fixed()[4:6], got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Results(a, [1,3)) mismatch (-want +got):\n%s", diff)
	}

	// Summary reads what the period needs from before it: the open
	// incident's start at -2.
	sums, err := db.Summary(ctx, Query{From: at(0), To: at(6)}, 2)
	if err != nil {
		t.Fatal(err)
	}
	wantSums := Summarize(fixed(), at(0), at(6), 2)
	if diff := cmp.Diff(wantSums, sums, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Summary() mismatch (-want +got):\n%s", diff)
	}
	if len(sums) != 2 || len(sums[0].Incidents) != 2 || !sums[0].Incidents[0].Start.Equal(at(-2)) {
		t.Fatalf("Summary() = %+v; want two incidents of a, the first from -2m", sums)
	}

	states, err := db.States(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]byte{"a": {9}, "b": {11}}, states); diff != "" {
		t.Errorf("States() mismatch (-want +got):\n%s", diff)
	}

	n, err := db.Prune(ctx, at(0))
	if err != nil || n != 3 {
		t.Errorf("Prune(at 0) = %d, %v; want 3", n, err)
	}
	targets, err := db.Targets(ctx)
	if err != nil || !cmp.Equal(targets, []string{"a", "b"}) {
		t.Errorf("Targets() = %v, %v", targets, err)
	}
}

func sorted(rs []Result) []Result {
	var a, b []Result
	for _, r := range rs {
		if r.Target == "a" {
			a = append(a, r)
		} else {
			b = append(b, r)
		}
	}
	return append(a, b...)
}

func TestRecordRejectsNoTarget(t *testing.T) {
	db, _ := openTemp(t)
	if err := db.Record(context.Background(), Result{}, nil); err == nil {
		t.Error("Record(no target) = nil, want an error")
	}
}

func TestFromReport(t *testing.T) {
	rep := &client.Report{
		Started: at(0), Duration: 2 * time.Second,
		Steps:      []client.Step{{Phase: "connect", Duration: time.Millisecond, OK: true, Detail: "connected"}},
		Diagnosis:  client.Diagnosis{Code: "auth.failed", Phase: "auth", Evidence: "a1 NO", Advice: "check it"},
		Warnings:   []client.Diagnosis{{Code: "auth.slow", Phase: "auth", Evidence: "3s", Advice: "x"}},
		Transcript: []client.Event{{Elapsed: time.Millisecond, Session: 1, Dir: "->", Text: "a1 LOGIN alice ********"}},
	}
	want := Result{Target: "acme", Time: at(0), Duration: 2 * time.Second, Interval: time.Minute, State: status.Critical,
		Code: "auth.failed", Phase: "auth", Evidence: "a1 NO",
		Warnings: []Warning{{Code: "auth.slow", Phase: "auth", Evidence: "3s"}},
		Steps:    []Step{{Phase: "connect", Duration: time.Millisecond, OK: true}}}
	if diff := cmp.Diff(want, FromReport("acme", time.Minute, status.Critical, rep, false)); diff != "" {
		t.Errorf("FromReport() mismatch (-want +got):\n%s", diff)
	}
	want.Transcript = "   0.001s 1 -> a1 LOGIN alice ********\n"
	if diff := cmp.Diff(want, FromReport("acme", time.Minute, status.Critical, rep, true)); diff != "" {
		t.Errorf("FromReport(with transcript) mismatch (-want +got):\n%s", diff)
	}
	rep.TLS = &client.TLSInfo{NotAfter: at(60).In(time.FixedZone("CET", 3600))}
	if got := FromReport("acme", time.Minute, status.Critical, rep, false).CertExpiry; !got.Equal(at(60)) || got.Location() != time.UTC {
		t.Errorf("FromReport(with TLS).CertExpiry = %v, want %v in UTC", got, at(60))
	}
}
