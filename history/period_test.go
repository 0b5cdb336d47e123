package history

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	one20 := ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
	tests := []struct {
		values []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 95, 7 * time.Millisecond},
		{ms(1, 2), 50, time.Millisecond}, // the lower middle
		{ms(1, 2, 3), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 95, 10 * time.Millisecond},
		{one20, 95, 19 * time.Millisecond}, // rank ceil(0.95*20) = 19
		{one20, 50, 10 * time.Millisecond},
		{one20, 100, 20 * time.Millisecond},
		{one20, 0, time.Millisecond},
	}
	for _, tt := range tests {
		if got := Percentile(tt.values, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.values, tt.p, got, tt.want)
		}
	}
}

// withSteps gives a result steps of the given milliseconds; a negative
// value is a failed step.
func withSteps(r Result, steps ...struct {
	phase string
	ms    int
}) Result {
	r.Steps = nil
	for _, s := range steps {
		d := time.Duration(max(s.ms, -s.ms)) * time.Millisecond
		r.Steps = append(r.Steps, Step{Phase: s.phase, Duration: d, OK: s.ms > 0})
	}
	return r
}

type ps = struct {
	phase string
	ms    int
}

func TestDailyLatency(t *testing.T) {
	day := 24 * 60.0 // minutes
	results := []Result{
		withSteps(res(0, "ok", 100), ps{"connect", 10}, ps{"capability", 1}, ps{"capability", 3}),
		withSteps(res(1, "ok", 300), ps{"connect", 30}, ps{"capability", 2}, ps{"capability", 5}),
		withSteps(res(2, "ok", 200), ps{"connect", 20}, ps{"capability", 1}, ps{"capability", 4}),
		// Failed: its connect time is a deadline, and its total is no latency.
		withSteps(res(3, "tcp.timeout", 10000), ps{"connect", -10000}),
		withSteps(res(day, "ok", 50), ps{"connect", 5}),
		// Outside the period.
		withSteps(res(2*day, "ok", 1), ps{"connect", 1}),
		of("b", withSteps(res(5, "ok", 70), ps{"connect", 7})),
	}
	d0, d1 := t0, t0.Add(24*time.Hour)
	msd := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	want := []Latency{
		{Target: "a", Step: "connect", Day: d0, Checks: 3, Median: msd(20), P95: msd(30)},
		{Target: "a", Step: "connect", Day: d1, Checks: 1, Median: msd(5), P95: msd(5)},
		{Target: "a", Step: "capability", Day: d0, Checks: 3, Median: msd(1), P95: msd(2)},
		{Target: "a", Step: "capability (2)", Day: d0, Checks: 3, Median: msd(4), P95: msd(5)},
		{Target: "a", Step: TotalStep, Day: d0, Checks: 3, Median: msd(200), P95: msd(300)},
		{Target: "a", Step: TotalStep, Day: d1, Checks: 1, Median: msd(50), P95: msd(50)},
		{Target: "b", Step: "connect", Day: d0, Checks: 1, Median: msd(7), P95: msd(7)},
		{Target: "b", Step: TotalStep, Day: d0, Checks: 1, Median: msd(70), P95: msd(70)},
	}
	got := DailyLatency(results, t0, t0.Add(48*time.Hour))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DailyLatency (-want +got):\n%s", diff)
	}
}

func TestTimeline(t *testing.T) {
	// Up for 2 minutes, down for 2, then silent (the monitor stopped: a
	// result stands for two intervals at most), then up again.
	results := []Result{res(0, "ok", 1), res(1, "ok", 1), res(2, "auth.failed", 1), res(3, "auth.failed", 1),
		res(8, "ok", 1), res(9, "ok", 1), of("b", res(0, "tcp.refused", 1))}
	got := Timeline(results, "a", at(0), at(10), 5)
	m := func(v float64) time.Duration { return time.Duration(v * float64(time.Minute)) }
	want := []Slot{
		{From: at(0), To: at(2), UpTime: m(2)},
		{From: at(2), To: at(4), DownTime: m(2)},
		{From: at(4), To: at(6), DownTime: m(1), Unmonitored: m(1)}, // the last failure stands until 5
		{From: at(6), To: at(8), Unmonitored: m(2)},
		{From: at(8), To: at(10), UpTime: m(2)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Timeline (-want +got):\n%s", diff)
	}
	// The slots add up to what Summarize says of the whole period.
	s := Summarize(results, at(0), at(10), 0)[0]
	var up, down time.Duration
	for _, sl := range got {
		up, down = up+sl.UpTime, down+sl.DownTime
	}
	if up != s.UpTime || down != s.DownTime {
		t.Errorf("slots add up to %v up, %v down; Summarize says %v, %v", up, down, s.UpTime, s.DownTime)
	}
	if got := Timeline(results, "nobody", at(0), at(10), 2); got[0].Unmonitored != m(5) || got[1].Unmonitored != m(5) {
		t.Errorf("Timeline of a target without results = %+v, want all unmonitored", got)
	}
}

func TestCertificates(t *testing.T) {
	exp1, exp2 := t0.AddDate(0, 0, 20), t0.AddDate(0, 3, 0)
	withCert := func(r Result, exp time.Time) Result { r.CertExpiry = exp; return r }
	results := []Result{
		withCert(res(0, "ok", 1), exp1), withCert(res(1, "ok", 1), exp1),
		withCert(res(2, "ok", 1), exp2), // renewed
		res(3, "tcp.refused", 1),        // no TLS reached
		withCert(res(4, "ok", 1), exp2),
		withCert(res(-1, "ok", 1), exp1), // before the period
	}
	want := []CertSeen{
		{Target: "a", NotAfter: exp1, First: at(0), Last: at(1), Checks: 2},
		{Target: "a", NotAfter: exp2, First: at(2), Last: at(4), Checks: 2},
	}
	if diff := cmp.Diff(want, Certificates(results, at(0), at(10))); diff != "" {
		t.Errorf("Certificates (-want +got):\n%s", diff)
	}
}

func TestStepNames(t *testing.T) {
	got := StepNames([]Step{{Phase: "capability"}, {Phase: "tls"}, {Phase: "capability"}, {Phase: "capability"}})
	if diff := cmp.Diff([]string{"capability", "tls", "capability (2)", "capability (3)"}, got); diff != "" {
		t.Errorf("StepNames (-want +got):\n%s", diff)
	}
}
