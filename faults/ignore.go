package faults

import (
	"context"
	"fmt"
)

// Ignore swallows a command: the server never sees it and the client gets
// no answer, as with an IDLE that is never acknowledged with "+". Combine
// it with write to answer with something of your own, such as a reply
// carrying the wrong tag.
//
//	ignore = true
type Ignore struct {
	Ignore bool `toml:"ignore"`
}

// Kind implements Action.
func (*Ignore) Kind() string { return "ignore" }

// Validate implements Action.
func (i *Ignore) Validate() error {
	if !i.Ignore {
		return fmt.Errorf("ignore: set it to true, or remove the fault")
	}
	return nil
}

// commandOnly marks Ignore for When.ValidateFor: it acts only at a
// command, so a When without one would make it do nothing.
func (*Ignore) commandOnly() {}

// Apply implements EventAction.
func (i *Ignore) Apply(_ context.Context, _ *Conn, ev *Event) error {
	if ev.Point != PointCommand {
		return nil
	}
	return errSwallowed
}
