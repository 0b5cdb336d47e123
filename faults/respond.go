package faults

import (
	"context"
	"fmt"
	"strings"
)

// Respond answers in the server's place. At a command it is the tagged
// reply and the server never sees the command; anywhere else it is an
// untagged line. "BYE ..." closes the connection after it is sent.
//
//	respond = "NO [AUTHENTICATIONFAILED] Invalid credentials"
type Respond struct {
	Respond string `toml:"respond"`
}

// Kind implements Action.
func (*Respond) Kind() string { return "respond" }

// Validate implements Action.
func (r *Respond) Validate() error {
	status, _, _ := strings.Cut(r.Respond, " ")
	if !contains(statuses, strings.ToUpper(status)) {
		return fmt.Errorf("respond: %q must start with a status (allowed: %s)", r.Respond, strings.Join(statuses, ", "))
	}
	if strings.ContainsAny(r.Respond, "\r\n") {
		return fmt.Errorf("respond: must be one line; use the write fault for raw bytes")
	}
	return nil
}

// Apply implements EventAction.
func (r *Respond) Apply(_ context.Context, c *Conn, ev *Event) error {
	return c.Respond(ev, r.Respond)
}
