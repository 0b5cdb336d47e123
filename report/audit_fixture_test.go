package report

import (
	"time"

	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/status"
)

// auditStart is the first day of every fixed history.
var auditStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// walk is the steps of a healthy check over implicit TLS.
var walk = []string{"connect", "tls", "greeting", "capability", "auth", "list", "select", "fetch", "idle", "logout"}

// outage is a stretch of failing checks of one target.
type outage struct {
	from, to    time.Time
	code, phase string
}

// fixedHistory makes a target's results every interval over days, from
// auditStart: step times that vary by a fixed pattern (no randomness, so
// that golden files hold), outages that fail the given step, a gap where
// the monitor did not run, and a certificate renewed halfway.
func fixedHistory(target string, days int, interval time.Duration, base time.Duration, outages []outage, gap [2]time.Time) []history.Result {
	var out []history.Result
	end := auditStart.AddDate(0, 0, days)
	cert := auditStart.AddDate(0, 0, days/2+20)
	renewed := false
	for at := auditStart; at.Before(end); at = at.Add(interval) {
		if !at.Before(gap[0]) && at.Before(gap[1]) {
			continue
		}
		if !renewed && !at.Before(auditStart.AddDate(0, 0, days/2)) {
			cert, renewed = cert.AddDate(0, 3, 0), true
		}
		r := history.Result{Target: target, Time: at, Interval: interval, State: status.OK, Code: "ok", Phase: "logout",
			Evidence: "every step passed", Warnings: []history.Warning{}, CertExpiry: cert}
		for _, o := range outages {
			if !at.Before(o.from) && at.Before(o.to) {
				r.State, r.Code, r.Phase, r.Evidence = status.Critical, o.code, o.phase, "evidence of "+o.code
			}
		}
		// A load that rises through the day and a slow day each week.
		load := time.Duration(1 + (at.Hour()*37/10+at.Minute()/10+at.YearDay()*3)%10)
		if at.Weekday() == time.Monday {
			load *= 3
		}
		for i, phase := range walk {
			d := base * time.Duration(i%3+1) * load / 4
			if phase == "idle" {
				d = time.Second + load*time.Millisecond
			}
			failed := r.State == status.Critical && phase == r.Phase
			r.Steps = append(r.Steps, history.Step{Phase: phase, Duration: d, OK: !failed})
			r.Duration += d
			if failed {
				break
			}
		}
		out = append(out, r)
	}
	return out
}

// smallHistory is a week of two targets checked hourly: one always up,
// one with an incident across a day boundary, a shorter one, and a gap.
func smallHistory() []history.Result {
	d := func(day, hour int) time.Time {
		return auditStart.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
	}
	rs := fixedHistory("imap.example.com:993", 7, time.Hour, 4*time.Millisecond, nil, [2]time.Time{})
	rs = append(rs, fixedHistory("mail.example.org:143", 7, time.Hour, 9*time.Millisecond, []outage{
		{d(1, 22), d(2, 3), "auth.unavailable", "auth"},
		{d(5, 10), d(5, 11), "tcp.refused", "connect"},
	}, [2]time.Time{d(3, 0), d(3, 12)})...)
	return rs
}

// quarterHistory is 90 days of three targets checked every 10 minutes,
// for the browser's screenshots: a steady one, one with incidents and an
// ongoing one at the end, one with a week the monitor was down.
func quarterHistory() []history.Result {
	d := func(day, hour int) time.Time {
		return auditStart.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
	}
	iv := 10 * time.Minute
	rs := fixedHistory("imap.example.com:993", 90, iv, 3*time.Millisecond, []outage{
		{d(40, 2), d(40, 3), "tcp.timeout", "connect"},
	}, [2]time.Time{})
	rs = append(rs, fixedHistory("mail.example.org:143", 90, iv, 8*time.Millisecond, []outage{
		{d(12, 9), d(12, 15), "auth.unavailable", "auth"},
		{d(33, 0), d(34, 6), "tls.cert_expired", "tls"},
		{d(61, 18), d(61, 19), "greeting.timeout", "greeting"},
		{d(89, 20), d(91, 0), "tcp.refused", "connect"},
	}, [2]time.Time{})...)
	rs = append(rs, fixedHistory("legacy.example.net:993", 90, iv, 20*time.Millisecond, []outage{
		{d(70, 8), d(70, 20), "fetch.timeout", "fetch"},
	}, [2]time.Time{d(50, 0), d(57, 0)})...)
	return rs
}
