package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/imapfault/imapfault/status"
)

func TestCheckHTMLGolden(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := CheckHTML(&b, f.rep()); err != nil {
				t.Fatal(err)
			}
			golden(t, "check-"+f.name+".html", b.Bytes())
		})
	}
}

// TestCheckHTMLStructure holds what the golden files could let slip when
// someone accepts them without reading: the verdict comes first, the
// waterfall has a bar per step, every table has header cells, the charts
// have text, nothing loads from outside.
func TestCheckHTMLStructure(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			rep := f.rep()
			var b bytes.Buffer
			if err := CheckHTML(&b, rep); err != nil {
				t.Fatal(err)
			}
			doc := parse(t, b.Bytes())
			checkSelfContained(t, doc)

			// The first two headings name the target and the verdict with
			// its code, so that the first screenful says what is wrong.
			heads := all(doc, func(n *html.Node) bool { return regexp.MustCompile(`^h[1-6]$`).MatchString(n.Data) })
			if len(heads) < 2 || heads[0].Data != "h1" || text(heads[0]) != rep.Target {
				t.Fatalf("first heading = %v, want h1 %q", heads, rep.Target)
			}
			if v := text(heads[1]); heads[1].Data != "h2" || !strings.Contains(v, words[status.Of(rep)]) ||
				(!rep.OK() && !strings.Contains(v, rep.Diagnosis.Code)) {
				t.Errorf("second heading = %q, want the verdict with %s", v, rep.Diagnosis.Code)
			}
			verdict := all(doc, func(n *html.Node) bool { return n.Data == "section" && hasClass(n, "verdict") })
			if len(verdict) != 1 || !strings.Contains(text(verdict[0]), rep.Diagnosis.Evidence) || !strings.Contains(text(verdict[0]), rep.Diagnosis.Advice) {
				t.Errorf("verdict section lacks the evidence or the advice")
			}

			bars := all(doc, func(n *html.Node) bool { return n.Data == "rect" && hasClass(n, "bar") })
			if len(bars) != len(rep.Steps) {
				t.Errorf("waterfall has %d bars, want one per step (%d)", len(bars), len(rep.Steps))
			}
			for i, bar := range bars {
				st := rep.Steps[i]
				if attr(bar, "data-phase") != st.Phase || !hasClass(bar, stepState(st).String()) {
					t.Errorf("bar %d = %s %q, want %s %s", i, attr(bar, "data-phase"), attr(bar, "class"), st.Phase, stepState(st))
				}
				if title := all(bar, tag("title")); len(title) != 1 || !strings.Contains(text(title[0]), humanDuration(st.Duration)) {
					t.Errorf("bar %d has no <title> with its time", i)
				}
			}
			for _, svg := range all(doc, tag("svg")) {
				if attr(svg, "role") != "img" || attr(svg, "aria-labelledby") == "" || len(all(svg, tag("desc"))) != 1 {
					t.Errorf("an <svg> lacks role=img and its title and description")
				}
			}
			for _, table := range all(doc, tag("table")) {
				if len(all(table, tag("th"))) == 0 {
					t.Errorf("a table has no header cells: %.80s", text(table))
				}
			}
			if got := len(all(doc, func(n *html.Node) bool {
				return n.Data == "tr" && n.Parent.Parent.Data == "table" && hasClass(n.Parent.Parent, "transcript") && n.Parent.Data == "tbody"
			})); got != len(rep.Transcript) {
				t.Errorf("transcript has %d rows, want %d", got, len(rep.Transcript))
			}
			if len(all(doc, tag("details"))) != 1 {
				t.Errorf("the transcript is not collapsible")
			}
			if (rep.TLS != nil) != strings.Contains(b.String(), `id="cert"`) {
				t.Errorf("certificate section shown = %v, want %v", !(rep.TLS != nil), rep.TLS != nil)
			}
		})
	}
}

// TestCheckHTMLEscapes: a server's text is data, never markup.
func TestCheckHTMLEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := CheckHTML(&b, failingReport()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>alert") {
		t.Errorf("the greeting's markup reached the page unescaped")
	}
	if n := strings.Count(b.String(), "<script>"); n != 1 {
		t.Errorf("page has %d scripts, want the one print helper", n)
	}
}

func TestCertDaysLeft(t *testing.T) {
	tests := []struct {
		name string
		days int
		ok   bool
		want status.State
	}{
		{"plenty", 61, true, status.OK},
		{"soon", 9, true, status.Warning},
		{"expired", -3, true, status.Critical},
		{"untrusted", 61, false, status.Critical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := healthyReport()
			rep.TLS.NotAfter = started.AddDate(0, 0, tt.days)
			rep.TLS.Verified = tt.ok
			var b bytes.Buffer
			if err := CheckHTML(&b, rep); err != nil {
				t.Fatal(err)
			}
			days := all(parse(t, b.Bytes()), func(n *html.Node) bool { return n.Data == "p" && hasClass(n, "days") })
			if len(days) != 1 || !hasClass(days[0], tt.want.String()) {
				t.Fatalf("days paragraph = %v, want class %s", days, tt.want)
			}
			want := "61 days left"
			if tt.days < 0 {
				want = "Expired 3 days before the check"
			} else if tt.days == 9 {
				want = "9 days left"
			}
			if !strings.Contains(text(days[0]), want) {
				t.Errorf("days = %q, want %q", text(days[0]), want)
			}
		})
	}
}
