package faults

import (
	"context"
	"fmt"
)

// Drop closes the connection where it fires: "fin" is an orderly close,
// "rst" a TCP reset as from a crashed server or a middlebox.
//
//	drop = "rst"
type Drop struct {
	Drop string `toml:"drop"`
}

// Kind implements Action.
func (*Drop) Kind() string { return "drop" }

// Validate implements Action.
func (d *Drop) Validate() error {
	if d.Drop != "fin" && d.Drop != "rst" {
		return fmt.Errorf("drop: %q is not a way to close (allowed: fin, rst)", d.Drop)
	}
	return nil
}

// Apply implements EventAction.
func (d *Drop) Apply(_ context.Context, c *Conn, _ *Event) error {
	c.Drop(d.Drop == "rst")
	return ErrDropped
}
