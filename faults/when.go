package faults

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/imapfault/imapfault/internal/spell"
)

// Phases a session moves through, as When.Phase names them.
const (
	PhaseConnect          = "connect"           // accepted, nothing sent yet (before TLS)
	PhaseGreeting         = "greeting"          // about to send the greeting
	PhaseNotAuthenticated = "not_authenticated" // greeting sent, no login yet
	PhaseAuthenticated    = "authenticated"
	PhaseSelected         = "selected"
	PhaseIdle             = "idle" // the server has answered IDLE with "+"
)

var phases = []string{PhaseConnect, PhaseGreeting, PhaseNotAuthenticated, PhaseAuthenticated, PhaseSelected, PhaseIdle}

// When says where a fault applies. The zero When matches every connection
// at accept time (or, for filters, every line).
type When struct {
	// Command is an IMAP command name such as LOGIN or "UID FETCH". FETCH
	// also matches UID FETCH, and LOGIN also matches AUTHENTICATE.
	Command string `toml:"command"`
	// Nth limits Command to its nth occurrence on a connection (1-based).
	Nth int `toml:"nth"`
	// Reply moves the fault to just after the server's tagged reply to
	// Command, when that reply has this status (OK, NO or BAD).
	Reply string `toml:"reply"`
	// Connection limits the fault to the nth connection the server accepts.
	Connection int `toml:"connection"`
	// First limits the fault to the first N times it would fire, counted
	// over the whole server run: the first N connections, or the first N
	// LOGIN attempts however many connections they span.
	First int `toml:"first"`
	// Phase is the session phase the fault belongs to (see the Phase
	// constants). With no Command it fires on entering that phase.
	Phase string `toml:"phase"`
	// AfterBytes fires once the server has sent this many bytes.
	AfterBytes int64 `toml:"after_bytes"`
	// After fires this long after the connection was accepted, or after the
	// Phase began when Phase is set.
	After time.Duration `toml:"after"`
	// Every repeats a timer fault at this interval (after After, if set):
	// keepalives, periodic garbage.
	Every time.Duration `toml:"every"`
	// Probability makes the fault fire only sometimes; Seed makes the draw
	// reproducible.
	Probability float64 `toml:"probability"`
	Seed        uint64  `toml:"seed"`
}

// Point is where in a session an event action runs.
type Point int

// The points, in the order a session reaches them.
const (
	PointConnect Point = iota
	PointGreeting
	PointCommand
	PointReply
	PointPhase
	PointTimer
	PointBytes
)

// whenTriggers are the ways a When says when an event action fires, and
// the only combinations of keys it accepts: the keys of at most one
// trigger (none: at connect), each with the keys that refine it, plus
// connection, first, probability and seed, which narrow any trigger.
// Validate rejects every other combination, so that no key is silently
// ignored and Point never has to choose between two triggers.
var whenTriggers = []whenTrigger{
	{keys: []string{"command"}, refine: []string{"nth", "reply", "phase"}, point: PointCommand,
		what: "at a command (nth, reply and phase narrow it)"},
	{keys: []string{"after_bytes"}, point: PointBytes,
		what: "once the server has sent after_bytes bytes"},
	{keys: []string{"after", "every"}, refine: []string{"phase"}, point: PointTimer,
		what: "on a timer (after, every), from the connection or from entering phase"},
	{keys: []string{"phase"}, point: PointPhase,
		what: "on entering phase"},
}

type whenTrigger struct {
	keys, refine []string
	point        Point
	what         string
}

// narrowing are the keys that narrow any trigger.
var narrowing = []string{"connection", "first", "probability", "seed"}

// whileKeys are the keys an action that is not an EventAction (a line
// filter, a write shaper, capabilities, tls) heeds: it applies to every
// line, write or handshake while its When holds, so no trigger times it.
var whileKeys = []string{"command", "nth", "phase", "connection", "first", "probability", "seed"}

// setKeys returns the TOML names of the keys w sets, in declaration order.
func (w When) setKeys() []string {
	var keys []string
	for _, k := range []struct {
		name string
		set  bool
	}{
		{"command", w.Command != ""}, {"nth", w.Nth != 0}, {"reply", w.Reply != ""},
		{"connection", w.Connection != 0}, {"first", w.First != 0}, {"phase", w.Phase != ""},
		{"after_bytes", w.AfterBytes != 0}, {"after", w.After != 0}, {"every", w.Every != 0},
		{"probability", w.Probability != 0}, {"seed", w.Seed != 0},
	} {
		if k.set {
			keys = append(keys, k.name)
		}
	}
	return keys
}

// trigger returns the trigger w's keys name, or nil for none (connect).
// Command comes first, and phase is a trigger of its own only alone.
func (w When) trigger() (*whenTrigger, error) {
	keys := w.setKeys()
	var found []*whenTrigger
	var named []string
	for i := range whenTriggers {
		t := &whenTriggers[i]
		for _, k := range t.keys {
			if contains(keys, k) && !(k == "phase" && len(found) > 0) {
				found = append(found, t)
				named = append(named, k)
				break
			}
		}
	}
	if len(found) > 1 {
		var alts []string
		for _, t := range whenTriggers {
			alts = append(alts, t.what)
		}
		return nil, fmt.Errorf("when: %s and %s are two triggers, and a fault fires at one: %s", named[0], named[1], strings.Join(alts, "; or "))
	}
	if len(found) == 0 {
		return nil, nil
	}
	t := found[0]
	for _, k := range keys {
		if !contains(t.keys, k) && !contains(t.refine, k) && !contains(narrowing, k) {
			return nil, fmt.Errorf("when.%s: has no effect beside %s (a fault that fires %s takes %s)", k, named[0], t.what, strings.Join(append(append(append([]string{}, t.keys...), t.refine...), narrowing...), ", "))
		}
	}
	return t, nil
}

// Point returns where an event action with this When runs. It relies on
// Validate having rejected a When with two triggers (see whenTriggers).
func (w When) Point() Point {
	switch {
	case w.Command != "" && w.Reply != "":
		return PointReply
	case w.Command != "":
		return PointCommand
	case w.AfterBytes > 0:
		return PointBytes
	case w.After > 0 || w.Every > 0:
		return PointTimer
	case w.Phase == PhaseGreeting:
		return PointGreeting
	case w.Phase == "" || w.Phase == PhaseConnect:
		return PointConnect
	default:
		return PointPhase
	}
}

// Validate reports settings that contradict each other or cannot match.
func (w When) Validate() error {
	if w.Phase != "" && !contains(phases, w.Phase) {
		return fmt.Errorf("when.phase: unknown phase %q (allowed: %s)", w.Phase, strings.Join(phases, ", "))
	}
	if w.Nth < 0 || w.Connection < 0 || w.First < 0 || w.AfterBytes < 0 || w.After < 0 || w.Every < 0 {
		return fmt.Errorf("when: nth, connection, first, after_bytes, after and every must not be negative")
	}
	if w.Every > 0 && w.Every < 10*time.Millisecond {
		return fmt.Errorf("when.every: %v is too short to be a useful interval (at least 10ms)", w.Every)
	}
	if w.Nth > 0 && w.Command == "" {
		return fmt.Errorf("when.nth: counts occurrences of a command; set when.command too")
	}
	if w.Seed != 0 && w.Probability == 0 {
		return fmt.Errorf("when.seed: seeds the draw for probability; set when.probability too")
	}
	if w.Reply != "" {
		if w.Command == "" {
			return fmt.Errorf("when.reply: needs when.command (the command whose reply it waits for)")
		}
		switch strings.ToUpper(w.Reply) {
		case "OK", "NO", "BAD":
		default:
			return fmt.Errorf("when.reply: %q is not a tagged status (allowed: OK, NO, BAD)", w.Reply)
		}
	}
	if w.Probability < 0 || w.Probability > 1 {
		return fmt.Errorf("when.probability: %v is outside 0..1", w.Probability)
	}
	if w.Command != "" {
		if err := checkCommand(w.Command); err != nil {
			return err
		}
	}
	_, err := w.trigger()
	return err
}

// ValidateFor is Validate for the action w belongs to: an action that is
// not an EventAction heeds only whileKeys, and any other key would be
// ignored.
func (w When) ValidateFor(a Action) error {
	if err := w.Validate(); err != nil {
		return err
	}
	if _, ok := a.(interface{ commandOnly() }); ok && (w.Command == "" || w.Reply != "") {
		return fmt.Errorf("when.command: %s acts on a command as it arrives: set when.command, without reply", a.Kind())
	}
	if _, ok := a.(EventAction); ok || a == nil {
		return nil
	}
	for _, k := range w.setKeys() {
		if !contains(whileKeys, k) {
			return fmt.Errorf("when.%s: has no effect on %s, which applies while its when holds (it takes %s)", k, a.Kind(), strings.Join(whileKeys, ", "))
		}
	}
	return nil
}

// imapCommands are the command names a client can send: IMAP4rev1 and
// IMAP4rev2 (RFC 3501, RFC 9051) and the extensions go-imap's server
// answers or a client commonly tries. when.command must be one of them,
// or one with a UID prefix, so that a typo cannot make a fault that
// never fires.
var imapCommands = []string{
	"APPEND", "AUTHENTICATE", "CAPABILITY", "CHECK", "CLOSE", "COMPRESS", "COPY", "CREATE", "DELETE",
	"ENABLE", "EXAMINE", "EXPUNGE", "FETCH", "GETACL", "GETMETADATA", "GETQUOTA", "GETQUOTAROOT", "ID",
	"IDLE", "LIST", "LISTRIGHTS", "LOGIN", "LOGOUT", "LSUB", "MOVE", "MYRIGHTS", "NAMESPACE", "NOOP",
	"RENAME", "SEARCH", "SELECT", "SETACL", "SETMETADATA", "SETQUOTA", "SORT", "STARTTLS", "STATUS",
	"STORE", "SUBSCRIBE", "THREAD", "UNAUTHENTICATE", "UNSELECT", "UNSUBSCRIBE",
}

// uidCommands may follow "UID ".
var uidCommands = []string{"COPY", "EXPUNGE", "FETCH", "MOVE", "SEARCH", "SORT", "STORE", "THREAD"}

func checkCommand(cmd string) error {
	name := strings.ToUpper(cmd)
	list := imapCommands
	if rest, ok := strings.CutPrefix(name, "UID "); ok {
		name, list = rest, uidCommands
	}
	if contains(list, name) {
		return nil
	}
	hint := ""
	if near := spell.Closest(name, list); near != "" {
		hint = fmt.Sprintf("did you mean %s? ", strings.TrimSuffix(strings.ToUpper(cmd), name)+near)
	}
	return fmt.Errorf("when.command: %q is not an IMAP command: %s(allowed: %s, and UID %s)", cmd, hint, strings.Join(imapCommands, " "), strings.Join(uidCommands, ", UID "))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// matchCommand reports whether a command name seen on the wire is the one w
// names; FETCH matches UID FETCH but not the reverse.
func (w When) matchCommand(name string) bool {
	want := strings.ToUpper(w.Command)
	// LOGIN stands for logging in, whichever command does it: curl,
	// mbsync and imapflow send AUTHENTICATE PLAIN when it is offered, and
	// a scenario that refuses the login must refuse them too.
	if want == "LOGIN" && name == "AUTHENTICATE" {
		return true
	}
	return name == want || strings.TrimPrefix(name, "UID ") == want
}

// armed is a fault with the run-wide state its When needs: the count for
// First and the random source for Probability. Per-connection state (Nth,
// phase) lives in Conn.
type armed struct {
	Fault
	// base is how many connections the run had numbered when the fault
	// was armed: When.Connection counts from there.
	base  int
	mu    sync.Mutex
	fired int
	rng   *rand.Rand
}

func newArmed(f Fault, base int) *armed {
	a := &armed{Fault: f, base: base}
	if f.When.Probability > 0 {
		a.rng = rand.New(rand.NewPCG(f.When.Seed, f.When.Seed^0x9e3779b97f4a7c15))
	}
	return a
}

// onConn reports whether When.Connection allows connection n.
func (a *armed) onConn(n int) bool {
	return a.When.Connection == 0 || a.When.Connection == n-a.base
}

// take decides, once all the per-connection conditions hold, whether the
// fault fires this time, and counts it.
func (a *armed) take() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.When.First > 0 && a.fired >= a.When.First {
		return false
	}
	if a.rng != nil && a.rng.Float64() >= a.When.Probability {
		return false
	}
	a.fired++
	return true
}
