package faults

import (
	"context"
	"fmt"
)

// Stall stops reading and writing but keeps the socket open, as a hung
// server or a black-holing firewall does.
//
//	stall = true
type Stall struct {
	Stall bool `toml:"stall"`
}

// Kind implements Action.
func (*Stall) Kind() string { return "stall" }

// Validate implements Action.
func (s *Stall) Validate() error {
	if !s.Stall {
		return fmt.Errorf("stall: set it to true, or remove the fault")
	}
	return nil
}

// Apply implements EventAction.
func (s *Stall) Apply(_ context.Context, c *Conn, _ *Event) error {
	c.Stall()
	return c.waitIfStalled()
}
