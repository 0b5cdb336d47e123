package recorder

import (
	"bytes"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/imapfault/imapfault/relay"
	"github.com/imapfault/imapfault/scenarios"
)

// Conn records one relayed connection: the relay.Observer a Recording
// hands out for it. It keeps what the upstream said, per command, and of
// the client's commands only their tags, names and the names of users
// and mailboxes: a password, a SASL exchange or an APPENDed message stays
// in memory only until its line is complete.
type Conn struct {
	mu     sync.Mutex
	n      int // from 1, in the order the relay accepted the connections
	opened time.Time

	client, upstream framer

	tls        string // "", implicit or starttls
	spoke      bool   // a byte has passed
	plainLogin bool   // a login before TLS

	greeted       bool
	greeting      string
	greetingDelay time.Duration

	cmds     []*command
	open     []*command // awaiting their tagged reply, oldest first
	exchange *command   // AUTHENTICATE or IDLE: the client's lines are its own
	between  []string   // untagged lines said while no command waited
	counts   map[string]int

	users     []string
	mechs     []string // AUTH= mechanisms the upstream offered
	mailboxes map[string]*mailbox

	closed  bool
	end     string // how the session ended at the greeting, before any command
	onClose func()
}

// command is one client command and the upstream's answer.
type command struct {
	tag, name string
	nth       int    // 0: a name no step can hold
	mailbox   string // SELECT, EXAMINE
	mech      string // AUTHENTICATE
	responses int    // client lines in the exchange (AUTHENTICATE)

	sent, first time.Time // its last byte; the first byte of its answer
	untagged    []string
	status      string
	continued   bool     // a continuation request came
	after       []string // lines after the reply, when the session ended then
	end         string   // how the session ended: awaiting the reply, or after it
}

// mailbox is what the upstream showed of one mailbox (its hierarchy
// delimiter is in the scripted LIST answers; the scenario has no key
// for it).
type mailbox struct {
	order    int
	messages int // -1: not seen
}

func newConn(n int, at time.Time) *Conn {
	return &Conn{n: n, opened: at, counts: map[string]int{}, mailboxes: map[string]*mailbox{}}
}

var _ relay.Observer = (*Conn)(nil)

// Bytes implements relay.Observer.
func (c *Conn) Bytes(at time.Time, from relay.Side, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spoke = true
	switch from {
	case relay.Client:
		for _, fr := range c.client.feed(at, b) {
			c.fromClient(fr)
		}
	case relay.Upstream:
		for _, fr := range c.upstream.feed(at, b) {
			c.fromUpstream(fr)
		}
	}
}

// TLS implements relay.Observer.
func (c *Conn) TLS(time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.spoke {
		c.tls = scenarios.TLSStartTLS
	} else {
		c.tls = scenarios.TLSImplicit
	}
	// What was cut off mid-line before the handshake is not IMAP.
	c.client, c.upstream = framer{}, framer{}
}

// Closed implements relay.Observer.
func (c *Conn) Closed(_ time.Time, by relay.Side, err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.flushPartial()
	switch {
	case by != relay.Upstream, errors.Is(err, relay.ErrClosed):
		// The client hung up, or the recording stopped.
		c.endAt("silence")
	case errors.Is(err, syscall.ECONNRESET):
		c.endAt("rst")
	default:
		c.endAt("eof")
	}
	c.mu.Unlock()
	if c.onClose != nil {
		c.onClose()
	}
}

// flushPartial gives the oldest waiting command what came of a line the
// upstream never finished (a literal cut short): the replay sends it,
// CRLF added, before the end.
func (c *Conn) flushPartial() {
	part := c.upstream.pending()
	if len(part) == 0 || len(c.open) == 0 {
		return
	}
	cmd := c.open[0]
	cmd.untagged = append(cmd.untagged, string(bytes.TrimRight(part, "\r\n")))
	c.upstream = framer{}
}

// endAt marks how the session ended: at the greeting, at the oldest
// command awaiting its reply, or after the last reply. "silence" is the
// client hanging up (or the recording stopping) while it waited; a
// command the upstream had already asked to go on with (IDLE's
// "+ idling") is not waiting.
func (c *Conn) endAt(end string) {
	switch {
	case !c.greeted, len(c.cmds) == 0 && end != "silence":
		c.end = end
	case len(c.open) == 0 && end != "silence":
		// The upstream closed after its last reply: what it said since
		// and the end follow that reply.
		last := c.cmds[len(c.cmds)-1]
		last.after, last.end = c.between, end
		c.between = nil
	case len(c.open) == 0, end == "silence" && c.open[0].continued:
	default:
		c.open[0].end = end
	}
}

// snapshot is a copy of what the connection holds now, ended in silence
// where it still waits: a recording written while the session goes on.
func (c *Conn) snapshot() *Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &Conn{n: c.n, tls: c.tls, plainLogin: c.plainLogin, greeted: c.greeted, greeting: c.greeting,
		greetingDelay: c.greetingDelay, users: slices.Clone(c.users), mechs: slices.Clone(c.mechs),
		mailboxes: make(map[string]*mailbox, len(c.mailboxes)), closed: c.closed, end: c.end}
	for n, m := range c.mailboxes {
		cp := *m
		s.mailboxes[n] = &cp
	}
	for _, cmd := range c.cmds {
		cp := *cmd
		cp.untagged = slices.Clip(cp.untagged)
		s.cmds = append(s.cmds, &cp)
		if slices.Contains(c.open, cmd) {
			s.open = append(s.open, &cp)
		}
	}
	if !s.closed {
		s.upstream.cur = slices.Clone(c.upstream.cur)
		s.flushPartial()
		s.endAt("silence")
	}
	return s
}

// fromClient reads one line of the client's.
func (c *Conn) fromClient(fr frame) {
	if ex := c.exchange; ex != nil {
		// A SASL response or IDLE's DONE: the command goes on. Only the
		// user name is taken from a SASL response, and only the first.
		ex.responses++
		if ex.name == "AUTHENTICATE" && ex.responses == 1 {
			c.addUser(saslUser(ex.mech, bytes.TrimRight(fr.raw, "\r\n")))
		}
		return
	}
	toks := tokens(fr.raw)
	if len(toks) < 2 || toks[0].kind != atom || toks[1].kind != atom {
		return // not a command: nothing to answer
	}
	name := strings.ToUpper(string(toks[1].value))
	args := toks[2:]
	if name == "UID" && len(toks) > 2 && toks[2].kind == atom {
		name, args = "UID "+strings.ToUpper(string(toks[2].value)), toks[3:]
	}
	cmd := &command{tag: string(toks[0].value), name: name, sent: fr.end, untagged: c.between}
	c.between = nil
	if scenarios.IsCommandName(name) {
		c.counts[name]++
		cmd.nth = c.counts[name]
	}
	switch name {
	case "LOGIN":
		if len(args) > 0 {
			u, _ := args[0].str()
			c.addUser(u)
		}
		c.plainLogin = c.plainLogin || c.tls == ""
	case "AUTHENTICATE":
		if len(args) > 0 {
			cmd.mech, _ = args[0].str()
			cmd.mech = strings.ToUpper(cmd.mech)
		}
		if len(args) > 1 {
			// SASL-IR: the initial response counts as the first.
			cmd.responses = 1
			ir, _ := args[1].str()
			c.addUser(saslUser(cmd.mech, []byte(ir)))
		}
		c.exchange = cmd
		c.plainLogin = c.plainLogin || c.tls == ""
	case "IDLE":
		c.exchange = cmd
	case "SELECT", "EXAMINE":
		if len(args) > 0 {
			name, _ := args[0].str()
			if name != "" {
				cmd.mailbox = mailboxName(name)
				c.seeMailbox(cmd.mailbox)
			}
		}
	}
	c.cmds = append(c.cmds, cmd)
	c.open = append(c.open, cmd)
}

// fromUpstream reads one line of the upstream's.
func (c *Conn) fromUpstream(fr frame) {
	line := string(bytes.TrimSuffix(bytes.TrimSuffix(fr.raw, []byte("\n")), []byte("\r")))
	if !c.greeted {
		c.greeted = true
		c.greeting = line
		c.greetingDelay = fr.at.Sub(c.opened)
		c.seeCapabilities(fr.raw)
		return
	}
	if strings.HasPrefix(line, "+") {
		c.continuation(fr, line)
		return
	}
	tag, status, _ := strings.Cut(line, " ")
	if tag != "*" {
		for i, cmd := range c.open {
			if cmd.tag != tag {
				continue
			}
			cmd.answered(fr.at)
			cmd.status = status
			c.open = slices.Delete(c.open, i, i+1)
			if c.exchange == cmd {
				c.exchange = nil
			}
			c.seeCapabilities(fr.raw)
			return
		}
	}
	// Untagged, or a tag no command has (sent as it came).
	c.seeCapabilities(fr.raw)
	c.seeMailboxes(fr.raw)
	if len(c.open) == 0 {
		// Said between commands (a BYE at an idle timeout, a push): the
		// format answers commands, so it goes with the next one.
		c.between = append(c.between, line)
		return
	}
	cmd := c.open[0]
	cmd.answered(fr.at)
	cmd.untagged = append(cmd.untagged, line)
	if n, ok := exists(line); ok && cmd.mailbox != "" {
		c.seeMailbox(cmd.mailbox).messages = n
	}
}

// continuation reads a "+" line: the upstream asks a command to go on.
func (c *Conn) continuation(fr frame, line string) {
	if len(c.client.pending()) > 0 {
		// The client's command waits for it to send a literal: part of
		// the command, not its answer.
		return
	}
	cmd := c.exchange
	if cmd == nil {
		if len(c.open) == 0 {
			return
		}
		cmd = c.open[len(c.open)-1]
	}
	cmd.answered(fr.at)
	cmd.continued = true
	if cmd.name != "AUTHENTICATE" {
		// A SASL challenge never reaches the file; IDLE's "+ idling" may,
		// when the session ended after it.
		cmd.untagged = append(cmd.untagged, line)
	}
}

func (cmd *command) answered(at time.Time) {
	if cmd.first.IsZero() {
		cmd.first = at
	}
}

func (c *Conn) addUser(u string) {
	if u != "" && !slices.Contains(c.users, u) {
		c.users = append(c.users, u)
	}
}

// saslUser is the user name in a SASL response, "" when there is none to
// read; nothing else of the response is kept.
func saslUser(mech string, resp []byte) string {
	dec, err := base64.StdEncoding.DecodeString(string(resp))
	if err != nil {
		return ""
	}
	switch mech {
	case "PLAIN": // authzid NUL authcid NUL password
		parts := strings.Split(string(dec), "\x00")
		if len(parts) == 3 {
			return parts[1]
		}
	case "LOGIN": // the first response is the user name
		return string(dec)
	case "XOAUTH2": // user=NAME ^A auth=Bearer TOKEN ^A ^A
		for _, kv := range strings.Split(string(dec), "\x01") {
			if u, ok := strings.CutPrefix(kv, "user="); ok {
				return u
			}
		}
	case "OAUTHBEARER": // n,a=NAME, ^A auth=Bearer TOKEN ^A ^A
		gs2, _, _ := strings.Cut(string(dec), "\x01")
		for _, f := range strings.Split(gs2, ",") {
			if u, ok := strings.CutPrefix(f, "a="); ok {
				return strings.NewReplacer("=2C", ",", "=3D", "=").Replace(u)
			}
		}
	}
	return ""
}

// seeCapabilities notes the AUTH= mechanisms of a CAPABILITY list, in a
// greeting's or status's code or an untagged CAPABILITY line.
func (c *Conn) seeCapabilities(raw []byte) {
	up := strings.ToUpper(string(raw))
	i := strings.Index(up, "CAPABILITY ")
	if i < 0 {
		return
	}
	list := up[i+len("CAPABILITY "):]
	if j := strings.IndexAny(list, "]\r\n"); j >= 0 {
		list = list[:j]
	}
	for _, cp := range strings.Fields(list) {
		if m, ok := strings.CutPrefix(cp, "AUTH="); ok && !slices.Contains(c.mechs, m) {
			c.mechs = append(c.mechs, m)
		}
	}
}

// seeMailboxes notes the mailboxes of a LIST, LSUB or STATUS line.
func (c *Conn) seeMailboxes(raw []byte) {
	toks := tokens(raw)
	if len(toks) < 3 || string(toks[0].value) != "*" {
		return
	}
	switch strings.ToUpper(string(toks[1].value)) {
	case "LIST", "LSUB":
		// * LIST (attributes) delimiter name
		i := slices.IndexFunc(toks, func(t token) bool { return t.kind == closing })
		if i < 0 || i+2 >= len(toks) {
			return
		}
		name, ok := toks[i+2].str()
		if !ok || name == "" {
			return
		}
		c.seeMailbox(name)
	case "STATUS":
		// * STATUS name (MESSAGES n ...)
		name, ok := toks[2].str()
		if !ok || name == "" {
			return
		}
		m := c.seeMailbox(name)
		for i := 3; i+1 < len(toks); i++ {
			if strings.EqualFold(string(toks[i].value), "MESSAGES") && toks[i].kind == atom {
				if n, err := strconv.Atoi(string(toks[i+1].value)); err == nil && n >= 0 {
					m.messages = n
				}
			}
		}
	}
}

// mailboxName is name as the scenario writes it: INBOX in any case is
// INBOX.
func mailboxName(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return name
}

func (c *Conn) seeMailbox(name string) *mailbox {
	name = mailboxName(name)
	m := c.mailboxes[name]
	if m == nil {
		m = &mailbox{order: len(c.mailboxes), messages: -1}
		c.mailboxes[name] = m
	}
	return m
}

// exists reads "* n EXISTS".
func exists(line string) (int, bool) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "*" || !strings.EqualFold(f[2], "EXISTS") {
		return 0, false
	}
	n, err := strconv.Atoi(f[1])
	return n, err == nil && n >= 0
}
