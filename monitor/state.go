package monitor

import (
	"time"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/status"
)

// TargetState is what the monitor knows of one target now, for the
// dashboard and `monitor --once`.
type TargetState struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	// State is the target's alerting state: critical while failing (N
	// failed checks in a row), else the last check's state with a failed
	// check not yet counted to N shown as warning; unknown before the
	// first check.
	State     status.State  `json:"state"`
	Failing   bool          `json:"failing"`
	Code      string        `json:"code"` // the last check's diagnosis code
	Phase     string        `json:"phase"`
	Evidence  string        `json:"evidence"`
	LastCheck time.Time     `json:"last_check"` // zero before the first
	Duration  time.Duration `json:"-"`          // the last check's
	Failures  int           `json:"consecutive_failures"`
	Successes int           `json:"consecutive_successes"`
	Since     time.Time     `json:"since"` // when the target last became failing or ok again; zero if never
}

// resume is what survives a restart, stored with each result.
type resume struct {
	Failing     bool         `json:"failing"`
	Failures    int          `json:"failures"`
	Successes   int          `json:"successes"`
	Code        string       `json:"code"`
	Phase       string       `json:"phase"`
	Evidence    string       `json:"evidence"`
	AlertedCode string       `json:"alerted_code"` // the diagnosis of the last firing alert
	Since       time.Time    `json:"since"`
	LastCheck   time.Time    `json:"last_check"`
	LastState   status.State `json:"last_state"`
	Checked     bool         `json:"checked"`
}

// advance applies one judged check to the state and returns the alert
// the change calls for, if any: a target becomes failing after
// failures checks failed in a row and ok after successes passed, and
// while failing a new diagnosis fires again.
func (r *resume) advance(t *Target, state status.State, rep *client.Report) *Alert {
	r.Checked = true
	r.LastCheck, r.LastState = rep.Started, state
	r.Code, r.Phase, r.Evidence = rep.Diagnosis.Code, rep.Diagnosis.Phase, rep.Diagnosis.Evidence
	switch {
	case state == status.Critical:
		r.Failures++
		r.Successes = 0
	case state.Up():
		r.Successes++
		r.Failures = 0
	default:
		return nil // unknown: the check could not judge the server
	}
	a := &Alert{Target: t.Name, Address: t.Address, Code: r.Code, Phase: r.Phase, Evidence: r.Evidence,
		Advice: rep.Diagnosis.Advice, At: rep.Started.Add(rep.Duration), Failures: r.Failures}
	switch {
	case !r.Failing && r.Failures >= t.Failures:
		r.Failing, r.Since, r.AlertedCode = true, r.LastCheck, r.Code
		a.Status, a.Since = AlertFiring, r.Since
		return a
	case r.Failing && state == status.Critical && r.Code != r.AlertedCode:
		a.Status, a.Since, a.Previous = AlertFiring, r.Since, r.AlertedCode
		r.AlertedCode = r.Code
		return a
	case r.Failing && r.Successes >= t.Successes:
		a.Status, a.Since = AlertResolved, r.Since
		a.Code, a.Phase = r.AlertedCode, ""
		a.Evidence = "recovered: " + rep.Diagnosis.Evidence
		r.Failing, r.Since, r.AlertedCode = false, r.LastCheck, ""
		return a
	}
	return nil
}

// view turns the state into what States returns.
func (r *resume) view(t *Target, last time.Duration) TargetState {
	s := TargetState{Name: t.Name, Address: t.Address, State: status.Unknown, Failing: r.Failing,
		Code: r.Code, Phase: r.Phase, Evidence: r.Evidence, LastCheck: r.LastCheck, Duration: last,
		Failures: r.Failures, Successes: r.Successes, Since: r.Since}
	switch {
	case !r.Checked:
	case r.Failing:
		s.State = status.Critical
	case r.LastState == status.Critical:
		s.State = status.Warning
	default:
		s.State = r.LastState
	}
	return s
}
