package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/status"
)

// auditPage is what the audit template shows.
type auditPage struct {
	Head
	*Audit
	Days    string    // the period's length in words
	Last    time.Time // the period's last moment, for "to" in words
	Targets []auditTargetView
}

type auditTargetView struct {
	AuditTarget
	ID           string // for links within the page
	Judged       int    // checks that passed or failed
	Ongoing      bool   // the last incident has not ended
	State        status.State
	Availability string // by checks, or "no data"
	TimeAvail    string
	Strip        strip
	Charts       []latencyChart
	Steps        []stepLatency
	Certs        []certRow
	Intervals    string
}

// The timeline strip's geometry (SVG user units).
const (
	stripW    = 760.0
	stripBarY = 18.0
	stripBarH = 26.0
	stripH    = stripBarY + stripBarH + 2
)

type strip struct {
	Width, Height, BarY, BarH float64
	Slots                     []stripSlot
	Incidents                 []stripSlot
	Ticks                     []wfTick
	Desc                      string
}

type stripSlot struct {
	X, W  float64
	Class string
	Title string
}

// latencyChart is one step's daily median and p95 as two lines.
type latencyChart struct {
	Step          string
	Width, Height float64
	PlotX, PlotY  float64 // the plot's top left
	PlotW, PlotH  float64
	Median, P95   []string // polyline point lists, one per run of days with data
	Days          []stripSlot
	YTicks        []wfTick // X is the y position here
	XTicks        []wfTick
	XLabelY       float64
	Desc          string
}

// stepLatency is the text alternative of a chart: one table row.
type stepLatency struct {
	Step                 string
	Days                 int
	TypicalMedian        time.Duration // the median of the daily medians
	WorstP95             time.Duration
	WorstDay             time.Time
	MedianLow, MedianTop time.Duration
}

type certRow struct {
	history.CertSeen
	DaysLeft int // at the last check that saw it
	State    status.State
}

// AuditHTML writes the report as one self-contained page.
func AuditHTML(w io.Writer, a *Audit) error {
	p := auditPage{Audit: a, Days: length(a.To.Sub(a.From)), Last: a.To.Add(-time.Nanosecond)}
	p.Head = newHead(fmt.Sprintf("IMAP availability %s to %s (imapfault report)", day(a.From), day(p.Last)), styleCSS, printJS, false)
	for _, t := range a.Targets {
		v := auditTargetView{AuditTarget: t, ID: "target-" + slug(t.Target), State: status.OK,
			Availability: "no data", TimeAvail: "no data", Judged: t.Up + t.Down}
		v.Ongoing = len(t.Incidents) > 0 && t.Incidents[len(t.Incidents)-1].Open
		if t.Up+t.Down > 0 {
			v.Availability = percent(t.Availability)
		}
		if t.UpTime+t.DownTime > 0 {
			v.TimeAvail = percent(t.TimeAvailability)
		}
		switch {
		case v.Ongoing:
			v.State = status.Critical
		case len(t.Incidents) > 0:
			v.State = status.Warning
		case t.Up+t.Down == 0:
			v.State = status.Unknown
		}
		v.Strip = newStrip(t, a.From, a.To)
		v.Charts, v.Steps = newLatencyCharts(t.Latency, a.From, a.To)
		for _, c := range t.Certificates {
			r := certRow{CertSeen: c, DaysLeft: int(c.NotAfter.Sub(c.Last).Hours() / 24), State: status.OK}
			switch {
			case r.DaysLeft < 0:
				r.State = status.Critical
			case r.DaysLeft < certWarnDays:
				r.State = status.Warning
			}
			v.Certs = append(v.Certs, r)
		}
		var ivs []string
		for _, iv := range t.Intervals {
			ivs = append(ivs, iv.String())
		}
		v.Intervals = strings.Join(ivs, ", ")
		p.Targets = append(p.Targets, v)
	}
	return templates.ExecuteTemplate(w, "audit.tmpl", p)
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// slug makes a target name safe as an HTML id.
func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, s)
}

// newStrip draws the period as slots coloured by how their time was
// spent, with each incident laid over it at its exact place.
func newStrip(t AuditTarget, from, to time.Time) strip {
	s := strip{Width: stripW, Height: stripH, BarY: stripBarY, BarH: stripBarH}
	total := to.Sub(from)
	x := func(at time.Time) float64 {
		return min(max(float64(at.Sub(from))/float64(total), 0), 1) * stripW
	}
	var up, down, unmon time.Duration
	for _, sl := range t.Timeline {
		class := slotClass(sl)
		up, down, unmon = up+sl.UpTime, down+sl.DownTime, unmon+sl.Unmonitored
		// A hair wider than its share, so that no seam shows between slots.
		s.Slots = append(s.Slots, stripSlot{X: x(sl.From), W: min(x(sl.To)-x(sl.From)+0.4, stripW-x(sl.From)), Class: class,
			Title: fmt.Sprintf("%s to %s: up %s, down %s, not monitored %s", humanTime(sl.From.UTC()), humanTime(sl.To.UTC()),
				span(sl.UpTime), span(sl.DownTime), span(sl.Unmonitored))})
	}
	for _, in := range t.Incidents {
		end := in.Start.Add(in.Duration)
		s.Incidents = append(s.Incidents, stripSlot{X: x(in.Start), W: max(x(end)-x(in.Start), 1.5), Class: "critical",
			Title: fmt.Sprintf("incident %s for %s: %s", humanTime(in.Start.UTC()), span(in.Duration), in.Code)})
	}
	s.Ticks = timeTicks(from, to, func(at time.Time) float64 { return x(at) })
	s.Desc = fmt.Sprintf("From %s to %s: up %s, down %s in %s, not monitored %s.", day(from), day(to.Add(-time.Nanosecond)),
		span(up), span(down), plural(len(t.Incidents), "incident"), span(unmon))
	return s
}

// slotClass colours a stretch of a timeline: any downtime shows, however
// short; then any uptime; else nothing stood for it.
func slotClass(sl history.Slot) string {
	switch {
	case sl.DownTime > 0:
		return "critical"
	case sl.UpTime > 0:
		return "ok"
	}
	return "unknown"
}

// timeTicks marks a period at round times: the first of each month over
// long periods, days over weeks, hours over a day or two.
func timeTicks(from, to time.Time, x func(time.Time) float64) []wfTick {
	from, to = from.UTC(), to.UTC()
	var (
		next   func(time.Time) time.Time
		layout string
		at     time.Time
	)
	switch d := to.Sub(from); {
	case d > 45*24*time.Hour:
		at = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
		next, layout = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }, "Jan 2"
	case d > 10*24*time.Hour:
		at = from.Truncate(24 * time.Hour)
		next, layout = func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }, "Jan 2"
	case d > 2*24*time.Hour:
		at = from.Truncate(24 * time.Hour)
		next, layout = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }, "Jan 2"
	default:
		at = from.Truncate(6 * time.Hour)
		next, layout = func(t time.Time) time.Time { return t.Add(6 * time.Hour) }, "Jan 2 15:04"
	}
	var out []wfTick
	for ; at.Before(to); at = next(at) {
		if !at.Before(from) {
			out = append(out, wfTick{X: x(at), Label: at.Format(layout)})
		}
	}
	return out
}

// Latency chart geometry (SVG user units): two charts side by side on a
// wide screen, one on a narrow one.
const (
	chartW     = 360.0
	chartH     = 146.0
	chartPlotX = 52.0
	chartPlotY = 26.0 // below the step's name
	chartPlotW = chartW - chartPlotX - 8
	chartPlotH = chartH - chartPlotY - 24 // above the dates
)

// newLatencyCharts draws one chart per step, and gives each chart's
// figures as a table row.
func newLatencyCharts(ls []history.Latency, from, to time.Time) ([]latencyChart, []stepLatency) {
	var charts []latencyChart
	var rows []stepLatency
	days := max(int(to.Sub(from).Hours()/24+0.5), 1)
	dayW := chartPlotW / float64(days)
	for _, step := range stepOrder(ls) {
		var pts []history.Latency
		for _, l := range ls {
			if l.Step == step {
				pts = append(pts, l)
			}
		}
		var top time.Duration
		for _, l := range pts {
			top = max(top, l.P95)
		}
		yStep := time.Duration(niceStep(float64(top), 3))
		yMax := max(yStep*time.Duration((top+yStep-1)/yStep), yStep)
		y := func(d time.Duration) float64 { return chartPlotY + chartPlotH*(1-float64(d)/float64(yMax)) }
		c := latencyChart{Step: step, Width: chartW, Height: chartH, PlotX: chartPlotX, PlotY: chartPlotY, PlotW: chartPlotW, PlotH: chartPlotH,
			XLabelY: chartPlotY + chartPlotH + 16}
		c.XTicks = timeTicks(from, to, func(at time.Time) float64 {
			return chartPlotX + float64(at.Sub(from))/float64(to.Sub(from))*chartPlotW
		})
		for v := time.Duration(0); v <= yMax; v += yStep {
			c.YTicks = append(c.YTicks, wfTick{X: y(v), Label: tickLabel(v, yStep)})
		}
		var med, p95 []string
		flush := func() {
			if len(med) > 0 {
				c.Median, c.P95 = append(c.Median, strings.Join(med, " ")), append(c.P95, strings.Join(p95, " "))
			}
			med, p95 = nil, nil
		}
		prev := -2
		r := stepLatency{Step: step, Days: len(pts), MedianLow: pts[0].Median}
		var medians []time.Duration
		for _, l := range pts {
			i := int(l.Day.Sub(from.UTC().Truncate(24*time.Hour)).Hours() / 24)
			if i != prev+1 {
				flush()
			}
			prev = i
			cx := chartPlotX + (float64(i)+0.5)*dayW
			med = append(med, fmt.Sprintf("%.1f,%.1f", cx, y(l.Median)))
			p95 = append(p95, fmt.Sprintf("%.1f,%.1f", cx, y(l.P95)))
			c.Days = append(c.Days, stripSlot{X: chartPlotX + float64(i)*dayW, W: dayW,
				Title: fmt.Sprintf("%s: median %s, p95 %s, %s", day(l.Day), humanDuration(l.Median), humanDuration(l.P95), plural(l.Checks, "check"))})
			medians = append(medians, l.Median)
			r.MedianLow, r.MedianTop = min(r.MedianLow, l.Median), max(r.MedianTop, l.Median)
			if l.P95 > r.WorstP95 {
				r.WorstP95, r.WorstDay = l.P95, l.Day
			}
		}
		flush()
		slices.Sort(medians)
		r.TypicalMedian = history.Percentile(medians, 50)
		c.Desc = fmt.Sprintf("%s over %s: daily median from %s to %s, typically %s; highest daily p95 %s on %s.",
			step, plural(r.Days, "day"), humanDuration(r.MedianLow), humanDuration(r.MedianTop), humanDuration(r.TypicalMedian),
			humanDuration(r.WorstP95), day(r.WorstDay))
		charts = append(charts, c)
		rows = append(rows, r)
	}
	return charts, rows
}

// length says how long a period is: in days when it is whole days.
func length(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return plural(int(d/(24*time.Hour)), "day")
	}
	return span(d)
}
