// Package faults holds the failures imapfault can inject into an IMAP
// session and the connection wrapper that applies them on the wire.
//
// A Fault is a declarative value: When says where in a session it applies,
// its Action says what happens there. Actions are small types, one per file,
// registered in the sorted Kinds table so that a scenario file can name them.
// The package knows nothing of TOML files or of the server that uses it.
package faults

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Fault is one declared failure.
type Fault struct {
	When   When
	Action Action
}

// Action is what a fault does. Every action also implements at least one of
// the hook interfaces below; the hook decides at which layer it acts.
type Action interface {
	// Kind is the action's name in scenario files, e.g. "respond".
	Kind() string
	// Validate reports a setting that cannot work, naming the key.
	Validate() error
}

// EventAction acts at one point of a session: a connection accepted, the
// greeting about to be sent, a command arriving, a reply sent, a timer.
type EventAction interface {
	Action
	// Apply runs the action. It may write to the client, delay, stall or
	// close the connection through c; it returns errSwallowed (via
	// c.Respond) when the command must not reach the server.
	Apply(ctx context.Context, c *Conn, ev *Event) error
}

// LineFilter rewrites a line the server is about to send. It returns the
// replacement, which may be empty to suppress the line.
type LineFilter interface {
	Action
	FilterLine(c *Conn, line *Line) []byte
}

// WriteShaper changes how bytes reach the client once they are final:
// line endings, pacing, slicing.
type WriteShaper interface {
	Action
	Shape(ctx context.Context, c *Conn, b []byte, write func([]byte) error) error
}

// LiteralFilter acts on a literal the server sends (FETCH bodies).
type LiteralFilter interface {
	Action
	// LiteralLimit returns how many bytes of a literal of the given size may
	// be sent before the connection is dropped, or size to send it whole.
	LiteralLimit(size int64) int64
}

// Kind describes one action type for the scenario decoder.
type Kind struct {
	Name    string
	Layer   string
	Summary string
	// New returns a pointer to a zero action, ready to be decoded into.
	New func() Action
}

// Kinds lists every action, sorted by name. It is a literal table rather
// than per-file init registration so that the whole catalogue is visible in
// one place and lookups can say what is known.
var Kinds = []Kind{
	{"capabilities", "capabilities", "add or remove capabilities in every CAPABILITY list", func() Action { return new(Capabilities) }},
	{"delay", "any", "wait before the server goes on", func() Action { return new(Delay) }},
	{"drop", "tcp", "close the connection (fin) or reset it (rst)", func() Action { return new(Drop) }},
	{"greeting", "greeting", "replace the greeting's text or status (BYE, PREAUTH)", func() Action { return new(Greeting) }},
	{"ignore", "any", "swallow a command and never answer it", func() Action { return new(Ignore) }},
	{"line_endings", "syntax", "send LF instead of CRLF", func() Action { return new(LineEndings) }},
	{"respond", "any", "answer a command (or send an untagged line) with a given status, code and text", func() Action { return new(Respond) }},
	{"rewrite", "any", "replace text in the server's lines with a regular expression", func() Action { return new(Rewrite) }},
	{"slice", "tcp", "send the server's output in writes of at most N bytes", func() Action { return new(Slice) }},
	{"stall", "tcp", "stop reading and writing, keep the socket open", func() Action { return new(Stall) }},
	{"throttle", "tcp", "limit the server's output to N bytes per second", func() Action { return new(Throttle) }},
	{"tls", "tls", "accept only some TLS versions, or stall or refuse the handshake", func() Action { return new(TLS) }},
	{"truncate", "fetch", "cut the next literal short after N bytes and close the connection", func() Action { return new(Truncate) }},
	{"write", "any", "send raw bytes to the client", func() Action { return new(Write) }},
}

// LookupKind returns the kind with the given name.
func LookupKind(name string) (Kind, error) {
	i := sort.Search(len(Kinds), func(i int) bool { return Kinds[i].Name >= name })
	if i < len(Kinds) && Kinds[i].Name == name {
		return Kinds[i], nil
	}
	return Kind{}, fmt.Errorf("unknown fault %q (known: %s)", name, KindNames())
}

// KindNames returns the known action names, comma separated.
func KindNames() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = k.Name
	}
	return strings.Join(names, ", ")
}
