package client

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestReportJSONRoundTrip: a report written as JSON reads back whole,
// durations included (they were lost: the JSON gives them in ms under
// other names).
func TestReportJSONRoundTrip(t *testing.T) {
	want := Report{
		Target:      "imap.example.com:993",
		Started:     time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC),
		Duration:    1234567891 * time.Nanosecond,
		FlagLatency: 42 * time.Millisecond,
		Steps:       []Step{{Phase: "greeting", Duration: 1500 * time.Microsecond, OK: true}},
		Diagnosis:   Diagnosis{Code: "ok", Phase: "logout"},
		Transcript:  []Event{{Elapsed: 3*time.Second + 7, Session: 1, Dir: "<-", Text: "* OK ready"}},
	}
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got Report
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
}
