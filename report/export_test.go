package report

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/status"
)

// Fixture is a fixed report under a name, for the browser tests, which
// live in package report_test so that they can also drive the monitor.
type Fixture struct {
	Name   string
	Report *client.Report
}

// Fixtures returns fresh copies of the fixed reports.
func Fixtures() []Fixture {
	out := make([]Fixture, len(fixtures))
	for i, f := range fixtures {
		out[i] = Fixture{f.name, f.rep()}
	}
	return out
}

// QuarterAudit is the 90-day report of the browser's screenshots.
func QuarterAudit() *Audit {
	return NewAudit(quarterHistory(), auditStart, auditStart.AddDate(0, 0, 90), auditStart.AddDate(0, 0, 90).Add(time.Hour),
		map[string][]Setting{"mail.example.org:143": sampleSettings})
}

// LiveMonitor is a DashboardSource for the browser test whose targets'
// states can be changed while a page shows them.
type LiveMonitor struct {
	mu sync.Mutex
	m  *fakeMonitor
}

// NewLiveMonitor returns the dashboard test's day of four targets, with
// the page refreshing every refresh.
func NewLiveMonitor(refresh time.Duration) *LiveMonitor {
	return &LiveMonitor{m: newFakeMonitor(refresh)}
}

func (l *LiveMonitor) View(ctx context.Context) (*DashboardView, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, err := l.m.View(ctx)
	v.Targets = slices.Clone(v.Targets)
	return v, err
}

func (l *LiveMonitor) Result(ctx context.Context, target string, at time.Time) (history.Result, bool, error) {
	return l.m.Result(ctx, target, at)
}

// Recover marks every target ok, as after a fix.
func (l *LiveMonitor) Recover() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.m.targets {
		l.m.targets[i].State, l.m.targets[i].Code = status.OK, "ok"
	}
}
