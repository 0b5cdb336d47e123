package main

import (
	"context"
	"time"

	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/monitor"
	"github.com/imapfault/imapfault/report"
)

// dashboard is the monitor's live dashboard at "/": the monitor's states,
// the history's last 24 hours, and pages of the checks the history holds.
type dashboard struct {
	m  *monitor.Monitor
	db *history.DB
}

var _ report.DashboardSource = dashboard{}

func (d dashboard) View(ctx context.Context) (*report.DashboardView, error) {
	now := time.Now()
	recent, err := d.db.Results(ctx, history.Query{From: now.Add(-report.DashWindow), To: now})
	if err != nil {
		return nil, err
	}
	// Results come by target, then time: each target's run is one slice.
	byTarget := map[string][]history.Result{}
	for i := 0; i < len(recent); {
		j := i + 1
		for j < len(recent) && recent[j].Target == recent[i].Target {
			j++
		}
		byTarget[recent[i].Target] = recent[i:j]
		i = j
	}
	v := &report.DashboardView{Now: now}
	for _, s := range d.m.States() {
		v.Targets = append(v.Targets, report.NewDashTarget(report.DashTarget{
			Name: s.Name, Address: s.Address, State: s.State, Code: s.Code, Phase: s.Phase,
			Evidence: s.Evidence, LastCheck: s.LastCheck, Since: s.Since,
		}, byTarget[s.Name], now))
	}
	return v, nil
}

func (d dashboard) Result(ctx context.Context, target string, at time.Time) (history.Result, bool, error) {
	rs, err := d.db.Results(ctx, history.Query{Target: target, From: at, To: at.Add(time.Nanosecond)})
	if err != nil || len(rs) == 0 {
		return history.Result{}, false, err
	}
	return rs[0], true, nil
}
