package faults

import (
	"context"
	"fmt"
	"time"
)

// Throttle limits the server's output to N bytes per second, like a
// congested link: responses arrive, slowly.
//
//	throttle = 512
type Throttle struct {
	Throttle int `toml:"throttle"`
}

// Kind implements Action.
func (*Throttle) Kind() string { return "throttle" }

// Validate implements Action.
func (t *Throttle) Validate() error {
	if t.Throttle <= 0 {
		return fmt.Errorf("throttle: must be a positive number of bytes per second, got %d", t.Throttle)
	}
	return nil
}

// Shape implements WriteShaper. It sends in chunks of a tenth of a second's
// worth so that the pacing is smooth without a write per byte.
func (t *Throttle) Shape(ctx context.Context, c *Conn, b []byte, write func([]byte) error) error {
	chunk := max(t.Throttle/10, 1)
	per := time.Duration(float64(time.Second) * float64(chunk) / float64(t.Throttle))
	for len(b) > 0 {
		n := min(chunk, len(b))
		if err := write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
		if err := c.Sleep(ctx, per); err != nil {
			return err
		}
	}
	return nil
}
