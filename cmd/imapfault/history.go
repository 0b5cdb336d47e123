package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/imapfault/imapfault/history"
)

const historySynopsis = `[--history FILE] [--target NAME] [--last 30d | --from T --to T] [--format text|json|csv]

Answers the audit questions from the monitor's history: availability per
target over a period (share of checks passed, and share of time up),
every incident (start, end, duration, diagnosis) and the slowest checks.
Times are RFC 3339 or dates (2026-01-31, UTC). CSV gives one table,
chosen with --table: summary (default), incidents or slowest.

Examples:
  imapfault history --last 90d
  imapfault history --from 2026-07-01 --to 2026-10-01 --format csv --table incidents`

func runHistory(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "history", historySynopsis)
	file := fs.String("history", "", "the history database `FILE` (default "+defaultHistory()+")")
	target := fs.String("target", "", "only target `NAME`")
	last := fs.String("last", "", "the period ending now, such as 24h, 30d (default: all)")
	fromS := fs.String("from", "", "start of the period (`TIME`, inclusive)")
	toS := fs.String("to", "", "end of the period (`TIME`, exclusive; default now)")
	format := fs.String("format", "text", "`FORMAT`: text, json or csv")
	table := fs.String("table", "summary", "the CSV `TABLE`: summary, incidents or slowest")
	slowest := fs.Int("slowest", 5, "list the `N` slowest checks per target")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		errorf(e, "history takes no arguments, got %q", fs.Args())
		return exitUsage
	}
	q := history.Query{Target: *target}
	var err error
	if q.From, q.To, err = period(*last, *fromS, *toS, time.Now()); err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	switch *format {
	case "text", "json", "csv":
	default:
		errorf(e, "--format %q: want text, json or csv", *format)
		return exitUsage
	}
	switch *table {
	case "summary", "incidents", "slowest":
	default:
		errorf(e, "--table %q: want summary, incidents or slowest", *table)
		return exitUsage
	}
	path := firstOf(*file, defaultHistory())
	if _, err := os.Stat(path); err != nil {
		errorf(e, "%v", err)
		hintf(e, "name the monitor's database with --history FILE")
		return exitUsage
	}
	h, err := history.Open(ctx, path)
	if err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	defer h.Close()
	sums, err := h.Summary(ctx, q, *slowest)
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(sums)
	case "csv":
		err = historyCSV(e.stdout, sums, *table)
	default:
		historyText(e.stdout, sums)
	}
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	return exitOK
}

// period turns the flags into [from, to).
func period(last, from, to string, now time.Time) (time.Time, time.Time, error) {
	if last != "" && (from != "" || to != "") {
		return time.Time{}, time.Time{}, fmt.Errorf("--last excludes --from and --to")
	}
	if last != "" {
		d, err := parseDays(last)
		if err != nil || d <= 0 {
			return time.Time{}, time.Time{}, fmt.Errorf("--last %q: want a positive duration such as 24h or 30d", last)
		}
		return now.Add(-d), now, nil
	}
	var f, t time.Time
	var err error
	if from != "" {
		if f, err = parseTime(from); err != nil {
			return f, t, fmt.Errorf("--from: %w", err)
		}
	}
	t = now
	if to != "" {
		if t, err = parseTime(to); err != nil {
			return f, t, fmt.Errorf("--to: %w", err)
		}
	}
	if !f.IsZero() && !f.Before(t) {
		return f, t, fmt.Errorf("--from %s is not before --to %s", from, to)
	}
	return f, t, nil
}

// parseDays is time.ParseDuration with a "d" for days.
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		return time.Duration(days) * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-01-31T12:00:00Z) or a date (2026-01-31)", s)
}

func pct(ok bool, v float64) string {
	if !ok {
		return "n/a"
	}
	return strconv.FormatFloat(100*v, 'f', 3, 64) + "%"
}

func historyText(w io.Writer, sums []history.Summary) {
	if len(sums) == 0 {
		fmt.Fprintln(w, "no results in the history for this period")
		return
	}
	for _, s := range sums {
		fmt.Fprintf(w, "%s  %s .. %s\n", s.Target, s.From.UTC().Format(time.RFC3339), s.To.UTC().Format(time.RFC3339))
		fmt.Fprintf(w, "  availability %s of checks (%d up, %d down, %d unknown), %s of time (down %s, unmonitored %s)\n",
			pct(s.Up+s.Down > 0, s.Availability), s.Up, s.Down, s.Unknown,
			pct(s.UpTime+s.DownTime > 0, s.TimeAvailability), s.DownTime.Round(time.Second), s.Unmonitored.Round(time.Second))
		for _, in := range s.Incidents {
			end := "ongoing"
			if !in.Open {
				end = in.End.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "  incident %s .. %s (%s): %s in %s, %d checks, %s\n", in.Start.UTC().Format(time.RFC3339), end,
				in.Duration.Round(time.Second), in.Code, in.Phase, in.Checks, in.Evidence)
		}
		for _, r := range s.Slowest {
			fmt.Fprintf(w, "  slow %s %s: %s\n", r.Time.UTC().Format(time.RFC3339), fmtDuration(r.Duration), r.Code)
		}
	}
}

func historyCSV(w io.Writer, sums []history.Summary, table string) error {
	cw := csv.NewWriter(w)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	secs := func(d time.Duration) string { return f(d.Seconds()) }
	ratio := func(ok bool, v float64) string {
		if !ok {
			return ""
		}
		return f(v)
	}
	switch table {
	case "summary":
		cw.Write([]string{"target", "from", "to", "checks", "up", "down", "unknown", "availability", //nolint:errcheck // cw.Error below
			"time_availability", "up_seconds", "down_seconds", "unmonitored_seconds", "incidents"})
		for _, s := range sums {
			cw.Write([]string{s.Target, s.From.UTC().Format(time.RFC3339), s.To.UTC().Format(time.RFC3339), //nolint:errcheck // cw.Error below
				strconv.Itoa(s.Checks), strconv.Itoa(s.Up), strconv.Itoa(s.Down), strconv.Itoa(s.Unknown),
				ratio(s.Up+s.Down > 0, s.Availability), ratio(s.UpTime+s.DownTime > 0, s.TimeAvailability),
				secs(s.UpTime), secs(s.DownTime), secs(s.Unmonitored), strconv.Itoa(len(s.Incidents))})
		}
	case "incidents":
		cw.Write([]string{"target", "start", "end", "duration_seconds", "code", "phase", "checks", "codes", "evidence"}) //nolint:errcheck // cw.Error below
		for _, s := range sums {
			for _, in := range s.Incidents {
				end := ""
				if !in.Open {
					end = in.End.UTC().Format(time.RFC3339Nano)
				}
				cw.Write([]string{in.Target, in.Start.UTC().Format(time.RFC3339Nano), end, secs(in.Duration), //nolint:errcheck // cw.Error below
					in.Code, in.Phase, strconv.Itoa(in.Checks), strings.Join(in.Codes, " "), in.Evidence})
			}
		}
	case "slowest":
		cw.Write([]string{"target", "time", "duration_seconds", "state", "code", "phase"}) //nolint:errcheck // cw.Error below
		for _, s := range sums {
			for _, r := range s.Slowest {
				cw.Write([]string{r.Target, r.Time.UTC().Format(time.RFC3339Nano), secs(r.Duration), r.State.String(), r.Code, r.Phase}) //nolint:errcheck // cw.Error below
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
