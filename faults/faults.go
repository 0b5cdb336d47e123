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
	Name string
	// New returns a pointer to a zero action, ready to be decoded into.
	New func() Action
}

// Kinds lists every action, sorted by name. It is a literal table rather
// than per-file init registration so that the whole catalogue is visible in
// one place and lookups can say what is known.
var Kinds = []Kind{
	{"capabilities", func() Action { return new(Capabilities) }},
	{"delay", func() Action { return new(Delay) }},
	{"drop", func() Action { return new(Drop) }},
	{"greeting", func() Action { return new(Greeting) }},
	{"hold", func() Action { return new(Hold) }},
	{"ignore", func() Action { return new(Ignore) }},
	{"line_endings", func() Action { return new(LineEndings) }},
	{"respond", func() Action { return new(Respond) }},
	{"rewrite", func() Action { return new(Rewrite) }},
	{"slice", func() Action { return new(Slice) }},
	{"stall", func() Action { return new(Stall) }},
	{"throttle", func() Action { return new(Throttle) }},
	{"tls", func() Action { return new(TLS) }},
	{"truncate", func() Action { return new(Truncate) }},
	{"write", func() Action { return new(Write) }},
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
