package history

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/imapfault/imapfault/status"
)

// t0 is the start of every test period.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// at returns t0 plus minutes.
func at(min float64) time.Time { return t0.Add(time.Duration(min * float64(time.Minute))) }

// res is a result of target "a" checked every minute, at t0+min, that took
// ms milliseconds; any code but ok is critical, "check.canceled" unknown.
func res(min float64, code string, ms int) Result {
	r := Result{Target: "a", Time: at(min), Duration: time.Duration(ms) * time.Millisecond, Interval: time.Minute,
		State: status.OK, Code: code, Phase: "logout", Evidence: "every step passed", Warnings: []Warning{}, Steps: []Step{}}
	switch code {
	case "ok":
	case "check.canceled":
		r.State, r.Phase, r.Evidence = status.Unknown, "auth", "interrupted"
	default:
		r.State, r.Phase, r.Evidence = status.Critical, "auth", "evidence of "+code
	}
	return r
}

func of(target string, r Result) Result { r.Target = target; return r }

func TestSummarize(t *testing.T) {
	tests := []struct {
		name     string
		results  []Result
		from, to time.Time
		slowest  int
		want     []Summary
	}{
		{
			name:    "no results",
			results: nil, from: at(0), to: at(4),
			want: nil,
		},
		{
			name:    "always up",
			results: []Result{res(0, "ok", 10), res(1, "ok", 10), res(2, "ok", 10), res(3, "ok", 10)},
			from:    at(0), to: at(4),
			want: []Summary{{Target: "a", From: at(0), To: at(4), Checks: 4, Up: 4, Availability: 1,
				UpTime: 4 * time.Minute, TimeAvailability: 1, Incidents: []Incident{}, Slowest: []Result{}}},
		},
		{
			name: "an incident inside the period, its diagnosis changing",
			results: []Result{res(0, "ok", 10), res(1, "auth.failed", 20), res(2, "tcp.refused", 30),
				res(3, "ok", 10)},
			from: at(0), to: at(4), slowest: 2,
			want: []Summary{{Target: "a", From: at(0), To: at(4), Checks: 4, Up: 2, Down: 2, Availability: 0.5,
				UpTime: 2 * time.Minute, DownTime: 2 * time.Minute, TimeAvailability: 0.5,
				Incidents: []Incident{{Target: "a", Start: at(1), End: at(3), Duration: 2 * time.Minute,
					Code: "auth.failed", Phase: "auth", Evidence: "evidence of auth.failed",
					Codes: []string{"auth.failed", "tcp.refused"}, Checks: 2}},
				Slowest: []Result{res(2, "tcp.refused", 30), res(1, "auth.failed", 20)}}},
		},
		{
			name: "an incident open when the period begins keeps its real start",
			results: []Result{res(-3, "ok", 10), res(-2, "auth.failed", 10), res(-1, "auth.failed", 10),
				res(1, "ok", 10)},
			from: at(0), to: at(2),
			want: []Summary{{Target: "a", From: at(0), To: at(2), Checks: 1, Up: 1, Availability: 1,
				UpTime: time.Minute, DownTime: time.Minute, TimeAvailability: 0.5,
				Incidents: []Incident{{Target: "a", Start: at(-2), End: at(1), Duration: 3 * time.Minute,
					Code: "auth.failed", Phase: "auth", Evidence: "evidence of auth.failed",
					Codes: []string{"auth.failed"}, Checks: 2}},
				Slowest: []Result{}}},
		},
		{
			name:    "an incident still open at the end lasts as long as its last check stands",
			results: []Result{res(0, "ok", 10), res(1, "conn.dropped", 10), res(2, "conn.dropped", 10)},
			from:    at(0), to: at(5),
			want: []Summary{{Target: "a", From: at(0), To: at(5), Checks: 3, Up: 1, Down: 2, Availability: 1.0 / 3,
				UpTime: time.Minute, DownTime: 3 * time.Minute, TimeAvailability: 0.25, Unmonitored: time.Minute,
				Incidents: []Incident{{Target: "a", Start: at(1), Open: true, Duration: 3 * time.Minute,
					Code: "conn.dropped", Phase: "auth", Evidence: "evidence of conn.dropped",
					Codes: []string{"conn.dropped"}, Checks: 2}},
				Slowest: []Result{}}},
		},
		{
			name:    "a stopped monitor leaves time unmonitored, not up",
			results: []Result{res(0, "ok", 10), res(10, "ok", 10)},
			from:    at(0), to: at(11),
			want: []Summary{{Target: "a", From: at(0), To: at(11), Checks: 2, Up: 2, Availability: 1,
				UpTime: 3 * time.Minute, TimeAvailability: 1, Unmonitored: 8 * time.Minute,
				Incidents: []Incident{}, Slowest: []Result{}}},
		},
		{
			name: "an unknown check neither ends nor starts an incident",
			results: []Result{res(0, "auth.failed", 10), res(1, "check.canceled", 10), res(2, "auth.failed", 10),
				res(3, "ok", 10)},
			from: at(0), to: at(4),
			want: []Summary{{Target: "a", From: at(0), To: at(4), Checks: 4, Up: 1, Down: 2, Unknown: 1,
				Availability: 1.0 / 3, UpTime: time.Minute, DownTime: 2 * time.Minute, TimeAvailability: 1.0 / 3,
				Unmonitored: time.Minute,
				Incidents: []Incident{{Target: "a", Start: at(0), End: at(3), Duration: 3 * time.Minute,
					Code: "auth.failed", Phase: "auth", Evidence: "evidence of auth.failed",
					Codes: []string{"auth.failed"}, Checks: 2}},
				Slowest: []Result{}}},
		},
		{
			name:    "an incident over before the period is not listed",
			results: []Result{res(-5, "tcp.refused", 10), res(-4, "ok", 10), res(0, "ok", 10)},
			from:    at(0), to: at(1),
			want: []Summary{{Target: "a", From: at(0), To: at(1), Checks: 1, Up: 1, Availability: 1,
				UpTime: time.Minute, TimeAvailability: 1, Incidents: []Incident{}, Slowest: []Result{}}},
		},
		{
			name:    "targets apart, sorted, unsorted input",
			results: []Result{of("b", res(1, "ok", 5)), res(0, "ok", 7), of("b", res(0, "ok", 9))},
			from:    at(0), to: at(2), slowest: 5,
			want: []Summary{
				{Target: "a", From: at(0), To: at(2), Checks: 1, Up: 1, Availability: 1,
					UpTime: 2 * time.Minute, TimeAvailability: 1, Incidents: []Incident{}, Slowest: []Result{res(0, "ok", 7)}},
				{Target: "b", From: at(0), To: at(2), Checks: 2, Up: 2, Availability: 1,
					UpTime: 2 * time.Minute, TimeAvailability: 1, Incidents: []Incident{},
					Slowest: []Result{of("b", res(0, "ok", 9)), of("b", res(1, "ok", 5))}},
			},
		},
		{
			name:    "open bounds take the results' own span",
			results: []Result{res(2, "ok", 10), res(3, "tcp.refused", 10)},
			want: []Summary{{Target: "a", From: at(2), To: at(5), Checks: 2, Up: 1, Down: 1, Availability: 0.5,
				UpTime: time.Minute, DownTime: 2 * time.Minute, TimeAvailability: 1.0 / 3,
				Incidents: []Incident{{Target: "a", Start: at(3), Open: true, Duration: 2 * time.Minute,
					Code: "tcp.refused", Phase: "auth", Evidence: "evidence of tcp.refused",
					Codes: []string{"tcp.refused"}, Checks: 1}},
				Slowest: []Result{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.results, tt.from, tt.to, tt.slowest)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("Summarize() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSummaryJSON(t *testing.T) {
	s := Summarize([]Result{res(0, "check.canceled", 1500)}, at(0), at(1), 0)
	b, err := s[0].MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"availability":null`, `"time_availability":null`, `"unmonitored_ms":60000`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("Summary JSON %s lacks %s", b, want)
		}
	}
}
