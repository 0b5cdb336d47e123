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

	// The last day of each target's results, oldest first, kept between
	// refreshes so that each one reads only what is new: a day of a
	// thousand targets checked every minute is over a million rows.
	mu     sync.Mutex
	recent map[string][]history.Result
	read   time.Time // results that started before this have been read
}

// recordLag is how long after its start a check may reach the history:
// a refresh reads again this far back, since a result is stored when its
// check ends but dated when it began.
const recordLag = 10 * time.Minute

var _ report.DashboardSource = (*dashboard)(nil)

func newDashboard(m *monitor.Monitor, db *history.DB) *dashboard {
	return &dashboard{m: m, db: db, recent: map[string][]history.Result{}}
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
	for _, r := range rs { // by target, then time
		kept := d.recent[r.Target]
		// One target's checks never overlap, so a result no later than
		// the last kept one was read before.
		if n := len(kept); n > 0 && !r.Time.After(kept[n-1].Time) {
			continue
		}
		d.recent[r.Target] = append(kept, r)
	}
	for name, kept := range d.recent {
		i := 0
		for i < len(kept) && kept[i].Time.Before(horizon) {
			i++
		}
		d.recent[name] = kept[i:]
	}
	d.read = now
	v := &report.DashboardView{Now: now}
	for _, s := range d.m.States() {
		v.Targets = append(v.Targets, report.NewDashTarget(report.DashTarget{
			Name: s.Name, Address: s.Address, State: s.State, Code: s.Code, Phase: s.Phase,
			Evidence: s.Evidence, LastCheck: s.LastCheck, Since: s.Since,
		}, d.recent[s.Name], now))
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
