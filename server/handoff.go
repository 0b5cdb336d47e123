package server

import (
	"context"
	"net"
	"sync"
)

// handoff is the listener imapserver.Serve accepts from: connections reach
// it only after the connect-time faults and the TLS handshake, which the
// IMAP server must not see.
type handoff struct {
	addr   net.Addr
	ch     chan net.Conn
	done   chan struct{}
	closed sync.Once
	// serving is closed at the first Accept: imapserver.Server.Close races
	// with a Serve that has not registered its listener yet, so the server
	// waits for this before it can be closed.
	serving chan struct{}
	started sync.Once
}

func newHandoff(addr net.Addr) *handoff {
	return &handoff{addr: addr, ch: make(chan net.Conn), done: make(chan struct{}), serving: make(chan struct{})}
}

// give passes c to the IMAP server; false if the server is shutting down.
func (h *handoff) give(ctx context.Context, c net.Conn) bool {
	select {
	case h.ch <- c:
		return true
	case <-h.done:
		return false
	case <-ctx.Done():
		return false
	}
}

// Accept implements net.Listener.
func (h *handoff) Accept() (net.Conn, error) {
	h.started.Do(func() { close(h.serving) })
	select {
	case c := <-h.ch:
		return c, nil
	case <-h.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (h *handoff) Close() error {
	h.closed.Do(func() { close(h.done) })
	return nil
}

// Addr implements net.Listener.
func (h *handoff) Addr() net.Addr { return h.addr }
