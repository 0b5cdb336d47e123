package faults

import (
	"context"
	"fmt"
)

// Slice sends the server's output in writes of at most N bytes, so that a
// client which assumes one read is one response breaks.
//
//	slice = 1
type Slice struct {
	Slice int `toml:"slice"`
}

// Kind implements Action.
func (*Slice) Kind() string { return "slice" }

// Validate implements Action.
func (s *Slice) Validate() error {
	if s.Slice <= 0 {
		return fmt.Errorf("slice: must be a positive number of bytes, got %d", s.Slice)
	}
	return nil
}

// Shape implements WriteShaper.
func (s *Slice) Shape(_ context.Context, _ *Conn, b []byte, write func([]byte) error) error {
	for len(b) > 0 {
		n := min(s.Slice, len(b))
		if err := write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
