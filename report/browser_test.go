//go:build browser

// The browser tests load every page in headless Chromium (Debian's
// chromium package) through chromedp: no console error, no request that
// leaves the page, one waterfall bar per step, the verdict in the first
// screenful. They save screenshots for people to look at under
// $IMAPFAULT_ARTIFACTS (default testdata-out/) in browser/.
// Run them with make browser, which installs chromium when it can.
package report_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/imapfault/imapfault/report"

	"github.com/imapfault/imapfault/internal/peer"
)

// The viewport of the first screenful: a laptop's browser window.
const viewW, viewH = 1280, 800

// newBrowser starts headless Chromium for one test; it is stopped, and
// its profile removed, when the test ends. Without chromium the test
// skips, or fails when IMAPFAULT_INTEROP_REQUIRE=1 (as in CI).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		msg := "no chromium on PATH: run make browser (as root it installs Debian's chromium)"
		peer.Missing(t, msg)
	}
	// Bounds the whole test: a browser that hangs fails it, never CI.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(viewW, viewH),
	)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		if err := chromedp.Cancel(bctx); err != nil {
			t.Logf("stopping chromium: %v", err)
		}
		bcancel()
		acancel()
		cancel()
	})
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return bctx
}

// tab is one page loaded in its own tab, with what it did while loading.
type tab struct {
	ctx context.Context
	url string

	mu       sync.Mutex
	problems []string // console errors, exceptions, requests to elsewhere
}

// open loads url in a new tab; local says which requests stay on the page
// (the page itself, and for a served page its own origin).
func open(t *testing.T, bctx context.Context, url string, local func(string) bool) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	t.Cleanup(cancel)
	tb := &tab{ctx: ctx, url: url}
	err := chromedp.Listen(ctx, func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; !local(u) && !strings.HasPrefix(u, "data:") {
				p = "request to " + u
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				p = fmt.Sprintf("log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				p = fmt.Sprintf("console.%s called", ev.Type)
			}
		case *runtime.EventExceptionThrown:
			p = "exception: " + ev.ExceptionDetails.Text
			if ex := ev.ExceptionDetails.Exception; ex != nil && ex.Description != "" {
				p += " " + ex.Description
			}
		}
		if p != "" {
			tb.mu.Lock()
			tb.problems = append(tb.problems, p)
			tb.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(viewW, viewH), chromedp.Navigate(url), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("loading %s: %v", url, err)
	}
	return tb
}

// clean fails the test for anything the page did that it must not.
func (tb *tab) clean(t *testing.T) {
	t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		t.Errorf("%s: %s", tb.url, p)
	}
}

// run runs one action on the tab, bounded so that a page that hangs fails
// the test rather than stalling it.
func run[T any](tb *tab, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	return chromedp.Run(ctx, a)
}

func eval[T any](t *testing.T, tb *tab, js string) T {
	t.Helper()
	v, err := run(tb, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: evaluating %s: %v", tb.url, js, err)
	}
	return v
}

// artifacts is where screenshots go: a folder CI keeps.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("IMAPFAULT_ARTIFACTS")
	if dir == "" {
		dir = "testdata-out"
	}
	dir = filepath.Join(dir, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shoot saves the first screenful as name.png and the whole page as
// name-full.png.
func shoot(t *testing.T, tb *tab, name string) {
	t.Helper()
	shootView(t, tb, name)
	save(t, tb, name+"-full", chromedp.FullScreenshot(100))
}

// shootView saves what the window shows as name.png.
func shootView(t *testing.T, tb *tab, name string) {
	t.Helper()
	save(t, tb, name, chromedp.CaptureScreenshot())
}

func save(t *testing.T, tb *tab, name string, shot chromedp.Action[[]byte]) {
	t.Helper()
	png, err := run(tb, shot)
	if err != nil {
		t.Fatalf("screenshot of %s: %v", tb.url, err)
	}
	file := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
}

func TestBrowserCheckPages(t *testing.T) {
	bctx := newBrowser(t)
	dir := t.TempDir()
	for _, f := range report.Fixtures() {
		t.Run(f.Name, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.CheckHTML(&b, f.Report); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, f.Name+".html")
			if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			url := "file://" + file
			tb := open(t, bctx, url, func(u string) bool { return u == url })

			if n := eval[int](t, tb, `document.querySelectorAll("svg.waterfall rect.bar").length`); n != len(f.Report.Steps) {
				t.Errorf("waterfall has %d bars, want one per step (%d)", n, len(f.Report.Steps))
			}
			// Each bar is drawn, and wide enough to see.
			if n := eval[int](t, tb, `[...document.querySelectorAll("svg.waterfall rect.bar")].filter(r => r.getBoundingClientRect().width >= 1).length`); n != len(f.Report.Steps) {
				t.Errorf("%d of %d bars are visible", n, len(f.Report.Steps))
			}
			// The verdict, with its code, evidence and advice, is in the
			// first screenful.
			bottom := eval[float64](t, tb, `document.querySelector("section.verdict").getBoundingClientRect().bottom`)
			if bottom > viewH {
				t.Errorf("the verdict ends at %.0f px, below the first screenful (%d px)", bottom, viewH)
			}
			if v := eval[string](t, tb, `document.querySelector("section.verdict").innerText`); !f.Report.OK() && !strings.Contains(v, f.Report.Diagnosis.Code) {
				t.Errorf("verdict %q lacks %s", v, f.Report.Diagnosis.Code)
			}
			// The page fits the window: nothing scrolls sideways.
			if w := eval[float64](t, tb, `document.documentElement.scrollWidth`); w > viewW {
				t.Errorf("page is %.0f px wide in a %d px window", w, viewW)
			}
			shoot(t, tb, "check-"+f.Name)

			// Opened, the transcript shows every line; printed, every
			// collapsed section opens.
			eval[bool](t, tb, `document.querySelector("details").open = true`)
			if n := eval[int](t, tb, `[...document.querySelectorAll("table.transcript tbody tr")].filter(r => r.getBoundingClientRect().height > 0).length`); n != len(f.Report.Transcript) {
				t.Errorf("opened transcript shows %d rows, want %d", n, len(f.Report.Transcript))
			}
			if f.Name == "failing" {
				// Where a support engineer looks: the end of a long
				// transcript, where the error is.
				eval[bool](t, tb, `document.querySelector("table.transcript tr.error").scrollIntoView({block: "center"}); true`)
				shootView(t, tb, "check-failing-transcript")
				ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
				defer cancel()
				if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
					t.Fatal(err)
				}
				eval[bool](t, tb, `scrollTo(0, 0); true`)
				shootView(t, tb, "check-failing-print")
			}
			tb.clean(t)
		})
	}
}

// TestBrowserCatchesLeaks proves the watch of TestBrowserCheckPages: a
// page that loads an image from elsewhere and writes a console error is
// caught on both counts.
func TestBrowserCatchesLeaks(t *testing.T) {
	bctx := newBrowser(t)
	file := filepath.Join(t.TempDir(), "leaky.html")
	// Port 9 (discard) on loopback: the request is made, and refused.
	page := `<!DOCTYPE html><title>leaky</title><img src="http://127.0.0.1:9/pixel.png"><script>console.error("boom")</script>`
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "file://" + file
	tb := open(t, bctx, url, func(u string) bool { return u == url })
	// Navigate returned at the load event, which waits for the image.
	tb.mu.Lock()
	got := strings.Join(tb.problems, "\n")
	tb.mu.Unlock()
	for _, want := range []string{"request to http://127.0.0.1:9/pixel.png", "console.error called"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems seen:\n%s\nwant %q among them", got, want)
		}
	}
}

func TestBrowserAuditReport(t *testing.T) {
	bctx := newBrowser(t)
	a := report.QuarterAudit()
	var b bytes.Buffer
	if err := report.AuditHTML(&b, a); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "audit.html")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "file://" + file
	tb := open(t, bctx, url, func(u string) bool { return u == url })
	if n := eval[int](t, tb, `document.querySelectorAll("svg.strip").length`); n != len(a.Targets) {
		t.Errorf("%d timeline strips, want %d", n, len(a.Targets))
	}
	incidents := 0
	for _, tg := range a.Targets {
		incidents += len(tg.Incidents)
	}
	if n := eval[int](t, tb, `[...document.querySelectorAll("svg.strip rect.incident")].filter(r => r.getBoundingClientRect().width > 0).length`); n != incidents {
		t.Errorf("%d incidents drawn, want %d", n, incidents)
	}
	if w := eval[float64](t, tb, `document.documentElement.scrollWidth`); w > viewW {
		t.Errorf("page is %.0f px wide in a %d px window", w, viewW)
	}
	shoot(t, tb, "audit-quarter")
	eval[bool](t, tb, `document.querySelector("section.target:nth-of-type(3)").scrollIntoView(); true`)
	shootView(t, tb, "audit-quarter-target")
	tb.clean(t)
}

// TestBrowserDashboard loads the live dashboard from its HTTP server on
// loopback, follows a link to a check's page, and watches the table
// refresh in place when the targets recover.
func TestBrowserDashboard(t *testing.T) {
	bctx := newBrowser(t)
	live := report.NewLiveMonitor(300 * time.Millisecond)
	srv := httptest.NewServer(report.DashboardHandler(live))
	defer srv.Close()
	local := func(u string) bool { return strings.HasPrefix(u, srv.URL+"/") }
	tb := open(t, bctx, srv.URL+"/", local)
	if n := eval[int](t, tb, `document.querySelectorAll("table.dash tbody tr").length`); n != 4 {
		t.Errorf("dashboard shows %d targets, want 4", n)
	}
	if first := eval[string](t, tb, `document.querySelector("table.dash tbody tr").className`); first != "critical" {
		t.Errorf("first row is %q, want the failing target first", first)
	}
	shoot(t, tb, "dashboard")

	// The page refreshes its table without reloading: a marker set on the
	// window survives, and the rows turn ok.
	eval[bool](t, tb, `window.marker = 1; true`)
	live.Recover()
	changed, err := run(tb, chromedp.Evaluate[bool](`new Promise(done => {
		const ok = () => [...document.querySelectorAll("table.dash tbody tr")].every(r => r.className === "ok");
		if (ok()) return done(true);
		new MutationObserver(() => { if (ok()) done(true); }).observe(document.getElementById("live"), {childList: true, subtree: true});
	})`, chromedp.EvalAwaitPromise))
	if err != nil || !changed {
		tb.clean(t)
		t.Fatalf("the table did not turn ok after the targets recovered (%v); the page says %q", err,
			eval[string](t, tb, `document.getElementById("refreshed").textContent`))
	}
	if m := eval[int](t, tb, `window.marker || 0`); m != 1 {
		t.Errorf("the page reloaded instead of refreshing in place")
	}
	shootView(t, tb, "dashboard-recovered")
	tb.clean(t)

	// A recent check's page, served by the dashboard.
	href := eval[string](t, tb, `document.querySelector("td.links a").href`)
	page := open(t, bctx, href, local)
	if n := eval[int](t, page, `document.querySelectorAll("svg.waterfall rect.bar").length`); n == 0 {
		t.Errorf("the check page from the dashboard has no waterfall")
	}
	shoot(t, page, "dashboard-check")
	page.clean(t)
}
