// Package history stores every check result in an embedded SQLite database
// (modernc.org/sqlite: no cgo) and answers the audit questions from it:
// availability, incidents and the slowest checks over a period (Summarize).
//
// Writes go through SQLite's write-ahead log, so a result whose Record
// returned survives a crash of the process; the resume state a monitor
// keeps per target is written in the same transaction as the result it
// follows from, so the two never disagree after a restart.
package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/status"
)

// Result is one check as the history keeps it: no transcript unless the
// monitor was asked to keep it, and never a secret (the tester redacts
// evidence and transcript before they reach a Report).
type Result struct {
	Target   string        `json:"target"` // the monitor's target name
	Time     time.Time     `json:"time"`   // when the check started
	Duration time.Duration `json:"-"`      // the whole check
	// Interval is how often the target is checked; the result stands for
	// the target's state until the next one, or for at most two intervals
	// when none follows (the monitor stopped). Zero: until the next result.
	Interval   time.Duration `json:"-"`
	State      status.State  `json:"state"`
	Code       string        `json:"code"` // diagnosis code, "ok" when all passed
	Phase      string        `json:"phase"`
	Evidence   string        `json:"evidence"`
	Warnings   []Warning     `json:"warnings"`
	Steps      []Step        `json:"steps"`
	Transcript string        `json:"transcript,omitempty"`
	// CertExpiry is when the server's certificate expires (NotAfter), for
	// the audit report's certificate dates; zero when TLS was not used.
	CertExpiry time.Time `json:"cert_expiry,omitzero"`
}

// Warning is a warning diagnosis of a check.
type Warning struct {
	Code     string `json:"code"`
	Phase    string `json:"phase"`
	Evidence string `json:"evidence"`
}

// Step is one phase of a check and how long it took.
type Step struct {
	Phase    string        `json:"phase"`
	Duration time.Duration `json:"-"`
	OK       bool          `json:"ok"`
}

// MarshalJSON gives durations in milliseconds, as client.Report does.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		DurationMS float64 `json:"duration_ms"`
		IntervalMS float64 `json:"interval_ms"`
	}{plain(r), ms(r.Duration), ms(r.Interval)})
}

// MarshalJSON gives the duration in milliseconds.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	return json.Marshal(struct {
		plain
		DurationMS float64 `json:"duration_ms"`
	}{plain(s), ms(s.Duration)})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// FromReport turns a tester's report into a result for target, judged as
// state. The transcript is kept only when withTranscript is set.
func FromReport(target string, interval time.Duration, state status.State, rep *client.Report, withTranscript bool) Result {
	r := Result{
		Target:   target,
		Time:     rep.Started,
		Duration: rep.Duration,
		Interval: interval,
		State:    state,
		Code:     rep.Diagnosis.Code,
		Phase:    rep.Diagnosis.Phase,
		Evidence: rep.Diagnosis.Evidence,
		Warnings: make([]Warning, 0, len(rep.Warnings)),
		Steps:    make([]Step, 0, len(rep.Steps)),
	}
	for _, w := range rep.Warnings {
		r.Warnings = append(r.Warnings, Warning{Code: w.Code, Phase: w.Phase, Evidence: w.Evidence})
	}
	if rep.TLS != nil {
		r.CertExpiry = rep.TLS.NotAfter.UTC()
	}
	for _, s := range rep.Steps {
		r.Steps = append(r.Steps, Step{Phase: s.Phase, Duration: s.Duration, OK: s.OK})
	}
	if withTranscript {
		b := make([]byte, 0, 64*len(rep.Transcript))
		for _, ev := range rep.Transcript {
			b = fmt.Appendf(b, "%8.3fs %d %s %s\n", ev.Elapsed.Seconds(), ev.Session, ev.Dir, ev.Text)
		}
		r.Transcript = string(b)
	}
	return r
}

// DB is an open history database. It is safe for concurrent use.
type DB struct {
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS results (
	id          INTEGER PRIMARY KEY,
	target      TEXT    NOT NULL,
	time_ns     INTEGER NOT NULL, -- Unix nanoseconds, UTC
	duration_ns INTEGER NOT NULL,
	interval_ns INTEGER NOT NULL,
	state       TEXT    NOT NULL, -- ok, warning, critical, unknown
	code        TEXT    NOT NULL,
	phase       TEXT    NOT NULL,
	evidence    TEXT    NOT NULL,
	warnings    TEXT    NOT NULL, -- JSON array of Warning
	steps       TEXT    NOT NULL, -- JSON array of Step (durations in ns)
	transcript  TEXT,             -- NULL unless asked for
	cert_expiry_ns INTEGER        -- the certificate's NotAfter, Unix nanoseconds; NULL without TLS
);
CREATE INDEX IF NOT EXISTS results_target_time ON results (target, time_ns);
CREATE INDEX IF NOT EXISTS results_time ON results (time_ns);
CREATE TABLE IF NOT EXISTS target_state (
	target TEXT PRIMARY KEY,
	state  BLOB NOT NULL -- opaque to history: the monitor's resume state
);
`

// Open opens (creating if needed) the database at path in WAL mode. Its
// folder is created too, private to the user, since results name servers
// and users.
func Open(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	// synchronous(NORMAL) under WAL loses no committed transaction when the
	// process dies, only on a power cut; busy_timeout lets a second process
	// (imapfault history beside a running monitor) wait instead of failing.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("history: open %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("history: %s: %w", path, err)
	}
	return &DB{db: db}, nil
}

// Close closes the database.
func (h *DB) Close() error { return h.db.Close() }

// Record stores one result. A non-nil state is stored as the target's
// resume state in the same transaction, so that after a crash the state
// and the last result agree.
func (h *DB) Record(ctx context.Context, r Result, state []byte) error {
	if r.Target == "" {
		return errors.New("history: a result needs a target")
	}
	warnings, err := json.Marshal(nonNil(r.Warnings))
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	steps, err := json.Marshal(storedSteps(r.Steps))
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	stateText, err := r.State.MarshalText()
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	var transcript, certExpiry any
	if r.Transcript != "" {
		transcript = r.Transcript
	}
	if !r.CertExpiry.IsZero() {
		certExpiry = r.CertExpiry.UnixNano()
	}
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("history: record %s: %w", r.Target, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO results
		(target, time_ns, duration_ns, interval_ns, state, code, phase, evidence, warnings, steps, transcript, cert_expiry_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Target, r.Time.UnixNano(), int64(r.Duration), int64(r.Interval), string(stateText),
		r.Code, r.Phase, r.Evidence, string(warnings), string(steps), transcript, certExpiry); err != nil {
		return fmt.Errorf("history: record %s: %w", r.Target, err)
	}
	if state != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO target_state (target, state) VALUES (?, ?)
			ON CONFLICT (target) DO UPDATE SET state = excluded.state`, r.Target, state); err != nil {
			return fmt.Errorf("history: record %s: %w", r.Target, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history: record %s: %w", r.Target, err)
	}
	return nil
}

// States returns every target's resume state, as last given to Record.
func (h *DB) States(ctx context.Context) (map[string][]byte, error) {
	rows, err := h.db.QueryContext(ctx, `SELECT target, state FROM target_state`)
	if err != nil {
		return nil, fmt.Errorf("history: states: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var name string
		var state []byte
		if err := rows.Scan(&name, &state); err != nil {
			return nil, fmt.Errorf("history: states: %w", err)
		}
		out[name] = state
	}
	return out, rows.Err()
}

// Prune deletes the results that started before t (retention) and returns
// how many went.
func (h *DB) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := h.db.ExecContext(ctx, `DELETE FROM results WHERE time_ns < ?`, before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	return res.RowsAffected()
}

// Query selects results: of one target (all when empty), started in
// [From, To) (zero times leave that side open).
type Query struct {
	Target   string
	From, To time.Time
}

func (q Query) bounds() (from, to int64) {
	from, to = minNS, maxNS
	if !q.From.IsZero() {
		from = q.From.UnixNano()
	}
	if !q.To.IsZero() {
		to = q.To.UnixNano()
	}
	return from, to
}

const (
	minNS = int64(-1 << 63)
	maxNS = int64(1<<63 - 1)
)

// Results returns the results q selects, by target then time.
func (h *DB) Results(ctx context.Context, q Query) ([]Result, error) {
	from, to := q.bounds()
	return h.query(ctx, `WHERE (? = '' OR target = ?) AND time_ns >= ? AND time_ns < ?`,
		q.Target, q.Target, from, to)
}

// Targets returns the names of every target with results, sorted.
func (h *DB) Targets(ctx context.Context) ([]string, error) {
	rows, err := h.db.QueryContext(ctx, `SELECT DISTINCT target FROM results ORDER BY target`)
	if err != nil {
		return nil, fmt.Errorf("history: targets: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("history: targets: %w", err)
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// Summary summarizes each target q selects over [q.From, q.To) (see
// Summarize), with the slowest n checks. A zero To means now.
func (h *DB) Summary(ctx context.Context, q Query, slowest int) ([]Summary, error) {
	if q.To.IsZero() {
		q.To = time.Now()
	}
	all, err := h.Period(ctx, q)
	if err != nil {
		return nil, err
	}
	return Summarize(all, q.From, q.To, slowest), nil
}

// Period returns what summarizing each target q selects over [q.From,
// q.To) needs: the results that started in it, and those before From
// back to the last up one, which give the state at From and the start of
// an incident still open then. A zero To means now.
func (h *DB) Period(ctx context.Context, q Query) ([]Result, error) {
	if q.To.IsZero() {
		q.To = time.Now()
	}
	targets := []string{q.Target}
	if q.Target == "" {
		var err error
		if targets, err = h.Targets(ctx); err != nil {
			return nil, err
		}
	}
	var all []Result
	from, to := q.bounds()
	for _, t := range targets {
		// The last up result before From bounds both the state at From and
		// the start of an incident open at From.
		var last sql.NullInt64
		if err := h.db.QueryRowContext(ctx, `SELECT max(time_ns) FROM results
			WHERE target = ? AND time_ns < ? AND state IN ('ok', 'warning')`, t, from).Scan(&last); err != nil {
			return nil, fmt.Errorf("history: summary of %s: %w", t, err)
		}
		start := minNS
		if last.Valid {
			start = last.Int64
		}
		rs, err := h.query(ctx, `WHERE target = ? AND time_ns >= ? AND time_ns < ?`, t, start, to)
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
	}
	return all, nil
}

func (h *DB) query(ctx context.Context, where string, args ...any) ([]Result, error) {
	rows, err := h.db.QueryContext(ctx, `SELECT target, time_ns, duration_ns, interval_ns, state, code, phase,
		evidence, warnings, steps, transcript, cert_expiry_ns FROM results `+where+` ORDER BY target, time_ns, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("history: query: %w", err)
	}
	defer rows.Close()
	var out []Result
	for rows.Next() {
		var (
			r                      Result
			t, dur, iv             int64
			state, warnings, steps string
			transcript             sql.NullString
			certExpiry             sql.NullInt64
		)
		if err := rows.Scan(&r.Target, &t, &dur, &iv, &state, &r.Code, &r.Phase, &r.Evidence,
			&warnings, &steps, &transcript, &certExpiry); err != nil {
			return nil, fmt.Errorf("history: query: %w", err)
		}
		r.Time = time.Unix(0, t).UTC()
		r.Duration, r.Interval = time.Duration(dur), time.Duration(iv)
		r.Transcript = transcript.String
		if certExpiry.Valid {
			r.CertExpiry = time.Unix(0, certExpiry.Int64).UTC()
		}
		if err := r.State.UnmarshalText([]byte(state)); err != nil {
			return nil, fmt.Errorf("history: result of %s at %s: %w", r.Target, r.Time, err)
		}
		if err := json.Unmarshal([]byte(warnings), &r.Warnings); err != nil {
			return nil, fmt.Errorf("history: result of %s at %s: warnings: %w", r.Target, r.Time, err)
		}
		var ss []storedStep
		if err := json.Unmarshal([]byte(steps), &ss); err != nil {
			return nil, fmt.Errorf("history: result of %s at %s: steps: %w", r.Target, r.Time, err)
		}
		r.Steps = make([]Step, len(ss))
		for i, s := range ss {
			r.Steps[i] = Step{Phase: s.Phase, Duration: time.Duration(s.NS), OK: s.OK}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// storedStep is a step as the database keeps it: exact nanoseconds.
type storedStep struct {
	Phase string `json:"phase"`
	NS    int64  `json:"ns"`
	OK    bool   `json:"ok"`
}

func storedSteps(steps []Step) []storedStep {
	out := make([]storedStep, len(steps))
	for i, s := range steps {
		out[i] = storedStep{Phase: s.Phase, NS: int64(s.Duration), OK: s.OK}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
