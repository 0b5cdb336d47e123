package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/imapfault/imapfault/faults"
)

// Replay is a scripted session: what a real server said, played back to
// any client. It is one format for a session taken from a tester's report
// (imapfault scenarios from-report), recorded, or written by hand. The
// script compiles to the fault primitives (greeting, delay, write,
// respond, drop, stall), placed before the scenario's own [[faults]], so
// that a replay is served by the one mechanism every fault uses; what the
// script does not cover is answered by the healthy server behind it.
type Replay struct {
	// Greeting replaces the whole greeting line, code included.
	Greeting string `toml:"greeting"`
	// Delay holds the greeting back this long.
	Delay time.Duration `toml:"delay"`
	// End makes the connection end at the greeting, after Greeting if
	// set: eof, rst or silence.
	End End `toml:"end"`
	// Steps answer client commands.
	Steps []Step `toml:"steps"`
}

// Step is the server's part for one client command.
type Step struct {
	// Command is the command answered, as When.command names it: FETCH
	// also matches UID FETCH, LOGIN also AUTHENTICATE.
	Command string `toml:"command"`
	// Nth is the occurrence of Command on a connection this step answers;
	// by default, the step's place among the steps naming Command, so that
	// steps are matched in order, per command.
	Nth int `toml:"nth"`
	// Connection limits the step to the nth connection the server
	// accepts (1-based); 0, the default, plays it on every connection.
	Connection int `toml:"connection"`
	// Delay holds the answer back this long.
	Delay time.Duration `toml:"delay"`
	// Untagged are lines sent as they are (CRLF added), before Status or
	// End; a literal is written inline: "* 1 FETCH (BODY[] {5}\r\nhello)".
	// They are not checked: a replay sends what a broken server sent.
	Untagged []string `toml:"untagged"`
	// Status is the tagged reply, tag left out: the client's tag is put
	// in front. Without Status and End, the command then goes on to the
	// server, which answers it.
	Status string `toml:"status"`
	// End ends the connection in place of the tagged reply.
	End End `toml:"end"`
	// AfterOK follows the server's own tagged OK to the command: a
	// success the server behind must see (STARTTLS, LOGIN), then lines or
	// an end. It excludes Status and End, which answer in its place.
	AfterOK *AfterOK `toml:"after_ok"`
}

// AfterOK is what follows the server's tagged OK to a step's command.
type AfterOK struct {
	// Untagged are lines sent as they are (CRLF added) after the OK.
	Untagged []string `toml:"untagged"`
	// End ends the connection after them.
	End End `toml:"end"`
}

// End is how a scripted session ends.
type End string

// The ways a session ends, and what each compiles to.
const (
	EndEOF     End = "eof"     // an orderly close (drop = "fin")
	EndRST     End = "rst"     // a TCP reset (drop = "rst")
	EndSilence End = "silence" // the socket stays open, nothing more is said (stall)
)

var ends = []string{string(EndEOF), string(EndRST), string(EndSilence)}

// action is the fault an End compiles to.
func (e End) action() faults.Action {
	switch e {
	case EndEOF:
		return &faults.Drop{Drop: "fin"}
	case EndRST:
		return &faults.Drop{Drop: "rst"}
	case EndSilence:
		return &faults.Stall{Stall: true}
	}
	return nil
}

var commandRE = regexp.MustCompile(`^(UID )?[A-Z][A-Z0-9]*$`)

// IsCommandName reports whether name can be a replay step's command: an
// atom of letters and digits ("LOGIN"), or "UID " and one ("UID FETCH").
func IsCommandName(name string) bool { return commandRE.MatchString(strings.ToUpper(name)) }

// stepStatuses are the tagged statuses a step may give: a BYE is
// untagged, followed by end = "eof".
var stepStatuses = []string{"OK", "NO", "BAD"}

// applyReplay validates the replay section and puts its faults before
// the scenario's own. It runs once per scenario.
func applyReplay(c *collector, s *Scenario) {
	if s.replayed {
		return
	}
	errs := len(c.errs)
	if s.Flavor != "" && s.Replay.Greeting != "" {
		c.add("replay.greeting", "a flavour gives the greeting too (flavor = %q): leave out one of them", s.Flavor)
	}
	validateReplay(c, &s.Replay)
	if len(c.errs) > errs {
		return
	}
	s.replayed = true
	s.Faults = append(compileReplay(&s.Replay), s.Faults...)
}

// validateReplay checks the replay section; compileReplay may then turn
// it into faults.
func validateReplay(c *collector, r *Replay) {
	if strings.ContainsAny(r.Greeting, "\r\n") {
		c.add("replay.greeting", "must be one line, without CR LF (it is added)")
	}
	if r.Delay < 0 {
		c.add("replay.delay", "must not be negative")
	}
	if r.End != "" {
		oneOf(c, "replay.end", string(r.End), ends)
	}
	taken := map[string]int{} // "LOGIN#2" -> step index
	counts := map[string]int{}
	for i, st := range r.Steps {
		p := fmt.Sprintf("replay.steps[%d]", i)
		cmd := strings.ToUpper(st.Command)
		if !IsCommandName(cmd) {
			c.add(p+".command", "%q is not a command name such as LOGIN or \"UID FETCH\"", st.Command)
		}
		if st.Connection < 0 {
			c.add(p+".connection", "counts start at 1 (leave it out for every connection)")
		}
		counted := fmt.Sprintf("%s@%d", cmd, st.Connection)
		counts[counted]++
		nth := st.Nth
		if nth == 0 {
			nth = counts[counted]
		} else if nth < 0 {
			c.add(p+".nth", "counts start at 1")
		}
		key := fmt.Sprintf("%s#%d", counted, nth)
		if j, dup := taken[key]; dup {
			c.add(p+".command", "steps[%d] answers %s number %d already: give this step another nth", j, cmd, nth)
		}
		taken[key] = i
		if st.Delay < 0 {
			c.add(p+".delay", "must not be negative")
		}
		if st.Status != "" {
			word, _, _ := strings.Cut(st.Status, " ")
			switch {
			case !slices.Contains(stepStatuses, strings.ToUpper(word)):
				c.add(p+".status", "%q must start with OK, NO or BAD and leave out the tag (a BYE is an untagged line followed by end = \"eof\")", st.Status)
			case strings.ContainsAny(st.Status, "\r\n"):
				c.add(p+".status", "must be one line, without CR LF")
			case st.End != "":
				c.add(p+".end", "a step ends with status or with end, not both: end replaces the tagged reply")
			}
		}
		if st.End != "" {
			oneOf(c, p+".end", string(st.End), ends)
		}
		if a := st.AfterOK; a != nil {
			switch {
			case st.Status != "" || st.End != "":
				c.add(p+".after_ok", "follows the server's own OK: leave out status and end, which answer in its place")
			case len(a.Untagged) == 0 && a.End == "":
				c.add(p+".after_ok", "give it untagged lines or an end")
			case a.End != "":
				oneOf(c, p+".after_ok.end", string(a.End), ends)
			}
		}
		if st.Delay == 0 && len(st.Untagged) == 0 && st.Status == "" && st.End == "" && st.AfterOK == nil {
			// At command: a table's own path has no line of its own.
			c.add(p+".command", "the step does nothing: give it delay, untagged, status, end or after_ok")
		}
	}
}

// compileReplay turns a valid replay into faults, in the order they fire
// at each point: delay, the lines, then the reply or the end.
func compileReplay(r *Replay) []faults.Fault {
	var out []faults.Fault
	greeting := faults.When{Phase: faults.PhaseGreeting}
	if r.Delay > 0 {
		out = append(out, faults.Fault{When: greeting, Action: &faults.Delay{Delay: r.Delay}})
	}
	switch {
	case r.End != "":
		// The greeting never comes from the server: it is written, then the
		// connection ends.
		if r.Greeting != "" {
			out = append(out, faults.Fault{When: greeting, Action: &faults.Write{Write: r.Greeting + "\r\n"}})
		}
		out = append(out, faults.Fault{When: greeting, Action: r.End.action()})
	case r.Greeting != "":
		out = append(out, faults.Fault{Action: &faults.Greeting{Line: r.Greeting}})
	}
	counts := map[string]int{}
	for _, st := range r.Steps {
		cmd := strings.ToUpper(st.Command)
		counted := fmt.Sprintf("%s@%d", cmd, st.Connection)
		counts[counted]++
		when := faults.When{Command: cmd, Nth: st.Nth, Connection: st.Connection}
		if when.Nth == 0 {
			when.Nth = counts[counted]
		}
		if st.Delay > 0 {
			out = append(out, faults.Fault{When: when, Action: &faults.Delay{Delay: st.Delay}})
		}
		if len(st.Untagged) > 0 {
			out = append(out, faults.Fault{When: when, Action: &faults.Write{Write: strings.Join(st.Untagged, "\r\n") + "\r\n"}})
		}
		switch {
		case st.Status != "":
			out = append(out, faults.Fault{When: when, Action: &faults.Respond{Respond: st.Status}})
		case st.End != "":
			out = append(out, faults.Fault{When: when, Action: st.End.action()})
		}
		if a := st.AfterOK; a != nil {
			reply := when
			reply.Reply = "OK"
			if len(a.Untagged) > 0 {
				out = append(out, faults.Fault{When: reply, Action: &faults.Write{Write: strings.Join(a.Untagged, "\r\n") + "\r\n"}})
			}
			if a.End != "" {
				out = append(out, faults.Fault{When: reply, Action: a.End.action()})
			}
		}
	}
	return out
}
