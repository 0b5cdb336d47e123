package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/internal/tomlpos"
	"github.com/imapfault/imapfault/monitor"
	"github.com/imapfault/imapfault/report"
	"github.com/imapfault/imapfault/status"
)

const monitorSynopsis = `--config FILE [--listen ADDR] [--once] [--history FILE]

Checks every target of a monitor config on its interval, alerts when a
target's state changes, records every result in the history, and serves
Prometheus metrics on /metrics and blackbox-style probes on /probe
(?target=NAME, or ?target=HOST:PORT&module=NAME). See docs/monitor.md.
With --once, checks every target once, prints one line per target and
exits with the worst state: 0 ok, 1 warning, 2 critical, 3 unknown.

Examples:
  ACME_PW=secret imapfault monitor --config monitor.toml --listen 127.0.0.1:9143
  imapfault monitor --once --config monitor.toml`

func runMonitor(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "monitor", monitorSynopsis)
	configFile := fs.String("config", "", "the monitor config `FILE` (TOML)")
	listen := fs.String("listen", "", "serve /metrics and /probe on `ADDR` (default: the config's monitor.listen; none if neither)")
	once := fs.Bool("once", false, "check every target once, print one line each, exit with the worst state")
	histFile := fs.String("history", "", "the history database `FILE` (default: the config's monitor.history, else "+defaultHistory()+")")
	logFormat := fs.String("log-format", "", "`FORMAT` of the logs on stderr: text or json (default: the config's monitor.log_format)")
	verbose := fs.Bool("v", false, "log at debug level")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *configFile == "" || fs.NArg() > 0 {
		errorf(e, "monitor needs --config FILE and no arguments")
		hintf(e, "imapfault monitor --config monitor.toml --listen 127.0.0.1:9143 (see docs/monitor.md)")
		return exitUsage
	}
	cfg, err := monitor.LoadConfig(*configFile)
	if err != nil {
		printConfigError(e, err)
		return exitUsage
	}
	if err := cfg.CheckSecrets(e.getenv); err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	format := cfg.Monitor.LogFormat
	if *logFormat != "" {
		format = *logFormat
	}
	logger, err := newLogger(e.stderr, format, *verbose)
	if err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	path := firstOf(*histFile, cfg.Monitor.History, defaultHistory())
	hist, err := history.Open(ctx, path)
	if err != nil {
		errorf(e, "%v", err)
		hintf(e, "name another database with --history FILE")
		return exitUsage
	}
	defer hist.Close()
	m, err := monitor.New(ctx, monitor.Options{Config: cfg, History: hist, Logger: logger, Getenv: e.getenv})
	if err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	if *once {
		return monitorOnce(ctx, e, m, len(cfg.Targets))
	}
	addr := firstOf(*listen, cfg.Monitor.Listen)
	if addr == "" {
		logger.Info("no --listen: metrics are not served")
		m.Run(ctx) //nolint:errcheck // Run returns when ctx ends
		return exitOK
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	mux := http.NewServeMux()
	m.Routes(mux)
	mux.Handle("GET /", report.DashboardHandler(newDashboard(m, hist)))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("monitor started", "listen", ln.Addr().String(), "targets", len(cfg.Targets), "history", path)
	fmt.Fprintf(e.stderr, "imapfault: monitoring %d targets; metrics on http://%s/metrics\n", len(cfg.Targets), ln.Addr())
	m.Run(ctx) //nolint:errcheck // Run returns when ctx ends
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx) //nolint:errcheck // the process is ending
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errorf(e, "%v", err)
		return exitFailure
	}
	return exitOK
}

// monitorOnce runs every target once and prints a line each; on a
// terminal, a progress line counts the checks as they finish.
func monitorOnce(ctx context.Context, e *env, m *monitor.Monitor, n int) int {
	var progress func(done, total int, o monitor.Outcome)
	if f, ok := e.stderr.(*os.File); ok && n > 1 && isTerminal(f) {
		failing := 0
		progress = func(done, total int, o monitor.Outcome) {
			if o.State != status.OK {
				failing++
			}
			fmt.Fprintf(e.stderr, "\r\033[Kchecked %d of %d targets, %d not ok", done, total, failing)
		}
	}
	outcomes := m.Once(ctx, progress)
	if progress != nil {
		fmt.Fprint(e.stderr, "\r\033[K")
	}
	worst := status.OK
	width := 0
	for _, o := range outcomes {
		width = max(width, len(o.Target))
	}
	for _, o := range outcomes {
		worst = status.Worse(worst, o.State)
		fmt.Fprintln(e.stdout, onceLine(o, width))
	}
	return int(worst)
}

// onceLine is one target's line: name, state, diagnosis, time, and why.
func onceLine(o monitor.Outcome, width int) string {
	if o.Report == nil {
		return fmt.Sprintf("%-*s  %-8s  not checked: interrupted", width, o.Target, strings.ToUpper(o.State.String()))
	}
	d := o.Report.Diagnosis
	why := d.Evidence
	switch {
	case len(o.Breaches) > 0:
		why = "threshold: " + strings.Join(o.Breaches, "; ")
	case o.State == status.Warning && len(o.Report.Warnings) > 0:
		w := o.Report.Warnings[0]
		why = "warning " + w.Code + ": " + w.Evidence
	}
	return fmt.Sprintf("%-*s  %-8s  %s in %s  %s  %s", width, o.Target, strings.ToUpper(o.State.String()),
		d.Code, d.Phase, fmtDuration(o.Report.Duration), strings.ReplaceAll(why, "\n", " "))
}

func printConfigError(e *env, err error) {
	var list tomlpos.ErrorList
	if errors.As(err, &list) {
		for _, x := range list {
			fmt.Fprintln(e.stderr, x)
		}
		return
	}
	errorf(e, "%v", err)
}

func newLogger(w io.Writer, format string, debug bool) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if debug {
		opts.Level = slog.LevelDebug
	}
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// defaultHistory is the database under the user's state directory
// ($XDG_STATE_HOME, else ~/.local/state).
func defaultHistory() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "imapfault-history.db"
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "imapfault", "history.db")
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
