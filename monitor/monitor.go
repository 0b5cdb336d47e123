// Package monitor runs the tester on a schedule: each configured target
// on its own interval (with jitter), never two checks of one target at
// once, a bounded number of checks at a time. It keeps a state per target
// with hysteresis, alerts when that state changes, records every result
// in the history, and exposes Prometheus metrics and a blackbox-style
// /probe endpoint.
//
// It knows the tester only through client.Options and client.Report.
package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/status"
)

// Options configures a Monitor.
type Options struct {
	Config  *Config
	History *history.DB  // nil: results are not kept
	Logger  *slog.Logger // nil: discard
	Getenv  func(string) string
	// Check runs one check; nil means client.Check. Tests substitute it.
	Check func(context.Context, client.Options) (*client.Report, error)
}

// Monitor checks the configured targets. Its methods are safe for
// concurrent use.
type Monitor struct {
	cfg     *Config
	hist    *history.DB
	log     *slog.Logger
	check   func(context.Context, client.Options) (*client.Report, error)
	secrets *secrets
	reg     *prometheus.Registry
	metrics *probeMetrics
	ops     *opsMetrics
	alerts  *dispatcher
	sem     chan struct{} // bounds the checks running at once

	mu     sync.Mutex
	states map[string]*targetState
}

type targetState struct {
	t    *Target
	r    resume
	last time.Duration
}

// New builds a monitor and resumes each target's state from the history,
// so that a target failing before a restart stays failing and alerts no
// second time.
func New(ctx context.Context, o Options) (*Monitor, error) {
	if o.Config == nil {
		return nil, errors.New("monitor: no config")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Getenv == nil {
		return nil, errors.New("monitor: no Getenv")
	}
	if o.Check == nil {
		o.Check = client.Check
	}
	m := &Monitor{
		cfg:     o.Config,
		hist:    o.History,
		log:     o.Logger,
		check:   o.Check,
		secrets: newSecrets(o.Getenv),
		reg:     prometheus.NewRegistry(),
		sem:     make(chan struct{}, o.Config.Monitor.Concurrency),
		states:  map[string]*targetState{},
	}
	m.metrics = newProbeMetrics(m.reg, true)
	m.ops = newOpsMetrics(m.reg)
	sinks, err := newSinks(o.Config.Alerts, o.Getenv)
	if err != nil {
		return nil, err
	}
	m.alerts = newDispatcher(sinks, m.log, m.ops)
	var saved map[string][]byte
	if m.hist != nil {
		if saved, err = m.hist.States(ctx); err != nil {
			return nil, fmt.Errorf("monitor: resuming: %w", err)
		}
	}
	for i := range o.Config.Targets {
		t := &o.Config.Targets[i]
		ts := &targetState{t: t}
		if b, ok := saved[t.Name]; ok {
			if err := json.Unmarshal(b, &ts.r); err != nil {
				m.log.Warn("resume state unreadable; starting afresh", "target", t.Name, "err", err)
				ts.r = resume{}
			}
		}
		m.states[t.Name] = ts
		m.ops.state(t.Name, ts.r.view(t, 0))
	}
	return m, nil
}

// Registry returns the registry /metrics serves.
func (m *Monitor) Registry() *prometheus.Registry { return m.reg }

// States returns every target's current state, in config order.
func (m *Monitor) States() []TargetState {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]TargetState, 0, len(m.cfg.Targets))
	for i := range m.cfg.Targets {
		ts := m.states[m.cfg.Targets[i].Name]
		out = append(out, ts.r.view(ts.t, ts.last))
	}
	return out
}

// Run checks every target on its interval until ctx ends, then waits for
// the checks and alert deliveries under way (each bounded by its own
// deadlines) and returns.
func (m *Monitor) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	dctx, stopAlerts := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAlerts()
	alertsDone := m.alerts.start(dctx)
	for i := range m.cfg.Targets {
		t := &m.cfg.Targets[i]
		wg.Go(func() { m.loop(ctx, t) })
	}
	if m.hist != nil {
		wg.Go(func() { m.retain(ctx) })
	}
	wg.Wait()
	m.drainAlerts(alertsDone, stopAlerts)
	return nil
}

// alertGrace is how long a stopping monitor waits for alerts still being
// delivered (or retried) before it gives them up.
const alertGrace = 15 * time.Second

func (m *Monitor) drainAlerts(done <-chan struct{}, stop context.CancelFunc) {
	m.alerts.close()
	t := time.NewTimer(alertGrace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
		m.log.Warn("giving up alerts still undelivered", "after", alertGrace)
	}
	stop()
	<-done
}

// retain deletes results older than the retention, at start and hourly.
func (m *Monitor) retain(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		n, err := m.hist.Prune(ctx, time.Now().Add(-m.cfg.Monitor.Retention))
		switch {
		case err != nil && ctx.Err() == nil:
			m.log.Error("history: pruning old results", "err", err)
		case n > 0:
			m.log.Info("history: pruned old results", "results", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// loop schedules one target: one check at a time, the next one interval
// (with jitter) after the previous one started.
func (m *Monitor) loop(ctx context.Context, t *Target) {
	m.mu.Lock()
	last := m.states[t.Name].r.LastCheck
	m.mu.Unlock()
	// After a restart the next check comes when it was due; otherwise the
	// first checks spread over a few seconds rather than fire together.
	wait := time.Duration(rand.Float64() * float64(min(t.Interval, 5*time.Second)))
	if !last.IsZero() {
		wait = max(0, min(time.Until(last.Add(t.Interval)), t.Interval))
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		if !m.acquire(ctx) {
			return
		}
		m.runOne(ctx, t)
		<-m.sem
		jitter := *m.cfg.Monitor.Jitter * (2*rand.Float64() - 1)
		next := time.Duration(float64(t.Interval) * (1 + jitter))
		timer.Reset(max(0, next-time.Since(start)))
	}
}

func (m *Monitor) acquire(ctx context.Context) bool {
	select {
	case m.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// Outcome is one check as `monitor --once` prints it.
type Outcome struct {
	Target   string
	State    status.State // the check's own state, thresholds applied
	Breaches []string     // what broke a threshold
	Report   *client.Report
}

// Once checks every target once, at most Concurrency at a time, records
// and alerts as Run does, and waits for the alerts to be delivered (or
// given up). progress, if not nil, is called after each check.
func (m *Monitor) Once(ctx context.Context, progress func(done, total int, o Outcome)) []Outcome {
	dctx, stopAlerts := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAlerts()
	alertsDone := m.alerts.start(dctx)
	out := make([]Outcome, len(m.cfg.Targets))
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i := range m.cfg.Targets {
		t := &m.cfg.Targets[i]
		if !m.acquire(ctx) {
			out[i] = Outcome{Target: t.Name, State: status.Unknown}
			continue
		}
		wg.Go(func() {
			defer func() { <-m.sem }()
			out[i] = m.runOne(ctx, t)
			if progress != nil {
				mu.Lock()
				done++
				progress(done, len(out), out[i])
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	m.drainAlerts(alertsDone, stopAlerts)
	return out
}

// runOne checks one target and applies the result: state, history,
// metrics, alert. It never fails: every problem is a diagnosis or a log.
func (m *Monitor) runOne(ctx context.Context, t *Target) Outcome {
	rep := m.checkTarget(ctx, t, t.Address)
	state, breaches := status.Judge(rep, t.warning, t.critical, time.Now())
	if ctx.Err() != nil && rep.Diagnosis.Code == client.CodeCheckCanceled {
		// Stopping: the check in flight judged nothing about the server.
		return Outcome{Target: t.Name, State: status.Unknown, Report: rep}
	}
	m.metrics.observe(rep, state, t.Name)
	m.ops.checks.WithLabelValues(t.Name, state.String()).Inc()

	m.mu.Lock()
	ts := m.states[t.Name]
	alert := ts.r.advance(t, state, rep)
	ts.last = rep.Duration
	view := ts.r.view(t, ts.last)
	saved, err := json.Marshal(ts.r)
	m.mu.Unlock()
	if err != nil {
		m.log.Error("encoding resume state", "target", t.Name, "err", err)
		saved = nil
	}
	m.ops.state(t.Name, view)
	if m.hist != nil {
		res := history.FromReport(t.Name, t.Interval, state, rep, m.cfg.Monitor.KeepTranscript)
		// The record outlives a cancellation: a check that finished is kept.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		if err := m.hist.Record(hctx, res, saved); err != nil {
			m.ops.historyErrors.Inc()
			m.log.Error("history: result not recorded", "target", t.Name, "err", err)
		}
		cancel()
	}
	m.log.Info("check", "target", t.Name, "state", state.String(), "code", rep.Diagnosis.Code,
		"phase", rep.Diagnosis.Phase, "took", rep.Duration, "failing", view.Failing)
	if alert != nil {
		m.log.Warn("alert", "target", t.Name, "status", string(alert.Status), "code", alert.Code)
		m.alerts.send(*alert)
	}
	return Outcome{Target: t.Name, State: state, Breaches: breaches, Report: rep}
}

// checkTarget runs the tester against addr with t's settings. Problems
// before the walk (no secret, no token) come back as a report with their
// own diagnosis, so that they alert and are recorded like any failure.
func (m *Monitor) checkTarget(ctx context.Context, t *Target, addr string) *client.Report {
	start := time.Now()
	opts, d := m.options(ctx, t, addr)
	var rep *client.Report
	if d == nil {
		var err error
		rep, err = m.check(ctx, opts)
		if err != nil {
			d = &client.Diagnosis{Code: client.CodeCheckCanceled, Phase: "connect",
				Evidence: "invalid check options: " + err.Error(), Advice: "Fix the target's settings in the monitor config."}
		}
	}
	if d != nil {
		rep = &client.Report{Target: addr, TLSMode: client.TLSMode(t.TLS), User: t.User, Mailbox: t.Mailbox,
			Started: start, Duration: time.Since(start), Steps: []client.Step{}, Warnings: []client.Diagnosis{},
			Diagnosis: *d}
	}
	return rep
}

// options builds the tester's options for t at addr, with a fresh secret.
func (m *Monitor) options(ctx context.Context, t *Target, addr string) (client.Options, *client.Diagnosis) {
	o := client.Options{
		Addr:        addr,
		TLS:         client.TLSMode(t.TLS),
		ServerName:  t.ServerName,
		RootCAs:     t.rootCAs,
		Insecure:    t.Insecure,
		User:        t.User,
		Auth:        t.Auth,
		Mailbox:     t.Mailbox,
		StepTimeout: t.Timeout,
		Write:       t.Write,
		IdleHold:    t.IdleHold,
	}
	if t.User == "" {
		return o, nil
	}
	secret, d := m.secrets.get(ctx, t)
	if d != nil {
		return o, d
	}
	switch t.Auth {
	case client.AuthXOAuth2, client.AuthOAuthBearer:
		o.Token = secret
	default:
		o.Password = secret
	}
	return o, nil
}
