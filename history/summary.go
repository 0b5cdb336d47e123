package history

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/imapfault/imapfault/status"
)

// Summary answers the audit questions for one target over a period.
type Summary struct {
	Target  string    `json:"target"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Checks  int       `json:"checks"` // results that started in the period
	Up      int       `json:"up"`     // of them ok or warning
	Down    int       `json:"down"`   // critical
	Unknown int       `json:"unknown"`
	// Availability is Up/(Up+Down): the share of judged checks that
	// passed. Meaningless (and null in JSON) when Up+Down is 0.
	Availability float64 `json:"availability"`
	// UpTime and DownTime are how long the target was up or down: each
	// result stands for the time until the next one (at most two of its
	// intervals), clipped to the period. TimeAvailability is
	// UpTime/(UpTime+DownTime), null in JSON when both are 0.
	UpTime           time.Duration `json:"-"`
	DownTime         time.Duration `json:"-"`
	TimeAvailability float64       `json:"time_availability"`
	// Unmonitored is the part of the period no up or down result stands
	// for: before the first check, while the monitor was stopped, or
	// while checks could not judge.
	Unmonitored time.Duration `json:"-"`
	Incidents   []Incident    `json:"incidents"` // those that overlap the period, oldest first
	Slowest     []Result      `json:"slowest"`   // the slowest checks of the period, slowest first
}

// Incident is a run of failing (critical) checks of one target, from the
// first failing check to the first passing one after it.
type Incident struct {
	Target string    `json:"target"`
	Start  time.Time `json:"start"` // the first failing check
	End    time.Time `json:"end"`   // the first passing check after it; zero while open
	Open   bool      `json:"open"`  // no passing check has followed yet
	// Duration is End-Start, or, while open, up to the end of what the
	// last failing check stands for (clipped to the period).
	Duration time.Duration `json:"-"`
	Code     string        `json:"code"` // the first failing check's diagnosis
	Phase    string        `json:"phase"`
	Evidence string        `json:"evidence"`
	Codes    []string      `json:"codes"`  // every diagnosis seen during it, in order of first sight
	Checks   int           `json:"checks"` // failing checks in it
}

// MarshalJSON gives durations in milliseconds and writes null for
// availabilities that nothing was judged on.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	ratio := func(ok bool, v float64) *float64 {
		if !ok {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		plain
		Availability     *float64 `json:"availability"`
		TimeAvailability *float64 `json:"time_availability"`
		UpTimeMS         float64  `json:"up_time_ms"`
		DownTimeMS       float64  `json:"down_time_ms"`
		UnmonitoredMS    float64  `json:"unmonitored_ms"`
	}{plain(s), ratio(s.Up+s.Down > 0, s.Availability), ratio(s.UpTime+s.DownTime > 0, s.TimeAvailability),
		ms(s.UpTime), ms(s.DownTime), ms(s.Unmonitored)})
}

// MarshalJSON gives the duration in milliseconds and a null end while open.
func (in Incident) MarshalJSON() ([]byte, error) {
	type plain Incident
	var end *time.Time
	if !in.Open {
		end = &in.End
	}
	return json.Marshal(struct {
		plain
		End        *time.Time `json:"end"`
		DurationMS float64    `json:"duration_ms"`
	}{plain(in), end, ms(in.Duration)})
}

// Summarize computes each target's Summary over [from, to) from its
// results, which may be in any order and may start before from (the state
// at from, and the start of an incident open at from, come from them). A
// zero from starts the period at a target's first result; a zero to ends
// it where its last result stops standing. slowest is how many of the
// slowest checks to list. Summaries come sorted by target.
//
// This is the one place availability and incidents are defined: the
// history command, the report and the dashboard all use it.
func Summarize(results []Result, from, to time.Time, slowest int) []Summary {
	rs := slices.Clone(results)
	slices.SortStableFunc(rs, func(a, b Result) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), a.Time.Compare(b.Time))
	})
	var out []Summary
	for len(rs) > 0 {
		n := 1
		for n < len(rs) && rs[n].Target == rs[0].Target {
			n++
		}
		out = append(out, summarizeTarget(rs[:n], from, to, slowest))
		rs = rs[n:]
	}
	return out
}

// summarizeTarget summarizes one target's results, sorted by time.
func summarizeTarget(rs []Result, from, to time.Time, slowest int) Summary {
	if from.IsZero() {
		from = rs[0].Time
	}
	if to.IsZero() {
		last := rs[len(rs)-1]
		to = last.Time.Add(2 * last.Interval)
	}
	s := Summary{Target: rs[0].Target, From: from, To: to, Incidents: []Incident{}, Slowest: []Result{}}
	var open *Incident
	for i, r := range rs {
		// What this result stands for: until the next result, at most two
		// intervals, clipped to the period.
		next := to
		if i+1 < len(rs) {
			next = rs[i+1].Time
		}
		until := standsUntil(r.Time, r.Interval, next)
		span := earlier(until, to).Sub(later(r.Time, from))
		span = max(span, 0)
		inPeriod := !r.Time.Before(from) && r.Time.Before(to)
		switch {
		case r.State.Up():
			s.UpTime += span
			if inPeriod {
				s.Up++
			}
			if open != nil {
				open.End, open.Open, open.Duration = r.Time, false, r.Time.Sub(open.Start)
				s.addIncident(*open, from)
				open = nil
			}
		case r.State == status.Critical:
			s.DownTime += span
			if inPeriod {
				s.Down++
			}
			if open == nil {
				open = &Incident{Target: r.Target, Start: r.Time, Open: true, Code: r.Code, Phase: r.Phase, Evidence: r.Evidence}
			}
			open.Checks++
			if !slices.Contains(open.Codes, r.Code) {
				open.Codes = append(open.Codes, r.Code)
			}
			open.Duration = max(earlier(until, to).Sub(open.Start), 0)
		default:
			if inPeriod {
				s.Unknown++
			}
		}
		if inPeriod {
			s.Checks++
			if slowest > 0 { // the dashboard's strips summarize many slots and want none
				s.Slowest = append(s.Slowest, r)
			}
		}
	}
	if open != nil && open.Start.Before(to) {
		s.addIncident(*open, from)
	}
	if s.Up+s.Down > 0 {
		s.Availability = float64(s.Up) / float64(s.Up+s.Down)
	}
	if s.UpTime+s.DownTime > 0 {
		s.TimeAvailability = float64(s.UpTime) / float64(s.UpTime+s.DownTime)
	}
	s.Unmonitored = max(to.Sub(from)-s.UpTime-s.DownTime, 0)
	slices.SortStableFunc(s.Slowest, func(a, b Result) int { return cmp.Compare(b.Duration, a.Duration) })
	s.Slowest = s.Slowest[:min(len(s.Slowest), max(slowest, 0))]
	return s
}

// standsUntil is when what a result that started at, checked every
// interval, says stops standing, given when the next result started (or
// the period's end when none follows): at the next result, or two
// intervals after it, whichever comes first.
func standsUntil(at time.Time, interval time.Duration, next time.Time) time.Time {
	if interval > 0 {
		return earlier(next, at.Add(2*interval))
	}
	return next
}

// addIncident keeps an incident that did not end before the period began.
func (s *Summary) addIncident(in Incident, from time.Time) {
	if !in.Open && !in.End.After(from) {
		return
	}
	if !in.Start.Before(s.To) {
		return
	}
	s.Incidents = append(s.Incidents, in)
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
