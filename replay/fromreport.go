// Package replay turns what the tester saw of a server into a scenario
// whose fake server plays it back: a support engineer's way from a
// customer's report to a local reproduction. It knows the tester only
// through client.Report and writes the scenario format's [replay]
// section; it never imports the server.
package replay

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/client/phase"
	"github.com/imapfault/imapfault/scenarios"
)

// minTimeout is the shortest failed step taken for a timeout.
const minTimeout = 500 * time.Millisecond

// certificates maps the tester's certificate diagnoses to the certificate
// the fake server presents; any other TLS session gets a valid one.
var certificates = map[string]string{
	client.CodeTLSCertExpired:      "expired",
	client.CodeTLSCertNotYetValid:  "not-yet-valid",
	client.CodeTLSCertSelfSigned:   "self-signed",
	client.CodeTLSCertUntrusted:    "untrusted-ca",
	client.CodeTLSHostnameMismatch: "wrong-host",
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
	return f.Encode(
		fmt.Sprintf("Written by imapfault scenarios from-report from a check of %s at %s.", r.Target, r.Started.Format(time.RFC3339)),
		"Serve it: imapfault serve --scenario FILE; prove it: imapfault verify FILE.")
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
		Expect: &Expect{Diagnosis: r.Diagnosis.Code, Phase: r.Diagnosis.Phase},
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
	if rp.Greeting != "" || rp.Delay != "" || rp.End != "" || len(rp.Steps) > 0 {
		f.Replay = rp
	}
	failed := failedStep(r)
	if fault := transportFault(r.Diagnosis.Code, failed); fault != nil {
		f.Faults = []map[string]any{fault}
	}
	if (rp.silent() || f.Faults != nil) && failed != nil && failed.Duration >= minTimeout && phase.Valid(failed.Phase) && !onContent(r.Diagnosis.Code) {
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

// onContent reports whether code is diagnosed on what came in place of
// a greeting, never on a wait: its step's length is how long a loaded
// machine took to deliver it, not a timeout to replay (smtp-banner's round
// trip once wrote one of 1.2s and then waited out the replayed greeting).
func onContent(code string) bool {
	return code == client.CodeGreetingNotIMAP || code == client.CodeGreetingMalformed || code == client.CodeTLSProtocolMismatch
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

// answer is what StepFor reads of s.
func (s *step) answer(connection int) Answer {
	a := Answer{Command: s.command, Nth: s.nth, Connection: connection, Untagged: s.untagged, Tag: s.tag, Status: s.status,
		Unscriptable: s.unscriptable, After: s.after}
	if s.first > 0 {
		a.Delay = s.first - s.at
	}
	return a
}

// step is a command of the transcript and what came back.
type step struct {
	tag, command string
	nth          int
	at           time.Duration // when it was sent
	first        time.Duration // when its first response line came; 0: none
	untagged     []string
	status       string
	after        []string // lines after the tagged reply
	unscriptable bool     // a literal or a continuation: left to the server
}

// script reads the first session of the transcript into a replay.
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
			rp.Delay = Delay(e.Elapsed - connected)
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
		a := s.answer(0)
		switch {
		case i < len(steps)-1:
			a.After = nil // said before the next command: not scripted
		case s.status == "":
			// The check failed here, before a tagged reply.
			a.End = end
		case end != "silence":
			// It failed after the reply: the server closed (a STARTTLS
			// whose OK is followed by EOF). A silence after a reply is
			// the tester's own next step timing out.
			a.End = end
		}
		if st, ok := StepFor(a); ok {
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
		// The second session's answers only: its pace is the tester's.
		a := s.answer(2)
		a.Delay = 0
		if st, ok := StepFor(a); ok {
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
		default:
			cur.after = append(cur.after, e.Text)
		}
	}
	return cur
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
