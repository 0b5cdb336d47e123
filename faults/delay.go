package faults

import (
	"context"
	"fmt"
	"time"
)

// Delay holds the session for a while where it fires: before the greeting,
// before the server sees a command, before a reply goes on.
//
//	delay = "3s"
type Delay struct {
	Delay time.Duration `toml:"delay"`
}

// Kind implements Action.
func (*Delay) Kind() string { return "delay" }

// Validate implements Action.
func (d *Delay) Validate() error {
	if d.Delay <= 0 {
		return fmt.Errorf("delay: must be a positive duration such as \"2s\", got %v", d.Delay)
	}
	return nil
}

// Apply implements EventAction.
func (d *Delay) Apply(ctx context.Context, c *Conn, _ *Event) error {
	return c.Sleep(ctx, d.Delay)
}
