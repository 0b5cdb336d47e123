package faults

import (
	"context"
	"fmt"
)

// Write sends bytes as they are: a non-IMAP banner, garbage before the
// greeting, an injected line after STARTTLS. Escape CR LF in TOML strings
// as "\r\n".
//
//	write = "220 mail.example.com ESMTP Postfix\r\n"
type Write struct {
	Write string `toml:"write"`
}

// Kind implements Action.
func (*Write) Kind() string { return "write" }

// Validate implements Action.
func (w *Write) Validate() error {
	if w.Write == "" {
		return fmt.Errorf("write: nothing to send")
	}
	return nil
}

// Apply implements EventAction.
func (w *Write) Apply(_ context.Context, c *Conn, _ *Event) error {
	return c.WriteRaw([]byte(w.Write))
}
