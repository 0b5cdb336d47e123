package faults

import (
	"bytes"
	"context"
	"fmt"
)

// Write sends bytes as they are: a non-IMAP banner, garbage before the
// greeting, an injected line after STARTTLS. Escape CR LF in TOML strings
// as "\r\n".
//
//	write = "220 mail.example.com ESMTP Postfix\r\n"
//
// repeat sends it that many times, for an overlong line without a
// megabyte of TOML.
type Write struct {
	Write  string `toml:"write"`
	Repeat int    `toml:"repeat"`
}

// Kind implements Action.
func (*Write) Kind() string { return "write" }

// Validate implements Action.
func (w *Write) Validate() error {
	if w.Write == "" {
		return fmt.Errorf("write: nothing to send")
	}
	if w.Repeat < 0 || w.Repeat > 1<<20 {
		return fmt.Errorf("repeat: %d is outside 0..1048576", w.Repeat)
	}
	return nil
}

// Apply implements EventAction.
func (w *Write) Apply(_ context.Context, c *Conn, _ *Event) error {
	b := []byte(w.Write)
	if w.Repeat > 1 {
		b = bytes.Repeat(b, w.Repeat)
	}
	return c.WriteRaw(b)
}
