package replay

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Password is the password of the replayed user, in the scenario's
// [[users]] and [client]: a report never holds the real one.
const Password = "replayed"

// MinDelay is the shortest wait that is replayed: below it, a gap in the
// transcript is the tester's and the loopback's own pace, not the server's.
const MinDelay = 100 * time.Millisecond

// serverState are the commands whose success changes the session's state
// (TLS, login, selection, IDLE, writes): the server behind the script
// must see them, so that the commands after them work. Their successful
// answers are left to it; only their delay is replayed.
var serverState = []string{"STARTTLS", "LOGIN", "AUTHENTICATE", "SELECT", "EXAMINE", "IDLE", "STORE", "UID STORE", "APPEND", "LOGOUT", "CLOSE", "UNSELECT", "EXPUNGE", "ENABLE", "COMPRESS"}

// File is a scenario that replays a server, in the file's key order:
// what FromReport and the recorder write. It mirrors the parts of
// scenarios.Scenario they set rather than encoding that type: the file
// must leave unset keys out (a written "nth = 0" or "timeout = 0" is an
// error) and give durations as strings ("1.5s").
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
	// Expect is what the check concluded; a recording, which has no
	// diagnosis, leaves it out.
	Expect *Expect `toml:"expect,omitempty"`
}

// Server is the [server] table.
type Server struct {
	TLS            string   `toml:"tls"`
	Certificate    string   `toml:"certificate,omitempty"`
	Capabilities   []string `toml:"capabilities,omitempty"`
	AuthMechanisms []string `toml:"auth_mechanisms,omitempty"`
	PlaintextAuth  *bool    `toml:"plaintext_auth,omitempty"`
}

// User is one [[users]] table.
type User struct {
	Name     string   `toml:"name"`
	Password string   `toml:"password,omitempty"`
	Tokens   []string `toml:"tokens,omitempty"`
	// AnyPassword accepts every password and token for the user: a
	// recording never holds the real ones.
	AnyPassword bool      `toml:"any_password,omitempty"`
	Mailboxes   []Mailbox `toml:"mailboxes"`
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
	Connection int      `toml:"connection,omitzero"`
	Delay      string   `toml:"delay,omitempty"`
	Untagged   []string `toml:"untagged,omitempty"`
	Status     string   `toml:"status,omitempty"`
	End        string   `toml:"end,omitempty"`
	AfterOK    *AfterOK `toml:"after_ok,omitempty"`
}

// AfterOK is a step's [replay.steps.after_ok] table.
type AfterOK struct {
	Untagged []string `toml:"untagged,omitempty"`
	End      string   `toml:"end,omitempty"`
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

// Encode writes f as a scenario file, after the comment lines of header
// ("# " is put before each).
func (f *File) Encode(header ...string) ([]byte, error) {
	if f.Replay != nil {
		f.Replay.oneLine()
	}
	var buf bytes.Buffer
	for _, h := range header {
		fmt.Fprintf(&buf, "# %s\n", h)
	}
	if len(header) > 0 {
		buf.WriteByte('\n')
	}
	if err := toml.NewEncoder(&buf).Encode(f); err != nil {
		return nil, fmt.Errorf("writing the scenario: %w", err)
	}
	return buf.Bytes(), nil
}

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

// Answer is what a server did with one command, as a report's transcript
// or a recording shows it: the one input of the rule that decides what a
// replay scripts (StepFor).
type Answer struct {
	Command    string // upper case; "UID FETCH"
	Nth        int    // its occurrence on the connection, from 1
	Connection int    // 0: every connection
	// Delay is the wait from the command to the first line of its answer.
	Delay    time.Duration
	Untagged []string
	// Tag and Status are the tagged reply; Status is "" when none came.
	Tag, Status string
	// Unscriptable is an answer the format cannot hold (a continuation
	// request, a literal a transcript does not show): the server behind
	// answers.
	Unscriptable bool
	// After are the lines that came after the tagged reply, before the
	// session ended.
	After []string
	// End is how the session ended (eof, rst, silence): while the answer
	// was awaited when Status is "", else after the reply and After; ""
	// when it went on.
	End string
}

// StepFor is the step that replays a, and whether there is anything to
// replay. A failure is scripted as it came; a success that changes the
// session's state (serverState), an unscriptable answer and a command
// without a reply are left to the server behind, with their delay, and
// what followed such a success goes after the server's OK (after_ok).
func StepFor(a Answer) (Step, bool) {
	st := Step{Command: a.Command, Nth: a.Nth, Connection: a.Connection, Delay: Delay(a.Delay)}
	word := statusWord(a.Status)
	switch {
	case a.Status == "" && a.End != "":
		// It ended here, before a tagged reply: the lines that came, then
		// the end.
		st.Untagged, st.End = a.Untagged, a.End
	case word == "OK" && slices.Contains(serverState, a.Command):
		// Left to the server, and what followed its OK is scripted after
		// it: a BYE after LOGIN, a close after STARTTLS.
		// (LOGOUT's OK is followed by a close by the protocol itself.)
		if (len(a.After) > 0 || a.End != "") && a.Command != "LOGOUT" {
			st.AfterOK = &AfterOK{Untagged: a.After, End: a.End}
		}
	case a.Unscriptable, a.Status == "":
		// Left to the server; its pace is kept.
	case !slices.Contains([]string{"OK", "NO", "BAD"}, word):
		// A tagged BYE or worse: sent as it came, tag and all (the
		// client's tags repeat), and the session ends.
		st.Untagged, st.End = append(slices.Clip(a.Untagged), a.Tag+" "+a.Status), "eof"
	default:
		st.Untagged, st.Status = a.Untagged, a.Status
	}
	ok := st.Delay != "" || st.Untagged != nil || st.Status != "" || st.End != "" || st.AfterOK != nil
	return st, ok
}

func statusWord(status string) string {
	w, _, _ := strings.Cut(status, " ")
	return strings.ToUpper(w)
}

// Delay is a wait worth replaying, as the file writes it, or "".
func Delay(d time.Duration) string {
	if d < MinDelay {
		return ""
	}
	return d.Round(time.Millisecond).String()
}
