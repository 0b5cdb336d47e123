package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// Idle is a set of connections held authenticated, with INBOX selected,
// in IDLE.
type Idle struct {
	mu    sync.Mutex
	conns []*conn
}

// Len is the number of connections held.
func (h *Idle) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// Close closes every connection.
func (h *Idle) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		c.close()
	}
	h.conns = nil
}

// HoldIdle opens up to n connections to t, from the loopback source
// addresses srcs in turn (each has its own ephemeral ports), with at most
// parallel set-ups at once, and puts each in IDLE. It stops at the first
// failure or when ctx ends, and returns what it holds with the error; the
// caller closes it either way.
func HoldIdle(ctx context.Context, t Target, n, parallel int, srcs []string) (*Idle, error) {
	h := &Idle{}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c, err := idleConn(ctx, t, srcs[i%len(srcs)])
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("connection %d: %w", i+1, err) })
					cancel()
					return
				}
				h.mu.Lock()
				h.conns = append(h.conns, c)
				h.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil && h.Len() < n {
		firstErr = ctx.Err()
	}
	return h, firstErr
}

func idleConn(ctx context.Context, t Target, src string) (*conn, error) {
	c, err := dial(ctx, t.Addr, src)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, c.close)
	defer stop()
	err = c.greeting()
	if err == nil {
		err = c.command("a1", "LOGIN "+quote(t.User)+" "+quote(t.Password))
	}
	if err == nil {
		err = c.command("a2", "SELECT INBOX")
	}
	if err == nil {
		err = c.write([]byte("a3 IDLE\r\n"))
	}
	var line string
	for err == nil {
		if line, err = c.response(); err == nil && !strings.HasPrefix(line, "*") {
			break
		}
	}
	if err == nil && !strings.HasPrefix(line, "+") {
		err = errors.New("IDLE: " + line)
	}
	if err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}
