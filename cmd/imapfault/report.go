package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/monitor"
	"github.com/imapfault/imapfault/report"
)

const reportSynopsis = `[--history FILE] [--config FILE] --since DATE [--until DATE] [--target NAME] [--html FILE] [--json FILE] [--csv FILE]

Makes the audit report of a period from the monitor's history: per target
availability (by checks and by time), incidents, a timeline, daily latency
per step (median and 95th percentile), certificate expiry dates seen and the
intervals checked; with --config, each target's settings from the monitor's
config (where a secret comes from, never the secret). A DATE is a UTC day (2026-10-01; --until includes it) or an
RFC 3339 time (--until excludes it). --until defaults to now. Without an
output file the summary is printed; FILE "-" is standard output.

Examples:
  imapfault report --history mon.db --since 2026-10-01 --until 2026-12-31 --html q4.html
  imapfault report --history mon.db --since 2026-12-01 --target acme --csv - > acme.csv`

func runReport(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "report", reportSynopsis)
	var (
		dbFile, cfgFile, since, until, target, htmlFile, jsonFile, csvFile string
	)
	fs.StringVar(&cfgFile, "config", "", "show each target's settings from the monitor config `FILE`")
	fs.StringVar(&dbFile, "history", "", "the monitor's history database `FILE` (default "+defaultHistory()+")")
	fs.StringVar(&since, "since", "", "start of the period: a UTC `DATE` or an RFC 3339 time")
	fs.StringVar(&until, "until", "", "end of the period, included when a `DATE` (default: now)")
	fs.StringVar(&target, "target", "", "report on the target `NAME` only")
	fs.StringVar(&htmlFile, "html", "", "write the report as a self-contained HTML page to `FILE`")
	fs.StringVar(&jsonFile, "json", "", "write the report as JSON to `FILE`")
	fs.StringVar(&csvFile, "csv", "", "write the report as one CSV table to `FILE`")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		errorf(e, "report takes no arguments, got %q", fs.Args())
		return exitUsage
	}
	dbFile = firstOf(dbFile, defaultHistory())
	if since == "" {
		errorf(e, "report needs --since")
		hintf(e, "imapfault report --history monitor.db --since 2026-10-01 --until 2026-12-31 --html q4.html")
		return exitUsage
	}
	from, err := parseWhen(since, false)
	if err != nil {
		errorf(e, "--since: %v", err)
		return exitUsage
	}
	to := time.Now().UTC()
	if until != "" {
		if to, err = parseWhen(until, true); err != nil {
			errorf(e, "--until: %v", err)
			return exitUsage
		}
	}
	if !to.After(from) {
		errorf(e, "--until %s is not after --since %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
		return exitUsage
	}
	if _, err := os.Stat(dbFile); err != nil {
		// Opening would create an empty database: say what is wrong instead.
		errorf(e, "--history: %v", err)
		return exitUsage
	}
	db, err := history.Open(ctx, dbFile)
	if err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	defer db.Close()
	results, err := db.Period(ctx, history.Query{Target: target, From: from, To: to})
	if err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	if target != "" && len(results) == 0 {
		names, _ := db.Targets(ctx)
		errorf(e, "--target %q: no result in the history (targets: %v)", target, names)
		return exitUsage
	}
	var settings map[string][]report.Setting
	if cfgFile != "" {
		cfg, err := monitor.LoadConfig(cfgFile)
		if err != nil {
			errorf(e, "--config: %v", err)
			return exitUsage
		}
		settings = configSettings(cfg)
	}
	a := report.NewAudit(results, from, to, time.Now().UTC(), settings)
	toStdout := false
	for _, out := range []struct {
		flag, file string
		render     func(io.Writer, *report.Audit) error
	}{
		{"--html", htmlFile, report.AuditHTML},
		{"--json", jsonFile, report.AuditJSON},
		{"--csv", csvFile, report.AuditCSV},
	} {
		if out.file == "" {
			continue
		}
		render := func(w io.Writer) error { return out.render(w, a) }
		if out.file == "-" {
			toStdout = true
			err = render(e.stdout)
		} else {
			err = writeOutput(out.file, render)
		}
		if err != nil {
			errorf(e, "%s: %v", out.flag, err)
			return exitUsage
		}
	}
	if !toStdout {
		printAuditSummary(e.stdout, a)
	}
	return exitOK
}

// parseWhen reads a UTC day or an RFC 3339 time; a day given as an end
// includes that day.
func parseWhen(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("want a day (2026-10-01) or an RFC 3339 time (2026-10-01T08:00:00Z), got " + fmt.Sprintf("%q", s))
	}
	return t.UTC(), nil
}

// configSettings lists what each target is checked with, for the audit
// report: everything an auditor asks about, and of the secret only where
// it comes from. Of a token command only the program is named (its
// arguments may carry a secret), of a token endpoint only its host.
func configSettings(cfg *monitor.Config) map[string][]report.Setting {
	out := map[string][]report.Setting{}
	for _, t := range cfg.Targets {
		var ss []report.Setting
		add := func(name, value string) {
			if value != "" {
				ss = append(ss, report.Setting{Name: name, Value: value})
			}
		}
		add("Address", t.Address)
		add("TLS", firstOf(t.TLS, "from the port"))
		if t.Insecure {
			add("Certificate", "not enforced (insecure)")
		}
		add("User", firstOf(t.User, "none (probe only)"))
		if t.User != "" {
			add("Authentication", firstOf(t.Auth, "login"))
			add("Secret from", secretSource(t))
			add("Mailbox", firstOf(t.Mailbox, "INBOX"))
		}
		if t.Write {
			add("Write tests", "on")
		}
		if t.Interval > 0 {
			add("Configured interval", t.Interval.String())
		}
		if t.Timeout > 0 {
			add("Step timeout", t.Timeout.String())
		}
		if t.Failures > 0 || t.Successes > 0 {
			add("Failing after", fmt.Sprintf("%d failed checks in a row; ok again after %d passing", t.Failures, t.Successes))
		}
		add("Warning thresholds", thresholds(t.Warning))
		add("Critical thresholds", thresholds(t.Critical))
		out[t.Name] = ss
	}
	return out
}

func secretSource(t monitor.Target) string {
	switch {
	case t.PasswordEnv != "":
		return "environment variable " + t.PasswordEnv
	case t.TokenEnv != "":
		return "environment variable " + t.TokenEnv
	case t.PasswordFile != "":
		return "file " + t.PasswordFile
	case t.TokenFile != "":
		return "file " + t.TokenFile
	case len(t.TokenCommand) > 0:
		return "the output of " + t.TokenCommand[0]
	case t.OAuth2 != nil:
		host := t.OAuth2.TokenURL
		if u, err := url.Parse(t.OAuth2.TokenURL); err == nil && u.Host != "" {
			host = u.Host
		}
		return "OAuth2 " + firstOf(t.OAuth2.Grant, "refresh_token") + " grant at " + host
	}
	return ""
}

// thresholds prints a threshold table in a stable order.
func thresholds(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + m[k]
	}
	return strings.Join(parts, "; ")
}

// printAuditSummary prints one line per target.
func printAuditSummary(w io.Writer, a *report.Audit) {
	fmt.Fprintf(w, "imapfault report %s to %s (UTC)\n", a.From.Format(time.RFC3339), a.To.Format(time.RFC3339))
	if len(a.Targets) == 0 {
		fmt.Fprintln(w, "  no check in the period")
	}
	for _, t := range a.Targets {
		avail := "no data"
		if t.Up+t.Down > 0 {
			avail = fmt.Sprintf("%.3f%% of %d checks", 100*t.Availability, t.Up+t.Down)
		}
		fmt.Fprintf(w, "  %-30s %s, down %s, %d incidents\n", t.Target, avail, t.DownTime.Round(time.Second), len(t.Incidents))
	}
}
