package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imapfault/imapfault/history"
)

// Audit is an availability report over a period, from the monitor's
// history: every figure comes from the history package (Summarize and its
// companions), so that the report and imapfault history never disagree.
type Audit struct {
	From, To  time.Time
	Generated time.Time
	Targets   []AuditTarget
}

// AuditTarget is what the report says of one target.
type AuditTarget struct {
	history.Summary
	Timeline     []history.Slot     `json:"-"`
	Latency      []history.Latency  `json:"latency"`
	Certificates []history.CertSeen `json:"certificates"`
	Intervals    []time.Duration    `json:"-"` // check intervals seen in the period
	Settings     []Setting          `json:"configuration"`
}

// Setting is one line of the configuration a target was checked with, as
// the report shows it. The caller leaves secrets out: a setting names
// where a secret comes from, never the secret.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// timelineSlots is how many pieces a target's timeline strip has: half a
// day each over a quarter, a few minutes over a day.
const timelineSlots = 180

// NewAudit computes the report over [from, to) from results (as
// history.DB.Period returns them); settings, when known, give each
// target's configuration by name.
func NewAudit(results []history.Result, from, to, generated time.Time, settings map[string][]Setting) *Audit {
	a := &Audit{From: from, To: to, Generated: generated}
	latency := history.DailyLatency(results, from, to)
	certs := history.Certificates(results, from, to)
	intervals := map[string][]time.Duration{}
	for _, r := range results {
		if !r.Time.Before(from) && r.Time.Before(to) && r.Interval > 0 && !slices.Contains(intervals[r.Target], r.Interval) {
			intervals[r.Target] = append(intervals[r.Target], r.Interval)
		}
	}
	for _, s := range history.Summarize(results, from, to, 0) {
		t := AuditTarget{Summary: s, Timeline: history.Timeline(results, s.Target, from, to, timelineSlots),
			Settings: settings[s.Target], Intervals: intervals[s.Target]}
		slices.Sort(t.Intervals)
		for _, l := range latency {
			if l.Target == s.Target {
				t.Latency = append(t.Latency, l)
			}
		}
		for _, c := range certs {
			if c.Target == s.Target {
				t.Certificates = append(t.Certificates, c)
			}
		}
		a.Targets = append(a.Targets, t)
	}
	return a
}

// AuditJSON writes the report as one JSON object: the period, and per
// target its summary (as imapfault history gives it), daily latency,
// certificates and configuration.
func AuditJSON(w io.Writer, a *Audit) error {
	out := struct {
		From      time.Time     `json:"from"`
		To        time.Time     `json:"to"`
		Generated time.Time     `json:"generated"`
		Targets   []AuditTarget `json:"targets"`
	}{a.From, a.To, a.Generated, nonNil(a.Targets)}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// MarshalJSON keeps the summary's own JSON (history.Summary has a
// MarshalJSON that would otherwise take over) and adds the rest.
func (t AuditTarget) MarshalJSON() ([]byte, error) {
	sum, err := json.Marshal(t.Summary)
	if err != nil {
		return nil, err
	}
	intervals := []float64{}
	for _, iv := range t.Intervals {
		intervals = append(intervals, float64(iv)/float64(time.Millisecond))
	}
	rest, err := json.Marshal(struct {
		Latency      []history.Latency  `json:"latency"`
		Certificates []history.CertSeen `json:"certificates"`
		IntervalsMS  []float64          `json:"intervals_ms"`
		Settings     []Setting          `json:"configuration"`
	}{nonNil(t.Latency), nonNil(t.Certificates), intervals, nonNil(t.Settings)})
	if err != nil {
		return nil, err
	}
	// Both are objects: join their members.
	return append(append(sum[:len(sum)-1:len(sum)-1], ','), rest[1:]...), nil
}

// csvHeader is the one table AuditCSV writes, in long form for
// spreadsheets: the section column says which fields a row fills.
var csvHeader = []string{"section", "target", "start", "end", "duration_s", "checks", "up", "down", "unknown",
	"availability", "time_availability", "code", "phase", "evidence", "step", "median_ms", "p95_ms"}

// AuditCSV writes the report as one CSV table: a "summary" row per
// target, an "incident" row per incident, a "latency" row per step and
// day, a "certificate" row per expiry date seen (its date in end).
func AuditCSV(w io.Writer, a *Audit) error {
	cw := csv.NewWriter(w)
	rfc := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
	msf := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
	}
	ratio := func(ok bool, v float64) string {
		if !ok {
			return ""
		}
		return strconv.FormatFloat(v, 'f', 6, 64)
	}
	rows := [][]string{csvHeader}
	for _, t := range a.Targets {
		s := t.Summary
		rows = append(rows, []string{"summary", s.Target, rfc(s.From), rfc(s.To), secs(s.To.Sub(s.From)),
			strconv.Itoa(s.Checks), strconv.Itoa(s.Up), strconv.Itoa(s.Down), strconv.Itoa(s.Unknown),
			ratio(s.Up+s.Down > 0, s.Availability), ratio(s.UpTime+s.DownTime > 0, s.TimeAvailability),
			"", "", "", "", "", ""})
		for _, in := range s.Incidents {
			end := rfc(in.End)
			if in.Open {
				end = ""
			}
			rows = append(rows, []string{"incident", s.Target, rfc(in.Start), end, secs(in.Duration),
				strconv.Itoa(in.Checks), "", "", "", "", "", in.Code, in.Phase, in.Evidence, "", "", ""})
		}
		for _, l := range t.Latency {
			rows = append(rows, []string{"latency", s.Target, rfc(l.Day), rfc(l.Day.Add(24 * time.Hour)), "",
				strconv.Itoa(l.Checks), "", "", "", "", "", "", "", "", l.Step, msf(l.Median), msf(l.P95)})
		}
		for _, c := range t.Certificates {
			rows = append(rows, []string{"certificate", s.Target, rfc(c.First), rfc(c.NotAfter), "",
				strconv.Itoa(c.Checks), "", "", "", "", "", "", "", "", "", "", ""})
		}
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// stepOrder lists a target's latency steps in the order of the walk.
func stepOrder(ls []history.Latency) []string {
	var out []string
	for _, l := range ls {
		if !slices.Contains(out, l.Step) {
			out = append(out, l.Step)
		}
	}
	return out
}

// percent prints a share as a percentage with the precision an SLA needs.
func percent(v float64) string {
	s := strconv.FormatFloat(v*100, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + " %"
}

// span prints a long duration in days, hours and minutes, leaving out
// the parts that are zero: "1d 17h", "12h", "50m"; seconds below a minute.
func span(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.0f s", d.Seconds())
	}
	d = d.Round(time.Minute)
	var parts []string
	for _, u := range []struct {
		size time.Duration
		unit string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if n := d / u.size; n > 0 {
			parts = append(parts, fmt.Sprintf("%d%s", n, u.unit))
			d -= n * u.size
		}
	}
	return strings.Join(parts, " ")
}
