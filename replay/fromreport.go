// Package replay turns what the tester saw of a server into a scenario
// whose fake server plays it back: a support engineer's way from a
// customer's report to a local reproduction. It knows the tester only
// through client.Report and writes the scenario format's [replay]
// section; it never imports the server.
package replay

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/client/phase"
	"github.com/imapfault/imapfault/scenarios"
)

// Password is the password of the replayed user, in the scenario's
// [[users]] and [client]: a report never holds the real one.
const Password = "replayed"

// MinDelay is the shortest wait that is replayed: below it, a gap in the
// transcript is the tester's and the loopback's own pace, not the server's.
const MinDelay = 100 * time.Millisecond

// minTimeout is the shortest failed step taken for a timeout.
const minTimeout = 500 * time.Millisecond

// serverState are the commands whose success changes the session's state
// (TLS, login, selection, IDLE, writes): the server behind the script
// must see them, so that the commands after them work. Their successful
// answers are left to it; only their delay is replayed.
var serverState = []string{"STARTTLS", "LOGIN", "AUTHENTICATE", "SELECT", "EXAMINE", "IDLE", "STORE", "UID STORE", "APPEND", "LOGOUT", "CLOSE", "UNSELECT", "EXPUNGE"}

// certificates maps the tester's certificate diagnoses to the certificate
// the fake server presents; any other TLS session gets a valid one.
var certificates = map[string]string{
	client.CodeTLSCertExpired:      "expired",
	client.CodeTLSCertNotYetValid:  "not-yet-valid",
	client.CodeTLSCertSelfSigned:   "self-signed",
	client.CodeTLSCertUntrusted:    "untrusted-ca",
	client.CodeTLSHostnameMismatch: "wrong-host",
}

// File is the scenario FromReport writes, in the file's key order. It
// mirrors the parts of scenarios.Scenario it sets rather than encoding
// that type: the file must leave unset keys out (a written "nth = 0" or
// "timeout = 0" is an error) and give durations as strings ("1.5s").
type File struct {
	Name        string  `toml:"name"`
	Description string  `toml:"description"`
	Server      Server  `toml:"server"`
	Users       []User  `toml:"users"`
	Replay      *Replay `toml:"replay,omitempty"`
	// Faults hold what a transcript shows only as its outcome: the
	// transport failures before any IMAP line (tcpFaults, tlsFault).
	Faults []map[string]any `toml:"faults,omitempty"`
	Client Client           `toml:"client"`
	Expect Expect           `toml:"expect"`
}

// Server is the [server] table.
type Server struct {
	TLS          string   `toml:"tls"`
	Certificate  string   `toml:"certificate,omitempty"`
	Capabilities []string `toml:"capabilities,omitempty"`
}

// User is one [[users]] table.
type User struct {
	Name      string    `toml:"name"`
	Password  string    `toml:"password,omitempty"`
	Tokens    []string  `toml:"tokens,omitempty"`
	Mailboxes []Mailbox `toml:"mailboxes"`
}

// Mailbox is one mailbox of a user, with generated messages.
type Mailbox struct {
	Name     string    `toml:"name"`
	Generate *Generate `toml:"generate,omitempty"`
}

// Generate asks for count generated messages.
type Generate struct {
	Count int `toml:"count"`
}

// Replay is the [replay] table (see scenarios.Replay).
type Replay struct {
	Greeting string `toml:"greeting,omitempty"`
	Delay    string `toml:"delay,omitempty"`
	End      string `toml:"end,omitempty"`
	Steps    []Step `toml:"steps,omitempty"`
}

// Step is one [[replay.steps]] table.
type Step struct {
	Command    string   `toml:"command"`
	Nth        int      `toml:"nth"`
	Connection int      `toml:"connection,omitempty"`
	Delay      string   `toml:"delay,omitempty"`
	Untagged   []string `toml:"untagged,omitempty"`
	Status     string   `toml:"status,omitempty"`
	End        string   `toml:"end,omitempty"`
}

// Client is the [client] table.
type Client struct {
	TLS      string            `toml:"tls"`
	User     string            `toml:"user"`
	Password string            `toml:"password,omitempty"`
	Token    string            `toml:"token,omitempty"`
	Auth     string            `toml:"auth,omitempty"`
	Mailbox  string            `toml:"mailbox,omitempty"`
	Insecure bool              `toml:"insecure,omitempty"`
	Write    bool              `toml:"write,omitempty"`
	Timeouts map[string]string `toml:"timeouts,omitempty"`
}

// Expect is the [expect] table: what the customer's check concluded.
type Expect struct {
	Diagnosis string `toml:"diagnosis"`
	Phase     string `toml:"phase,omitempty"`
}

// FromReport returns a scenario that replays what the server did in the
// report's first session: its greeting, its answer to each command
// (except the successes the server behind must see, see serverState),
// the delays, and the end at the step where the check failed. The
// [client] settings repeat the check's, and [expect] its diagnosis.
func FromReport(r *client.Report) ([]byte, error) {
	f, err := build(r)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Written by imapfault scenarios from-report from a check of %s at %s.\n", r.Target, r.Started.Format(time.RFC3339))
	fmt.Fprintf(&buf, "# Serve it: imapfault serve --scenario FILE; prove it: imapfault verify FILE.\n\n")
	if err := toml.NewEncoder(&buf).Encode(f); err != nil {
		return nil, fmt.Errorf("from-report: %w", err)
	}
	return buf.Bytes(), nil
}

func build(r *client.Report) (*File, error) {
	if r.Diagnosis.Code == "" {
		return nil, fmt.Errorf("from-report: the report has no diagnosis: is it the JSON of imapfault check --json?")
	}
	user := r.User
	if user == "" {
		user = "user"
	}
	mailbox := r.Mailbox
	if mailbox == "" {
		mailbox = "INBOX"
	}
	f := &File{
		Name:        name(r.Target),
		Description: fmt.Sprintf("Replays %s as imapfault check saw it at %s: %s", r.Target, r.Started.Format(time.RFC3339), r.Diagnosis.Code),
		Server:      Server{TLS: string(r.TLSMode), Capabilities: r.Capabilities},
		Client: Client{TLS: string(r.TLSMode), User: user, Mailbox: mailbox,
			Insecure: r.Insecure, Write: r.Write},
		Expect: Expect{Diagnosis: r.Diagnosis.Code, Phase: r.Diagnosis.Phase},
	}
	if f.Server.TLS == "" {
		f.Server.TLS, f.Client.TLS = string(client.TLSImplicit), string(client.TLSImplicit)
	}
	if r.TLSMode != client.TLSNone {
		f.Server.Certificate = "valid"
		if c, ok := certificates[r.Diagnosis.Code]; ok {
			f.Server.Certificate = c
		}
	}
	u := User{Name: user, Mailboxes: []Mailbox{{Name: mailbox}}}
	if mailbox != "INBOX" {
		u.Mailboxes = append(u.Mailboxes, Mailbox{Name: "INBOX"})
	}
	if r.Messages > 0 {
		u.Mailboxes[0].Generate = &Generate{Count: min(r.Messages, 1000)}
	}
	auth := strings.ToLower(r.Auth)
	if auth == "" {
		// A report from before the auth field: the transcript tells, if
		// the check got as far as AUTHENTICATE.
		auth = strings.ToLower(authMechanism(r.Transcript))
	}
	if auth == "xoauth2" || auth == "oauthbearer" {
		u.Tokens = []string{Password}
		f.Client.Token = Password
	} else {
		u.Password, f.Client.Password = Password, Password
	}
	if auth != "login" {
		f.Client.Auth = auth
	}
	f.Users = []User{u}
	rp := script(r)
	rp.oneLine()
	if rp.Greeting != "" || rp.Delay != "" || rp.End != "" || len(rp.Steps) > 0 {
		f.Replay = rp
	}
	failed := failedStep(r)
	if fault := transportFault(r.Diagnosis.Code, failed); fault != nil {
		f.Faults = []map[string]any{fault}
	}
	if (rp.silent() || f.Faults != nil) && failed != nil && failed.Duration >= minTimeout && phase.Valid(failed.Phase) {
		// The check waited for the server until its timeout: the replay's
		// tester waits as long, not the default.
		f.Client.Timeouts = map[string]string{failed.Phase: failed.Duration.Round(100 * time.Millisecond).String()}
	}
	switch {
	case r.Diagnosis.Code != client.CodeTLSProtocolMismatch:
	case r.TLSMode == client.TLSImplicit:
		f.Server.TLS, f.Server.Certificate = string(client.TLSNone), "" // TLS spoken to a plaintext port
	default:
		f.Server.TLS, f.Server.Certificate = string(client.TLSImplicit), "valid" // plaintext spoken to a TLS port
	}
	return f, nil
}

// failedStep is the step of the diagnosis, when it failed.
func failedStep(r *client.Report) *client.Step {
	for i := len(r.Steps) - 1; i >= 0; i-- {
		if st := &r.Steps[i]; st.Phase == r.Diagnosis.Phase && !st.OK {
			return st
		}
	}
	return nil
}

// transportFault is the [[faults]] table for a failure before any IMAP
// line, which a transcript shows only as its outcome; nil for others.
func transportFault(code string, failed *client.Step) map[string]any {
	switch code {
	case client.CodeTCPReset:
		if failed != nil && failed.Phase == string(phase.Connect) {
			return map[string]any{"drop": "rst"}
		}
	case client.CodeTLSVersionWeak:
		return map[string]any{"tls": map[string]any{"min_version": "1.0", "max_version": "1.1"}}
	case client.CodeTLSHandshakeFailed:
		if failed != nil && failed.Duration >= minTimeout {
			return map[string]any{"tls": map[string]any{"handshake": "stall"}}
		}
		return map[string]any{"tls": map[string]any{"handshake": "abort"}}
	}
	return nil
}

// silent reports whether the replay ends in silence, which the tester
// meets with its timeout.
func (rp *Replay) silent() bool {
	if rp.End == "silence" {
		return true
	}
	return len(rp.Steps) > 0 && rp.Steps[len(rp.Steps)-1].End == "silence"
}

var nameJunk = regexp.MustCompile(`[^a-z0-9]+`)

// name makes a scenario name of the target: "imap.acme.com:993" becomes
// "imap-acme-com-993".
func name(target string) string {
	n := strings.Trim(nameJunk.ReplaceAllString(strings.ToLower(target), "-"), "-")
	if n == "" || n[0] < 'a' || n[0] > 'z' {
		n = "replay-" + n
	}
	return strings.TrimSuffix(n, "-")
}

// authMechanism is the SASL mechanism the check logged in with, or "".
func authMechanism(events []client.Event) string {
	for _, e := range events {
		if e.Session != 1 || !sent(e.Dir) {
			continue
		}
		if _, rest, ok := strings.Cut(e.Text, " "); ok {
			if mech, ok := strings.CutPrefix(strings.ToUpper(rest), "AUTHENTICATE "); ok {
				m, _, _ := strings.Cut(mech, " ")
				return m
			}
		}
	}
	return ""
}

func sent(dir string) bool     { return dir == "->" || dir == "~>" }
func received(dir string) bool { return dir == "<-" || dir == "<~" }

// step is a command of the transcript and what came back.
type step struct {
	tag, command string
	nth          int
	at           time.Duration // when it was sent
	first        time.Duration // when its first response line came; 0: none
	untagged     []string
	status       string
	unscriptable bool // a literal or a continuation: left to the server
}

// script reads the first session of the transcript into a replay.
// oneLine makes the greeting and the tagged statuses the single lines
// the format wants: a transcript line can hold a bare CR (a server's
// garbage, kept by the tester), which the replay sends as a space.
func (rp *Replay) oneLine() {
	cr := strings.NewReplacer("\r", " ", "\n", " ")
	rp.Greeting = cr.Replace(rp.Greeting)
	for i := range rp.Steps {
		rp.Steps[i].Status = cr.Replace(rp.Steps[i].Status)
	}
}

func script(r *client.Report) *Replay {
	rp := &Replay{}
	var (
		steps, second []*step // the first session's and the second's
		cur           *step
		connected     time.Duration
		greeted       bool
		counts        = map[string]int{}
		counts2       = map[string]int{}
		cur2          *step
	)
	for _, e := range r.Transcript {
		if e.Session == 2 {
			// The write round-trip's second session: its own numbering,
			// its greeting already replayed.
			cur2 = readEvent(cur2, &second, counts2, e)
			continue
		}
		if e.Session != 1 {
			continue
		}
		switch {
		case e.Dir == "==" && strings.HasPrefix(e.Text, "connected to "):
			connected = e.Elapsed
		case received(e.Dir) && !greeted && cur == nil:
			greeted = true
			rp.Greeting = e.Text
			rp.Delay = delay(e.Elapsed - connected)
		default:
			cur = readEvent(cur, &steps, counts, e)
		}
	}
	end := ending(r.Diagnosis.Code)
	if !greeted {
		switch {
		case r.Diagnosis.Code == client.CodeGreetingMalformed || r.Diagnosis.Code == client.CodeGreetingNotIMAP:
			// What came in place of a greeting is only in the evidence.
			rp.Greeting = r.Diagnosis.Evidence
		case r.Diagnosis.Phase == string(phase.Greeting):
			// The session ended before a greeting.
			rp.End = end
		}
		return rp
	}
	for i, s := range steps {
		last := i == len(steps)-1
		st := Step{Command: s.command, Nth: s.nth}
		if s.first > 0 {
			st.Delay = delay(s.first - s.at)
		}
		failed := last && s.status == "" && end != ""
		ok := statusWord(s.status) == "OK"
		switch {
		case failed:
			// The check failed here, before a tagged reply: the lines that
			// came, then the end it saw.
			st.Untagged, st.End = s.untagged, end
		case s.unscriptable, s.status == "":
			// Left to the server; its pace is kept.
		case ok && slices.Contains(serverState, s.command):
		case !slices.Contains([]string{"OK", "NO", "BAD"}, statusWord(s.status)):
			// A tagged BYE or worse: sent as it came, tag and all (the
			// tester's tags repeat), and the session ends.
			st.Untagged, st.End = append(s.untagged, s.tag+" "+s.status), "eof"
		default:
			st.Untagged, st.Status = s.untagged, s.status
		}
		if st.Delay != "" || st.Untagged != nil || st.Status != "" || st.End != "" {
			rp.Steps = append(rp.Steps, st)
		}
	}
	if len(steps) == 0 && !strings.HasPrefix(strings.ToUpper(rp.Greeting), "* BYE") {
		// Greeted, then the end before any command.
		rp.End = end
	}
	if len(second) == 0 {
		return rp
	}
	// With two sessions, each plays on its own connection.
	for i := range rp.Steps {
		rp.Steps[i].Connection = 1
	}
	for _, s := range second {
		st := Step{Command: s.command, Nth: s.nth, Connection: 2}
		if !s.unscriptable && s.status != "" && !(statusWord(s.status) == "OK" && slices.Contains(serverState, s.command)) &&
			slices.Contains([]string{"OK", "NO", "BAD"}, statusWord(s.status)) {
			st.Untagged, st.Status = s.untagged, s.status
			rp.Steps = append(rp.Steps, st)
		}
	}
	return rp
}

// readEvent reads one event of a session's commands and answers into
// steps; cur is the command being answered, which it returns.
func readEvent(cur *step, steps *[]*step, counts map[string]int, e client.Event) *step {
	switch {
	case sent(e.Dir):
		if cur != nil && cur.status == "" {
			// IDLE's DONE, a SASL response: the command goes on.
			cur.unscriptable = true
			return cur
		}
		tag, rest, ok := strings.Cut(e.Text, " ")
		if !ok {
			return cur
		}
		cmd := commandName(rest)
		if !scenarios.IsCommandName(cmd) {
			// No command a scenario can name (a report edited by hand, or
			// garbage): nothing to script, and the server behind answers it.
			return nil
		}
		counts[cmd]++
		cur = &step{tag: tag, command: cmd, nth: counts[cmd], at: e.Elapsed}
		*steps = append(*steps, cur)
	case received(e.Dir) && cur != nil:
		if cur.first == 0 {
			cur.first = e.Elapsed
		}
		switch {
		case strings.HasPrefix(e.Text, cur.tag+" "):
			cur.status = strings.TrimPrefix(e.Text, cur.tag+" ")
		case strings.HasPrefix(e.Text, "+") || strings.HasPrefix(e.Text, "{literal:"):
			cur.unscriptable = true
		case cur.status == "":
			cur.untagged = append(cur.untagged, e.Text)
		}
	}
	return cur
}

func statusWord(status string) string {
	w, _, _ := strings.Cut(status, " ")
	return strings.ToUpper(w)
}

// commandName is a command line's name after the tag: "UID FETCH" for
// UID commands, upper case.
func commandName(rest string) string {
	fields := strings.Fields(strings.ToUpper(rest))
	if len(fields) == 0 {
		return ""
	}
	if fields[0] == "UID" && len(fields) > 1 {
		return "UID " + fields[1]
	}
	return fields[0]
}

// ending is how a session that failed with code ended where a reply was
// awaited: a reset, a close, or else silence (a timeout, a continuation
// that never came, a reply the tester could not read).
func ending(code string) string {
	switch {
	case code == client.CodeOK:
		return ""
	case code == client.CodeTCPReset:
		return "rst"
	case strings.HasSuffix(code, ".dropped"), strings.HasSuffix(code, ".eof"), code == client.CodeConnBye, code == client.CodeGreetingBye:
		return "eof"
	}
	return "silence"
}

// delay is a wait worth replaying, as the file writes it, or "".
func delay(d time.Duration) string {
	if d < MinDelay {
		return ""
	}
	return d.Round(time.Millisecond).String()
}
