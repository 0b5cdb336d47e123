// Package recorder turns sessions relayed between a real IMAP client and
// a real server into a scenario whose fake server replays that server:
// its greeting, its answer to each command with the delays, and how each
// session ended. It sees the sessions as package relay's Observer and
// writes the scenario format's [replay] section through package replay's
// file types and rules, the ones scenarios from-report uses. It never
// imports the server, the faults or the tester.
//
// Credentials never reach the file: of the client's commands only tags,
// names, user names and mailbox names are kept; SASL exchanges are
// neither kept nor written.
package recorder

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/imapfault/imapfault/relay"
	"github.com/imapfault/imapfault/replay"
	"github.com/imapfault/imapfault/scenarios"
)

// Options say what a recording writes.
type Options struct {
	// Upstream is the real server's address, for the scenario's name and
	// description.
	Upstream string
	// Anonymize replaces host names and IP addresses in the upstream's
	// texts, and e-mail addresses and subjects in messages, with
	// pseudonyms (consistent within a file).
	Anonymize bool
	// StubBodies replaces message bodies with generated text of the same
	// size.
	StubBodies bool
	// Now is the clock for the observers' start; nil is time.Now.
	Now func() time.Time
}

// Recording collects the connections of one recording session.
type Recording struct {
	opts    Options
	mu      sync.Mutex
	conns   []*Conn
	closed  int
	changed chan struct{} // closed and replaced when a connection closes
}

// New returns an empty recording.
func New(opts Options) *Recording {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Recording{opts: opts, changed: make(chan struct{})}
}

// Observer returns the Observer of connection n (from 1, in the order
// the relay accepts them): relay.Options.NewObserver.
func (r *Recording) Observer(n int) relay.Observer {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := newConn(n, r.opts.Now())
	c.onClose = r.connClosed
	r.conns = append(r.conns, c)
	return c
}

func (r *Recording) connClosed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed++
	close(r.changed)
	r.changed = make(chan struct{})
}

// WaitClosed waits until n connections have closed, or ctx ends.
func (r *Recording) WaitClosed(ctx context.Context, n int) error {
	for {
		r.mu.Lock()
		done, changed := r.closed >= n, r.changed
		r.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Connections is the number of connections recorded so far.
func (r *Recording) Connections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.conns)
}

// Scenario writes the recording as a scenario file. Connections still
// open end in silence where a reply was awaited.
func (r *Recording) Scenario() ([]byte, error) {
	r.mu.Lock()
	conns := slices.Clone(r.conns)
	r.mu.Unlock()
	slices.SortFunc(conns, func(a, b *Conn) int { return a.n - b.n })
	if len(conns) == 0 {
		return nil, fmt.Errorf("nothing was recorded: no client connected")
	}
	snaps := make([]*Conn, len(conns))
	for i, c := range conns {
		snaps[i] = c.snapshot()
	}
	f := r.file(snaps)
	return f.Encode(
		fmt.Sprintf("Recorded by imapfault record from %s: %s.", r.upstream(), plural(len(conns), "connection")),
		"Serve it: imapfault serve --scenario FILE. Any password logs in the recorded users.",
		"Add [expect] with the diagnosis the session showed to run it with imapfault verify.")
}

func (r *Recording) upstream() string {
	if r.opts.Upstream == "" || r.opts.Anonymize {
		return "an IMAP server"
	}
	return r.opts.Upstream
}

func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// supportedMechs are the SASL mechanisms the fake server can play.
var supportedMechs = []string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}

var nameJunk = regexp.MustCompile(`[^a-z0-9]+`)

// file builds the scenario of the connections.
func (r *Recording) file(conns []*Conn) *replay.File {
	name := strings.Trim(nameJunk.ReplaceAllString(strings.ToLower(r.opts.Upstream), "-"), "-")
	if name == "" || r.opts.Anonymize {
		name = "recorded"
	} else if name[0] < 'a' || name[0] > 'z' {
		name = "recorded-" + name
	}
	f := &replay.File{
		Name:        name,
		Description: fmt.Sprintf("Replays %s as recorded by imapfault record", r.upstream()),
		Server:      replay.Server{TLS: scenarios.TLSNone},
	}
	if r.opts.Anonymize {
		f.Description = "Replays an IMAP server as recorded by imapfault record --anonymize"
	}
	var (
		users     []string
		mechs     []string
		boxes     = map[string]*mailbox{}
		plain     bool
		usedMechs []string
	)
	for _, c := range conns {
		switch {
		case c.tls == scenarios.TLSImplicit:
			f.Server.TLS = c.tls
		case c.tls == scenarios.TLSStartTLS && f.Server.TLS == scenarios.TLSNone:
			f.Server.TLS = c.tls
		}
		for _, u := range c.users {
			if !slices.Contains(users, u) {
				users = append(users, u)
			}
		}
		for _, m := range c.mechs {
			if slices.Contains(supportedMechs, m) && !slices.Contains(mechs, m) {
				mechs = append(mechs, m)
			}
		}
		for _, cmd := range c.cmds {
			if cmd.mech != "" && !slices.Contains(usedMechs, cmd.mech) {
				usedMechs = append(usedMechs, cmd.mech)
			}
			if cmd.name == "STARTTLS" && strings.EqualFold(strings.SplitN(cmd.status, " ", 2)[0], "OK") && f.Server.TLS == scenarios.TLSNone {
				// The upstream agreed to STARTTLS, even if it then never
				// finished the handshake.
				f.Server.TLS = scenarios.TLSStartTLS
			}
		}
		for _, n := range orderOf(c.mailboxes) {
			m, b := c.mailboxes[n], boxes[n]
			switch {
			case b == nil:
				boxes[n] = &mailbox{order: len(boxes), messages: m.messages}
			case m.messages > b.messages:
				b.messages = m.messages
			}
		}
		plain = plain || c.plainLogin
	}
	if f.Server.TLS != scenarios.TLSNone {
		f.Server.Certificate = scenarios.CertValid
		if plain {
			// The upstream let the client log in before TLS.
			t := true
			f.Server.PlaintextAuth = &t
		}
	}
	if slices.ContainsFunc(usedMechs, func(m string) bool { return m == "XOAUTH2" || m == "OAUTHBEARER" }) || len(mechs) > 0 {
		for _, m := range usedMechs {
			if slices.Contains(supportedMechs, m) && !slices.Contains(mechs, m) {
				mechs = append(mechs, m)
			}
		}
		f.Server.AuthMechanisms = mechs
	}
	if len(users) == 0 {
		users = []string{"user"}
	}
	mboxes := mailboxList(boxes)
	for _, u := range users {
		f.Users = append(f.Users, replay.User{Name: u, AnyPassword: true, Mailboxes: mboxes})
	}
	f.Client = replay.Client{TLS: f.Server.TLS, User: users[0], Password: replay.Password}
	if len(usedMechs) > 0 && (usedMechs[0] == "XOAUTH2" || usedMechs[0] == "OAUTHBEARER") {
		f.Client.Password, f.Client.Token, f.Client.Auth = "", replay.Password, strings.ToLower(usedMechs[0])
	}
	f.Replay = r.script(conns)
	return f
}

// mailboxList is the mailboxes seen, INBOX first, then in the order
// they were seen, each with as many generated messages as it held.
func mailboxList(boxes map[string]*mailbox) []replay.Mailbox {
	var names []string
	for _, n := range orderOf(boxes) {
		if n != "" && utf8.ValidString(n) && !strings.ContainsAny(n, "\r\n") {
			names = append(names, n)
		}
	}
	out := []replay.Mailbox{{Name: "INBOX"}}
	for _, n := range names {
		m := replay.Mailbox{Name: n}
		if n == "INBOX" {
			m = out[0]
		}
		if c := boxes[n].messages; c > 0 {
			m.Generate = &replay.Generate{Count: min(c, 100000)}
		}
		if n == "INBOX" {
			out[0] = m
		} else {
			out = append(out, m)
		}
	}
	return out
}

// orderOf is the names of boxes in the order they were seen.
func orderOf(boxes map[string]*mailbox) []string {
	names := make([]string, 0, len(boxes))
	for n := range boxes {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return boxes[a].order - boxes[b].order })
	return names
}

// script is the [replay] section: the first greeted connection's
// greeting, then every connection's answers, numbered by connection when
// there are several.
func (r *Recording) script(conns []*Conn) *replay.Replay {
	rp := &replay.Replay{}
	tx := newTransformer(r.opts)
	for _, c := range conns {
		if c.greeted {
			rp.Greeting = tx.text(c.greeting)
			rp.Delay = replay.Delay(c.greetingDelay)
			break
		}
	}
	// The first connection ended at the greeting (or before it), or not.
	rp.End = conns[0].end
	for i, c := range conns {
		// The replay's server numbers the connections it accepts: the
		// recorded ones in their order.
		connection := 0
		if len(conns) > 1 {
			connection = i + 1
		}
		for _, cmd := range c.cmds {
			if cmd.nth == 0 {
				continue
			}
			a := replay.Answer{Command: cmd.name, Nth: cmd.nth, Connection: connection, Tag: cmd.tag,
				Status: tx.text(cmd.status), End: cmd.end,
				// A refused AUTHENTICATE is refused at once: the client never
				// gets to send its response.
				Unscriptable: cmd.continued && cmd.name != "AUTHENTICATE"}
			if !cmd.first.IsZero() {
				a.Delay = cmd.first.Sub(cmd.sent)
			}
			for _, u := range cmd.untagged {
				a.Untagged = append(a.Untagged, tx.line(u))
			}
			for _, u := range cmd.after {
				a.After = append(a.After, tx.line(u))
			}
			if st, ok := replay.StepFor(a); ok {
				rp.Steps = append(rp.Steps, st)
			}
		}
	}
	if rp.Greeting == "" && rp.Delay == "" && rp.End == "" && len(rp.Steps) == 0 {
		return nil
	}
	return rp
}
