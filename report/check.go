package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/status"
)

// words are the states as a page shows them beside their colour, so that
// colour never carries the meaning alone; a check that failed is "failed"
// to the person reading, "critical" to the monitoring system.
var words = map[status.State]string{
	status.OK:       "passed",
	status.Warning:  "warning",
	status.Critical: "failed",
	status.Unknown:  "unknown",
}

// stepState judges one step as status judges a check.
func stepState(st client.Step) status.State {
	switch {
	case !st.OK:
		return status.Critical
	case st.Warning:
		return status.Warning
	}
	return status.OK
}

// checkPage is what the check template shows.
type checkPage struct {
	Head
	Rep       *client.Report
	State     status.State
	Headline  string // the verdict in one line
	Steps     []stepRow
	Waterfall waterfall
	Cert      *certView
	Events    []eventRow
	Counts    string          // of the transcript's lines, by direction
	Ran       map[string]bool // the phases that passed, so that a count never shows from a step that did not run
	Stored    bool            // rebuilt from the history, which keeps less than a Report
}

// stepRow is one step with where it starts in the check.
type stepRow struct {
	client.Step
	N     int // 1-based position
	Start time.Duration
	State status.State
	Note  string // the step's detail, or the diagnosis evidence where it failed
}

// certView is the certificate summary, with its days left counted from
// the time of the check, so that the page says what was true then.
type certView struct {
	*client.TLSInfo
	DaysLeft int
	State    status.State
}

// eventRow is one transcript line with its direction spelled out.
type eventRow struct {
	client.Event
	Class, Spoken string
}

// directions maps the transcript's direction marks onto a CSS class and
// the words a screen reader says instead of the arrow.
var directions = map[string]struct{ class, spoken string }{
	"->": {"sent", "sent"},
	"<-": {"recv", "received"},
	"~>": {"sent", "sent inside TLS"},
	"<~": {"recv", "received inside TLS"},
	"==": {"note", "note"},
	"!!": {"error", "error"},
}

// certWarnDays is how close to expiry a certificate is shown as a warning,
// the tester's own default for tls.cert_expiring.
const certWarnDays = 14

// CheckHTML writes one check as a self-contained HTML page: the verdict
// with its evidence and advice first, then a waterfall of the steps, the
// TLS certificate, what the server announced, and the transcript (already
// redacted by the tester).
func CheckHTML(w io.Writer, rep *client.Report) error {
	return checkHTML(w, rep, false)
}

// StoredCheckHTML writes the page of a check as the monitor's history
// keeps it: steps, diagnosis and warnings, and the transcript's lines if
// the monitor kept them; no certificate, advice or user, which the
// history does not hold, and the page says so.
func StoredCheckHTML(w io.Writer, r history.Result) error {
	return checkHTML(w, resultReport(r), true)
}

func checkHTML(w io.Writer, rep *client.Report, stored bool) error {
	p := checkPage{Rep: rep, State: status.Of(rep), Ran: map[string]bool{}, Stored: stored}
	p.Headline = headline(rep, p.State)
	p.Head = newHead(fmt.Sprintf("%s %s: %s (imapfault check)", strings.ToUpper(words[p.State]), rep.Diagnosis.Code, rep.Target), styleCSS, printJS, false)
	var at time.Duration
	for i, st := range rep.Steps {
		row := stepRow{Step: st, N: i + 1, Start: at, State: stepState(st), Note: st.Detail}
		if !st.OK && rep.Diagnosis.Evidence != "" && rep.Diagnosis.Evidence != st.Detail {
			row.Note = strings.TrimSpace(st.Detail + ": " + rep.Diagnosis.Evidence)
		}
		p.Steps = append(p.Steps, row)
		p.Ran[st.Phase] = p.Ran[st.Phase] || st.OK
		at += st.Duration
	}
	p.Waterfall = newWaterfall(p.Steps, max(at, rep.Duration))
	if rep.TLS != nil {
		c := &certView{TLSInfo: rep.TLS, DaysLeft: rep.TLS.DaysLeft(rep.Started), State: status.OK}
		switch {
		case c.DaysLeft < 0 || !rep.TLS.Verified:
			c.State = status.Critical
		case c.DaysLeft < certWarnDays:
			c.State = status.Warning
		}
		p.Cert = c
	}
	count := map[string]int{}
	for _, ev := range rep.Transcript {
		d, ok := directions[ev.Dir]
		if !ok {
			d = directions["=="]
		}
		count[d.class]++
		p.Events = append(p.Events, eventRow{Event: ev, Class: d.class, Spoken: d.spoken})
	}
	p.Counts = fmt.Sprintf("%s: %d sent, %d received, %s, %s", plural(len(rep.Transcript), "line"),
		count["sent"], count["recv"], plural(count["note"], "note"), plural(count["error"], "error"))
	return templates.ExecuteTemplate(w, "check.tmpl", p)
}

// headline is the verdict in words, for the top of the page.
func headline(rep *client.Report, s status.State) string {
	d := rep.Diagnosis
	switch s {
	case status.Critical:
		return fmt.Sprintf("%s in step %s", d.Code, d.Phase)
	case status.Warning:
		codes := make([]string, len(rep.Warnings))
		for i, w := range rep.Warnings {
			codes[i] = w.Code
		}
		return "Passed, with warnings: " + strings.Join(codes, ", ")
	case status.Unknown:
		return "Check not finished: " + d.Code
	}
	return "Every step passed"
}
