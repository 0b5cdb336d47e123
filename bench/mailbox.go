package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Step is one command a Steps run times, and what it measured.
type Step struct {
	Name, Command string
	Took          time.Duration
	Bytes         int // bytes of response read, literals included
}

// MBps is the step's response bytes per second, in MB (10^6 bytes).
func (s Step) MBps() float64 {
	if s.Took <= 0 {
		return 0
	}
	return float64(s.Bytes) / 1e6 / s.Took.Seconds()
}

// maxStepResponse bounds one response of a Steps run: FETCH 1:* over a
// mailbox of a million messages, or a message of many megabytes.
const maxStepResponse = 1 << 30

// Steps logs in to t on one connection and runs each command after it in
// turn, timing each from its first byte sent to its tagged OK: the
// whole-mailbox commands (SELECT, FETCH 1:* (FLAGS), SEARCH) of the
// scaling table, and large FETCHes.
func Steps(ctx context.Context, t Target, steps []Step) ([]Step, error) {
	c, err := dial(ctx, t.Addr, "")
	if err != nil {
		return nil, err
	}
	defer c.close()
	stop := context.AfterFunc(ctx, c.close)
	defer stop()
	// A real server's first SELECT of a big mailbox indexes it first.
	c.max, c.wait = maxStepResponse, time.Minute
	if err := c.greeting(); err != nil {
		return nil, err
	}
	if err := c.command("l", "LOGIN "+quote(t.User)+" "+quote(t.Password)); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	out := make([]Step, len(steps))
	for i, st := range steps {
		c.read = 0
		start := time.Now()
		if err := c.command("s"+strconv.Itoa(i), st.Command); err != nil {
			return out[:i], fmt.Errorf("%s: %w", st.Name, err)
		}
		st.Took, st.Bytes = time.Since(start), c.read
		out[i] = st
	}
	c.command("o", "LOGOUT")
	return out, nil
}
