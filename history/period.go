package history

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

// The figures an audit report draws beside Summarize's: the state over
// time in slots (Timeline), each step's daily median and 95th percentile
// (DailyLatency), and the certificate expiry dates seen (Certificates).
// Like Summarize they take the results of DB.Period in any order.

// Slot is one stretch of a target's timeline and how its time was spent,
// by Summarize's definition of up and down time.
type Slot struct {
	From, To    time.Time
	UpTime      time.Duration
	DownTime    time.Duration
	Unmonitored time.Duration
}

// Timeline cuts [from, to) into n equal slots and summarizes target's
// results over each: a strip chart of the period in n pieces.
func Timeline(results []Result, target string, from, to time.Time, n int) []Slot {
	if n <= 0 || !to.After(from) {
		return nil
	}
	rs := sortedOf(results, target)
	width := to.Sub(from) / time.Duration(n)
	out := make([]Slot, n)
	for k := range out {
		sf, st := from.Add(time.Duration(k)*width), from.Add(time.Duration(k+1)*width)
		if k == n-1 {
			st = to
		}
		out[k] = Slot{From: sf, To: st, Unmonitored: st.Sub(sf)}
		// The slot needs its own results and the last one before it, which
		// stands for the slot's start.
		i, _ := slices.BinarySearchFunc(rs, sf, func(r Result, t time.Time) int { return r.Time.Compare(t) })
		j, _ := slices.BinarySearchFunc(rs, st, func(r Result, t time.Time) int { return r.Time.Compare(t) })
		if j == 0 {
			continue
		}
		s := summarizeTarget(rs[max(i-1, 0):j], sf, st, 0)
		out[k].UpTime, out[k].DownTime, out[k].Unmonitored = s.UpTime, s.DownTime, s.Unmonitored
	}
	return out
}

// Latency is how long one step took on one day (UTC): the median and the
// 95th percentile over the checks in which it passed. Step "total" is the
// whole check, over the checks that were up.
type Latency struct {
	Target string        `json:"target"`
	Step   string        `json:"step"`
	Day    time.Time     `json:"day"`
	Checks int           `json:"checks"`
	Median time.Duration `json:"-"`
	P95    time.Duration `json:"-"`
}

// MarshalJSON gives the times in milliseconds, as Result does.
func (l Latency) MarshalJSON() ([]byte, error) {
	type plain Latency
	return json.Marshal(struct {
		plain
		MedianMS float64 `json:"median_ms"`
		P95MS    float64 `json:"p95_ms"`
	}{plain(l), ms(l.Median), ms(l.P95)})
}

// TotalStep names the whole check in DailyLatency.
const TotalStep = "total"

// DailyLatency computes each target's Latency per step per day over the
// results that started in [from, to). Failed steps are left out: a
// timeout measures the deadline, not the server. A phase walked twice
// (capability before and after STARTTLS) is two steps, the second named
// "capability (2)". Results come by target, then step in the order of the
// walk with TotalStep last, then day.
func DailyLatency(results []Result, from, to time.Time) []Latency {
	type key struct {
		target, step string
		day          time.Time
	}
	samples := map[key][]time.Duration{}
	order := map[string]int{} // step name -> first position seen in a walk
	for _, r := range results {
		if r.Time.Before(from) || !r.Time.Before(to) {
			continue
		}
		day := r.Time.UTC().Truncate(24 * time.Hour)
		for i, name := range StepNames(r.Steps) {
			if _, ok := order[name]; !ok {
				order[name] = i
			}
			if r.Steps[i].OK {
				k := key{r.Target, name, day}
				samples[k] = append(samples[k], r.Steps[i].Duration)
			}
		}
		if r.State.Up() {
			k := key{r.Target, TotalStep, day}
			samples[k] = append(samples[k], r.Duration)
		}
	}
	order[TotalStep] = math.MaxInt
	out := make([]Latency, 0, len(samples))
	for k, ds := range samples {
		slices.Sort(ds)
		out = append(out, Latency{Target: k.target, Step: k.step, Day: k.day, Checks: len(ds),
			Median: Percentile(ds, 50), P95: Percentile(ds, 95)})
	}
	slices.SortFunc(out, func(a, b Latency) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), cmp.Compare(order[a.Step], order[b.Step]),
			cmp.Compare(a.Step, b.Step), a.Day.Compare(b.Day))
	})
	return out
}

// StepNames names a check's steps for per-step figures: the phase, and
// for a phase's second and later runs in one check "phase (n)".
func StepNames(steps []Step) []string {
	seen := map[string]int{}
	out := make([]string, len(steps))
	for i, s := range steps {
		seen[s.Phase]++
		out[i] = s.Phase
		if n := seen[s.Phase]; n > 1 {
			out[i] = fmt.Sprintf("%s (%d)", s.Phase, n)
		}
	}
	return out
}

// Percentile returns the p-th percentile of sorted by the nearest-rank
// method: the smallest value that at least p percent of the values do not
// exceed. It is always one of the values (the median of an even count is
// the lower middle one); zero for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// CertSeen is one certificate expiry date a target presented over a
// period, and when it was seen.
type CertSeen struct {
	Target   string    `json:"target"`
	NotAfter time.Time `json:"not_after"`
	First    time.Time `json:"first_seen"`
	Last     time.Time `json:"last_seen"`
	Checks   int       `json:"checks"`
}

// Certificates lists the certificate expiry dates each target presented
// in the results that started in [from, to): by target, then first seen.
func Certificates(results []Result, from, to time.Time) []CertSeen {
	type key struct {
		target string
		at     time.Time
	}
	seen := map[key]*CertSeen{}
	for _, r := range results {
		if r.CertExpiry.IsZero() || r.Time.Before(from) || !r.Time.Before(to) {
			continue
		}
		k := key{r.Target, r.CertExpiry}
		c, ok := seen[k]
		if !ok {
			c = &CertSeen{Target: r.Target, NotAfter: r.CertExpiry, First: r.Time, Last: r.Time}
			seen[k] = c
		}
		c.Checks++
		if r.Time.Before(c.First) {
			c.First = r.Time
		}
		if r.Time.After(c.Last) {
			c.Last = r.Time
		}
	}
	out := make([]CertSeen, 0, len(seen))
	for _, c := range seen {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b CertSeen) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), a.First.Compare(b.First), a.NotAfter.Compare(b.NotAfter))
	})
	return out
}

// sortedOf returns target's results sorted by time: results themselves
// when they already are (a monitor's recent results of one target), else
// a sorted copy.
func sortedOf(results []Result, target string) []Result {
	mine := true
	for i, r := range results {
		if r.Target != target || i > 0 && r.Time.Before(results[i-1].Time) {
			mine = false
			break
		}
	}
	if mine {
		return results
	}
	var rs []Result
	for _, r := range results {
		if r.Target == target {
			rs = append(rs, r)
		}
	}
	slices.SortStableFunc(rs, func(a, b Result) int { return a.Time.Compare(b.Time) })
	return rs
}
