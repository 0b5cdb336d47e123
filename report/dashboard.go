package report

import (
	"cmp"
	"context"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/status"
)

// The live dashboard: every target's state, last diagnosis and its age,
// the last 24 hours as a strip, and links to the pages of recent checks.
// The page refreshes its table in place from an HTML fragment of itself;
// it is read-only and serves nothing but GET.

// DashTarget is one target as the dashboard shows it.
type DashTarget struct {
	Name, Address string
	State         status.State // the monitor's alerting state
	Code, Phase   string       // the last check's diagnosis
	Evidence      string
	LastCheck     time.Time // zero before the first check
	Since         time.Time // when the state last changed; zero if never
	Timeline      []history.Slot
	Recent        []history.Result // the newest checks, newest first, each linked to its page
}

// DashboardView is one moment of the dashboard.
type DashboardView struct {
	Now     time.Time
	Targets []DashTarget
	Refresh time.Duration // how often the page refreshes; zero: DashRefresh
}

// DashRefresh is how often the dashboard refreshes by default.
const DashRefresh = 15 * time.Second

// DashWindow is how far back the dashboard's strip looks, in DashSlots
// pieces of 15 minutes.
const (
	DashWindow = 24 * time.Hour
	DashSlots  = 96
	// DashRecent is how many recent checks each row links to.
	DashRecent = 5
)

// NewDashTarget fills a target's strip and recent checks from its
// results of the last DashWindow (in any order), as a DashHistory fed
// them would.
func NewDashTarget(t DashTarget, recent []history.Result, now time.Time) DashTarget {
	var mine []history.Result
	for _, r := range recent {
		if r.Target == t.Name {
			mine = append(mine, r)
		}
	}
	slices.SortStableFunc(mine, func(a, b history.Result) int { return a.Time.Compare(b.Time) })
	h := NewDashHistory()
	for _, r := range mine {
		h.Add(r)
	}
	return h.Target(t, now)
}

// DashHistory keeps what the dashboard draws of each target's last day,
// fed each result once as it arrives: a strip of DashSlots slots on the
// history's definition of up and down (history.Strip), and the newest
// DashRecent checks. A refresh then costs O(DashSlots) a target rather
// than a pass over a day of its results. It is not safe for concurrent
// use.
type DashHistory struct {
	targets map[string]*dashKept
}

type dashKept struct {
	strip  *history.Strip
	recent [DashRecent]history.Result // a ring: the newest at next-1
	next   int                        // where the next result goes
	n      int                        // how many are kept
}

// newest is the i-th newest result kept, from 0.
func (k *dashKept) newest(i int) *history.Result {
	return &k.recent[(k.next-1-i+2*DashRecent)%DashRecent]
}

// NewDashHistory returns an empty DashHistory.
func NewDashHistory() *DashHistory {
	return &DashHistory{targets: map[string]*dashKept{}}
}

// Add records a result. Each target's results must come in the order
// they started; one no later than the target's last is taken as read
// before and ignored, so that overlapping reads of the history are safe.
func (h *DashHistory) Add(r history.Result) {
	k := h.targets[r.Target]
	if k == nil {
		k = &dashKept{strip: history.NewStrip(DashSlots, DashWindow/DashSlots)}
		h.targets[r.Target] = k
	}
	if k.n > 0 && !r.Time.After(k.newest(0).Time) {
		return
	}
	k.strip.Add(r)
	k.recent[k.next] = r
	k.next, k.n = (k.next+1)%DashRecent, min(k.n+1, DashRecent)
}

// Target fills t's strip, which ends with the slot holding now, and its
// recent checks of the last DashWindow, newest first.
func (h *DashHistory) Target(t DashTarget, now time.Time) DashTarget {
	k := h.targets[t.Name]
	if k == nil {
		k = &dashKept{strip: history.NewStrip(DashSlots, DashWindow/DashSlots)}
	}
	t.Timeline = k.strip.Slots(now)
	t.Recent = nil
	for i := range k.n {
		r := k.newest(i)
		if r.Time.Before(now.Add(-DashWindow)) {
			break
		}
		t.Recent = append(t.Recent, *r)
	}
	return t
}

// dashRow is a target with what the row draws.
type dashRow struct {
	DashTarget
	Age        string
	Strip      []stripSlot
	StripLabel string // the strip in words
	Links      []dashLink
	// Formatted here rather than by template functions and escapers, each
	// a reflective call: a thousand rows render in a third of the time.
	Word, LastISO, LastWhen string
	StripHTML, LinksHTML    template.HTML
}

type dashLink struct {
	URL, Label, Title string
	State             status.State
}

type dashPage struct {
	Head
	Now       time.Time
	RefreshMS int64
	Counts    []dashCount
	Rows      []dashRow
}

type dashCount struct {
	State status.State
	N     int
}

// rank orders targets worst first, so that what is broken is at the top.
var rank = map[status.State]int{status.Critical: 0, status.Warning: 1, status.Unknown: 2, status.OK: 3}

func newDashPage(v *DashboardView) dashPage {
	p := dashPage{Now: v.Now, RefreshMS: cmp.Or(v.Refresh, DashRefresh).Milliseconds()}
	counts := map[status.State]int{}
	rows := make([]dashRow, 0, len(v.Targets))
	for _, t := range v.Targets {
		counts[t.State]++
		r := dashRow{DashTarget: t, Age: "never checked", Word: words[t.State]}
		if !t.LastCheck.IsZero() {
			r.Age = age(v.Now.Sub(t.LastCheck))
			r.LastISO, r.LastWhen = t.LastCheck.Format(time.RFC3339), humanTime(t.LastCheck)
		}
		r.Strip = dashStrip(t.Timeline)
		said := make([]string, len(r.Strip))
		for i, s := range r.Strip {
			said[i] = s.Title
		}
		r.StripLabel = "Last 24 hours: " + strings.Join(said, "; ")
		for _, c := range t.Recent {
			r.Links = append(r.Links, dashLink{
				URL:   "check?" + url.Values{"target": {t.Name}, "at": {strconv.FormatInt(c.Time.UnixNano(), 10)}}.Encode(),
				Label: c.Time.UTC().Format("15:04:05"),
				Title: fmt.Sprintf("%s: %s (%s)", humanTime(c.Time.UTC()), c.Code, words[c.State]),
				State: c.State,
			})
		}
		r.StripHTML, r.LinksHTML = r.markup()
		rows = append(rows, r)
	}
	slices.SortStableFunc(rows, func(a, b dashRow) int {
		return cmp.Or(cmp.Compare(rank[a.State], rank[b.State]), cmp.Compare(a.Name, b.Name))
	})
	p.Rows = rows
	for _, s := range []status.State{status.Critical, status.Warning, status.Unknown, status.OK} {
		p.Counts = append(p.Counts, dashCount{s, counts[s]})
	}
	return p
}

// markup writes a row's strip rectangles and links, every value escaped
// with html.EscapeString inside quoted attributes and text.
func (r *dashRow) markup() (strip, links template.HTML) {
	var b strings.Builder
	for _, s := range r.Strip {
		fmt.Fprintf(&b, `<rect class="slot %s" x="%.2f" y="0" width="%.2f" height="16"><title>%s</title></rect>`,
			s.Class, s.X, s.W, html.EscapeString(s.Title))
	}
	strip = template.HTML(b.String())
	b.Reset()
	for _, l := range r.Links {
		fmt.Fprintf(&b, `<a class="%s" href="%s" title="%s">%s</a> `, l.State, html.EscapeString(l.URL), html.EscapeString(l.Title), html.EscapeString(l.Label))
	}
	return strip, template.HTML(b.String())
}

// dashStrip draws 24 hours as runs of one class: a few rectangles a row
// rather than one per slot, which keeps a thousand rows small.
func dashStrip(slots []history.Slot) []stripSlot {
	const w = 240.0 // the strip's width in SVG units
	if len(slots) == 0 {
		return nil
	}
	from := slots[0].From
	x := func(t time.Time) float64 { return float64(t.Sub(from)) / float64(DashWindow) * w }
	var out []stripSlot
	for _, sl := range slots {
		class := slotClass(sl)
		if n := len(out); n > 0 && out[n-1].Class == class {
			out[n-1].W = x(sl.To) - out[n-1].X
			continue
		}
		out = append(out, stripSlot{X: x(sl.From), W: x(sl.To) - x(sl.From), Class: class})
	}
	for i := range out {
		start := from.Add(time.Duration(out[i].X / w * float64(DashWindow)))
		end := from.Add(time.Duration((out[i].X + out[i].W) / w * float64(DashWindow)))
		out[i].Title = fmt.Sprintf("%s %s to %s", map[string]string{"ok": "up", "critical": "down", "unknown": "no check"}[out[i].Class],
			start.UTC().Format("15:04"), end.UTC().Format("15:04"))
	}
	return out
}

// age says how long ago, coarsely, as a wall screen needs it.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// DashboardHTML writes the whole dashboard page.
func DashboardHTML(w io.Writer, v *DashboardView) error {
	p := newDashPage(v)
	p.Head = newHead("imapfault monitor", styleCSS, dashboardJS, true)
	return templates.ExecuteTemplate(w, "dashboard.tmpl", p)
}

// DashboardFragment writes the part of the page that refreshes: the
// counts and the table's rows.
func DashboardFragment(w io.Writer, v *DashboardView) error {
	return templates.ExecuteTemplate(w, "dashboard-live", newDashPage(v))
}

// DashboardSource is what the dashboard reads from a running monitor.
type DashboardSource interface {
	// View returns the dashboard's data now.
	View(ctx context.Context) (*DashboardView, error)
	// Result returns a check of target from the history, by the time it
	// started, for its page; false when it is no longer kept.
	Result(ctx context.Context, target string, started time.Time) (history.Result, bool, error)
}

// DashboardHandler serves the dashboard at "/", its live fragment at
// "/?fragment=1" and each recent check's page at "/check". It answers
// GET and HEAD only: the dashboard changes nothing.
func DashboardHandler(src DashboardSource) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		v, err := src.View(r.Context())
		if err != nil {
			http.Error(w, "dashboard: "+err.Error(), http.StatusInternalServerError)
			return
		}
		render := DashboardHTML
		if r.URL.Query().Get("fragment") != "" {
			render = DashboardFragment
		}
		serveHTML(w, func(w io.Writer) error { return render(w, v) })
	})
	mux.HandleFunc("GET /check", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ns, err := strconv.ParseInt(q.Get("at"), 10, 64)
		if q.Get("target") == "" || err != nil {
			http.Error(w, "check: want ?target=NAME&at=UNIX-NANOSECONDS", http.StatusBadRequest)
			return
		}
		res, ok, err := src.Result(r.Context(), q.Get("target"), time.Unix(0, ns))
		switch {
		case err != nil:
			http.Error(w, "check: "+err.Error(), http.StatusInternalServerError)
			return
		case !ok:
			http.Error(w, "check: no such check is kept", http.StatusNotFound)
			return
		}
		serveHTML(w, func(w io.Writer) error { return StoredCheckHTML(w, res) })
	})
	return mux
}

// serveHTML renders into memory first, so that a failure is a clean 500
// rather than half a page.
func serveHTML(w http.ResponseWriter, render func(io.Writer) error) {
	var b strings.Builder
	if err := render(&b); err != nil {
		http.Error(w, "rendering: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	io.WriteString(w, b.String())
}

// resultReport rebuilds what a page can show of a check from its history
// record: steps, diagnosis, warnings and, when kept, the transcript's
// lines as they were stored (already redacted).
func resultReport(r history.Result) *client.Report {
	rep := &client.Report{Target: r.Target, Started: r.Time, Duration: r.Duration,
		Diagnosis: client.Diagnosis{Code: r.Code, Phase: r.Phase, Evidence: r.Evidence}}
	for _, s := range r.Steps {
		rep.Steps = append(rep.Steps, client.Step{Phase: s.Phase, Duration: s.Duration, OK: s.OK})
	}
	for _, w := range r.Warnings {
		rep.Warnings = append(rep.Warnings, client.Diagnosis{Code: w.Code, Phase: w.Phase, Evidence: w.Evidence})
	}
	for _, line := range strings.Split(strings.TrimSuffix(r.Transcript, "\n"), "\n") {
		if line != "" {
			rep.Transcript = append(rep.Transcript, client.Event{Dir: "==", Text: line})
		}
	}
	return rep
}
