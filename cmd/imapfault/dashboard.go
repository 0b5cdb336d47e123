package main

import (
	"context"
	"sync"
	"time"

	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/monitor"
	"github.com/imapfault/imapfault/report"
)

// dashboard is the monitor's live dashboard at "/": the monitor's states,
// the history's last day, and pages of the checks the history holds.
type dashboard struct {
	m  *monitor.Monitor
	db *history.DB

	// What the dashboard draws of each target's last day, fed each result
	// once: a refresh reads only what is new from the history, and draws
	// a strip in O(slots) rather than from a day of results (a thousand
	// targets checked every minute is over a million rows).
	mu   sync.Mutex
	kept *report.DashHistory
	read time.Time // results that started before this have been read
}

// recordLag is how long after its start a check may reach the history:
// a refresh reads again this far back, since a result is stored when its
// check ends but dated when it began.
const recordLag = 10 * time.Minute

var _ report.DashboardSource = (*dashboard)(nil)

func newDashboard(m *monitor.Monitor, db *history.DB) *dashboard {
	return &dashboard{m: m, db: db, kept: report.NewDashHistory()}
}

func (d *dashboard) View(ctx context.Context) (*report.DashboardView, error) {
	now := time.Now()
	horizon := now.Add(-report.DashWindow)
	d.mu.Lock()
	defer d.mu.Unlock()
	rs, err := d.db.Results(ctx, history.Query{From: later(horizon, d.read.Add(-recordLag)), To: now})
	if err != nil {
		return nil, err
	}
	for _, r := range rs { // by target, then time, as DashHistory needs
		d.kept.Add(r)
	}
	d.read = now
	v := &report.DashboardView{Now: now}
	for _, s := range d.m.States() {
		v.Targets = append(v.Targets, d.kept.Target(report.DashTarget{
			Name: s.Name, Address: s.Address, State: s.State, Code: s.Code, Phase: s.Phase,
			Evidence: s.Evidence, LastCheck: s.LastCheck, Since: s.Since,
		}, now))
	}
	return v, nil
}

func (d *dashboard) Result(ctx context.Context, target string, at time.Time) (history.Result, bool, error) {
	rs, err := d.db.Results(ctx, history.Query{Target: target, From: at, To: at.Add(time.Nanosecond)})
	if err != nil || len(rs) == 0 {
		return history.Result{}, false, err
	}
	return rs[0], true, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
