package report

import (
	"time"

	"github.com/imapfault/imapfault/client"
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
