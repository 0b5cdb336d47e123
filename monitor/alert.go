package monitor

import "time"

// AlertStatus says whether an alert opens or closes an incident.
type AlertStatus string

// The alert statuses, named as Alertmanager names them.
const (
	AlertFiring   AlertStatus = "firing"
	AlertResolved AlertStatus = "resolved"
)

// Alert is one change of a target's state: the generic webhook posts it
// as JSON, the exec hook reads it on stdin, and the Alertmanager sink
// wraps it in Alertmanager's payload.
type Alert struct {
	Target   string      `json:"target"`
	Address  string      `json:"address"`
	Status   AlertStatus `json:"status"`
	Code     string      `json:"code"` // the diagnosis (for resolved: the one that had fired)
	Phase    string      `json:"phase"`
	Evidence string      `json:"evidence"`
	Advice   string      `json:"advice"`
	// Previous is the diagnosis fired before, when the diagnosis changed
	// while failing, or the one resolved.
	Previous string    `json:"previous_code,omitempty"`
	Since    time.Time `json:"since"` // when the incident began
	At       time.Time `json:"at"`    // when the check that decided this ended
	Failures int       `json:"consecutive_failures"`
}
