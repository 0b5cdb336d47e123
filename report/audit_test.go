package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

var sampleSettings = []Setting{
	{"Address", "mail.example.org:143"}, {"TLS", "starttls"}, {"User", "monitor@example.org"},
	{"Authentication", "plain, password from an environment variable"}, {"Step timeout", "10s"},
	{"Critical", "total > 5s; cert_days < 7"},
}

func smallAudit() *Audit {
	return NewAudit(smallHistory(), auditStart, auditStart.AddDate(0, 0, 7), auditStart.AddDate(0, 0, 7).Add(time.Hour),
		map[string][]Setting{"mail.example.org:143": sampleSettings})
}

// TestAuditGolden keeps the report of a fixed week in all three forms:
// the JSON and CSV hold the figures (availability, incident boundaries,
// percentiles) that a reviewer checks against the history by hand.
func TestAuditGolden(t *testing.T) {
	for _, f := range []struct {
		file   string
		render func(*bytes.Buffer, *Audit) error
	}{
		{"audit-week.json", func(b *bytes.Buffer, a *Audit) error { return AuditJSON(b, a) }},
		{"audit-week.csv", func(b *bytes.Buffer, a *Audit) error { return AuditCSV(b, a) }},
		{"audit-week.html", func(b *bytes.Buffer, a *Audit) error { return AuditHTML(b, a) }},
	} {
		t.Run(f.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := f.render(&b, smallAudit()); err != nil {
				t.Fatal(err)
			}
			golden(t, f.file, b.Bytes())
		})
	}
}

// TestAuditFigures states the week's figures by hand: what the golden
// files hold, said where a reader can check it.
func TestAuditFigures(t *testing.T) {
	a := smallAudit()
	if len(a.Targets) != 2 {
		t.Fatalf("%d targets, want 2", len(a.Targets))
	}
	steady, flaky := a.Targets[0], a.Targets[1]
	if steady.Checks != 168 || steady.Up != 168 || steady.Availability != 1 || len(steady.Incidents) != 0 {
		t.Errorf("steady = %d checks, %d up, %v, %d incidents; want 168, 168, 1, 0", steady.Checks, steady.Up, steady.Availability, len(steady.Incidents))
	}
	// 168 hours less the 12-hour gap; down from 22:00 on day 1 to 03:00 on
	// day 2 (5 checks) and 10:00-11:00 on day 5 (1 check).
	if flaky.Checks != 156 || flaky.Down != 6 || flaky.Up != 150 {
		t.Errorf("flaky = %d checks, %d down, %d up; want 156, 6, 150", flaky.Checks, flaky.Down, flaky.Up)
	}
	if len(flaky.Incidents) != 2 {
		t.Fatalf("flaky has %d incidents, want 2", len(flaky.Incidents))
	}
	in := flaky.Incidents[0]
	wantStart, wantEnd := auditStart.AddDate(0, 0, 1).Add(22*time.Hour), auditStart.AddDate(0, 0, 2).Add(3*time.Hour)
	if !in.Start.Equal(wantStart) || !in.End.Equal(wantEnd) || in.Duration != 5*time.Hour || in.Code != "auth.unavailable" || in.Checks != 5 {
		t.Errorf("first incident = %v to %v (%v) %s, %d checks; want %v to %v (5h) auth.unavailable, 5", in.Start, in.End, in.Duration, in.Code, in.Checks, wantStart, wantEnd)
	}
	// Time-weighted: each hourly check stands for an hour; the gap of 12
	// hours is unmonitored but for the hour the last result before it
	// stands for (at most two intervals, so one hour into the gap).
	if flaky.DownTime != 6*time.Hour || flaky.Unmonitored != 11*time.Hour {
		t.Errorf("flaky down %v, unmonitored %v; want 6h and 11h", flaky.DownTime, flaky.Unmonitored)
	}
	// Percentiles by nearest rank over the day's 24 connect times.
	var got []time.Duration
	for _, l := range steady.Latency {
		if l.Step == "connect" && l.Day.Equal(auditStart) {
			got = append(got, l.Median, l.P95)
		}
	}
	if len(got) != 2 || got[0] >= got[1] || got[0] <= 0 {
		t.Errorf("steady connect on day 0: median, p95 = %v; want two rising figures", got)
	}
	if len(flaky.Certificates) != 2 || !flaky.Certificates[1].NotAfter.After(flaky.Certificates[0].NotAfter) {
		t.Errorf("flaky certificates = %+v; want the renewal seen as two dates", flaky.Certificates)
	}
}

func TestAuditHTMLStructure(t *testing.T) {
	var b bytes.Buffer
	a := smallAudit()
	if err := AuditHTML(&b, a); err != nil {
		t.Fatal(err)
	}
	doc := parse(t, b.Bytes())
	checkSelfContained(t, doc)
	for _, table := range all(doc, tag("table")) {
		if len(all(table, tag("th"))) == 0 {
			t.Errorf("a table has no header cells: %.80s", text(table))
		}
	}
	for _, svg := range all(doc, tag("svg")) {
		if attr(svg, "role") != "img" || len(all(svg, tag("desc"))) != 1 || text(all(svg, tag("desc"))[0]) == "" {
			t.Errorf("an <svg> lacks role=img or a description")
		}
	}
	strips := all(doc, func(n *html.Node) bool { return n.Data == "svg" && hasClass(n, "strip") })
	if len(strips) != len(a.Targets) {
		t.Fatalf("%d timeline strips, want one per target", len(strips))
	}
	for i, s := range strips {
		if n := len(all(s, func(n *html.Node) bool { return n.Data == "rect" && hasClass(n, "incident") })); n != len(a.Targets[i].Incidents) {
			t.Errorf("strip %d marks %d incidents, want %d", i, n, len(a.Targets[i].Incidents))
		}
		if n := len(all(s, func(n *html.Node) bool { return n.Data == "rect" && hasClass(n, "slot") })); n != timelineSlots {
			t.Errorf("strip %d has %d slots, want %d", i, n, timelineSlots)
		}
	}
	// The settings show, and nothing that looks like a secret does.
	page := b.String()
	for _, want := range []string{"password from an environment variable", "auth.unavailable", "How the figures are computed"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestAuditCSVAndJSONParse(t *testing.T) {
	a := smallAudit()
	var c, j bytes.Buffer
	if err := AuditCSV(&c, a); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range rows[1:] {
		if len(r) != len(csvHeader) {
			t.Fatalf("row %q has %d fields, want %d", r, len(r), len(csvHeader))
		}
		count[r[0]]++
	}
	if count["summary"] != 2 || count["incident"] != 2 || count["certificate"] != 4 || count["latency"] == 0 {
		t.Errorf("CSV rows by section = %v", count)
	}
	if err := AuditJSON(&j, a); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Targets []struct {
			Target       string
			Availability *float64
			Incidents    []struct{ Start, End *time.Time }
			Latency      []struct {
				Step     string
				MedianMS float64 `json:"median_ms"`
			}
			IntervalsMS []float64 `json:"intervals_ms"`
		}
	}
	if err := json.Unmarshal(j.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Targets) != 2 || out.Targets[1].Availability == nil || len(out.Targets[1].Incidents) != 2 ||
		len(out.Targets[0].Latency) == 0 || out.Targets[0].Latency[0].MedianMS <= 0 || len(out.Targets[0].IntervalsMS) != 1 {
		t.Errorf("JSON = %+v", out)
	}
}
