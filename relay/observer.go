// Package relay stands between an IMAP client and a real (upstream) IMAP
// server: it accepts the client, dials the upstream, ends TLS on both
// sides (implicit TLS, or STARTTLS as the upstream offers it) and relays
// the plaintext both ways. What passes is shown to an Observer; the
// recorder turns that into a replayable scenario, and the fault proxy puts
// the fault layer on the client's side of it.
package relay

import "time"

// Side is the end of a relayed connection that sent something.
type Side uint8

const (
	// Client is the IMAP client that connected to the relay.
	Client Side = iota + 1
	// Upstream is the real server the relay dialled.
	Upstream
)

func (s Side) String() string {
	switch s {
	case Client:
		return "client"
	case Upstream:
		return "upstream"
	}
	return "unknown"
}

// Observer sees one relayed connection, in the order things happened.
// The relay calls it from the connection's goroutines but never two calls
// at once for one connection, so an Observer needs no lock of its own.
type Observer interface {
	// Bytes is plaintext as relayed (after TLS is ended), at the time it
	// was read from its sender. b is valid only during the call.
	Bytes(at time.Time, from Side, b []byte)
	// TLS says both sides now speak TLS: from the start (implicit TLS) or
	// after the upstream's OK to STARTTLS.
	TLS(at time.Time)
	// Closed is the end of the connection: the side that ended it first
	// and why (nil for an orderly close).
	Closed(at time.Time, by Side, err error)
}
