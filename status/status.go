// Package status judges a check: the monitoring-plugins state of a
// client.Report (ok, warning, critical, unknown), and the thresholds in the
// plugins' range syntax that can raise it. The check command, the monitor
// and the history all speak of states through this one type.
package status

import (
	"fmt"

	"github.com/imapfault/imapfault/client"
)

// State is a check's outcome in the monitoring-plugins convention; its
// value is the plugin exit code.
type State int

// The states, in increasing order of severity except Unknown, which is
// what a check that could not judge (canceled, misconfigured) yields.
const (
	OK       State = 0
	Warning  State = 1
	Critical State = 2
	Unknown  State = 3
)

var names = [...]string{OK: "ok", Warning: "warning", Critical: "critical", Unknown: "unknown"}

// String returns the lower-case name: ok, warning, critical or unknown.
func (s State) String() string {
	if s < 0 || int(s) >= len(names) {
		return fmt.Sprintf("State(%d)", int(s))
	}
	return names[s]
}

// Parse returns the state a name stands for.
func Parse(name string) (State, error) {
	for i, n := range names {
		if n == name {
			return State(i), nil
		}
	}
	return Unknown, fmt.Errorf("state %q (allowed: ok, warning, critical, unknown)", name)
}

// MarshalText writes the name, so that JSON and the database hold words.
func (s State) MarshalText() ([]byte, error) {
	if s < 0 || int(s) >= len(names) {
		return nil, fmt.Errorf("status: invalid state %d", int(s))
	}
	return []byte(names[s]), nil
}

// UnmarshalText reads a name written by MarshalText.
func (s *State) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Up reports whether the service worked: ok and warning are up, critical
// is down, and unknown says nothing either way.
func (s State) Up() bool { return s == OK || s == Warning }

// Worse returns the more severe of two states for an exit code: unknown
// ranks above critical, as monitoring-plugins wrappers rank it.
func Worse(a, b State) State { return max(a, b) }

// Of returns the state of a report without thresholds: a failed check is
// critical, a canceled one unknown, one with warnings warning.
func Of(rep *client.Report) State {
	switch {
	case rep.Diagnosis.Code == client.CodeCheckCanceled:
		return Unknown
	case !rep.OK():
		return Critical
	case len(rep.Warnings) > 0:
		return Warning
	}
	return OK
}
