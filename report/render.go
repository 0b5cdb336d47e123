package report

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/imapfault/imapfault/status"
)

//go:embed templates/*.tmpl
var files embed.FS

// The style every page shares, and the script every page runs: it opens
// the collapsed sections before printing, so that paper shows them.
var (
	//go:embed assets/style.css
	styleCSS string
	//go:embed assets/print.js
	printJS string
	// The dashboard's script refreshes its table in place (and does what
	// printJS does).
	//go:embed assets/dashboard.js
	dashboardJS string
)

// templates holds every page; each page template includes the shared
// layout pieces by name.
var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"ms":   humanDuration,
	"when": humanTime,
	"iso":  func(t time.Time) string { return t.Format(time.RFC3339) },
	"secs": func(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) },
	"neg":  func(n int) int { return -n },
	"word": func(s status.State) string { return words[s] },
	"day":  day,
	"secs2": func(ms int64) string {
		if ms%1000 == 0 {
			return plural(int(ms/1000), "second")
		}
		return fmt.Sprintf("%.1f seconds", float64(ms)/1000)
	},
	// minute is a time in a table whose page says its zone once.
	"minute": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
	"span":   span,
	"add":    func(a, b float64) float64 { return a + b },
	"sub":    func(a, b float64) float64 { return a - b },
}).ParseFS(files, "templates/*.tmpl"))

// Head is what every page puts in its <head>: the inline style and script
// and the policy that allows exactly those and nothing from anywhere.
type Head struct {
	Title  string
	CSS    template.CSS
	JS     template.JS
	Policy string
}

// newHead builds the head of a page. connect allows the page to fetch
// from its own origin (the live dashboard); static pages fetch nothing.
func newHead(title, css, js string, connect bool) Head {
	policy := []string{"default-src 'none'", "style-src " + hash(css), "img-src data:", "base-uri 'none'", "form-action 'none'"}
	if js != "" {
		policy = append(policy, "script-src "+hash(js))
	}
	if connect {
		policy = append(policy, "connect-src 'self'")
	}
	return Head{Title: title, CSS: template.CSS(css), JS: template.JS(js), Policy: strings.Join(policy, "; ")}
}

// hash is a CSP source for one inline element's exact text.
func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// humanDuration prints a duration with the precision a reader needs:
// tenths of a millisecond below 10 ms, whole milliseconds below a second,
// then seconds with two decimals.
func humanDuration(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return fmt.Sprintf("%.1f ms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.0f ms", ms)
	case ms < 60_000:
		return fmt.Sprintf("%.2f s", ms/1000)
	}
	return d.Round(time.Second).String()
}

// humanTime prints a moment in its own time zone, to the second.
func humanTime(t time.Time) string { return t.Format("2006-01-02 15:04:05 MST") }

// niceStep returns a round tick spacing (1, 2 or 5 times a power of ten)
// that cuts span into about n parts.
func niceStep(span float64, n int) float64 {
	if span <= 0 || n <= 0 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// plural counts things in English: "1 error", "2 errors".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
