package faults

import (
	"fmt"
	"regexp"

	"github.com/imapfault/imapfault/internal/imapframe"
)

// Hold keeps back the server lines that match a regular expression (Go
// syntax) while the fault applies, and sends them just before the first
// line the server writes once it no longer does: an IDLE that never
// pushes, whose updates the client gets at its next command (NOOP), as
// from a server that only looks at the mailbox when asked.
//
//	when = { phase = "idle" }
//	hold = '^\* \d+ (FETCH|EXISTS|EXPUNGE)'
type Hold struct {
	Hold string `toml:"hold"`
	re   *regexp.Regexp
}

// maxHeld bounds the bytes a connection holds back; lines past it go out
// at once rather than grow without limit.
const maxHeld = 1 << 20

// Kind implements Action.
func (*Hold) Kind() string { return "hold" }

// Validate implements Action; it also compiles the expression.
func (h *Hold) Validate() error {
	if h.Hold == "" {
		return fmt.Errorf("hold: give the regular expression of the lines to hold back")
	}
	re, err := regexp.Compile(h.Hold)
	if err != nil {
		return fmt.Errorf("hold: %w", err)
	}
	h.re = re
	return nil
}

// FilterLine implements LineFilter.
func (h *Hold) FilterLine(c *Conn, l *Line) []byte {
	text, _ := splitEOL(l.Raw)
	if _, _, lit := imapframe.LiteralSize(l.Raw); lit || !h.re.MatchString(text) || len(c.withheld)+len(l.Raw) > maxHeld {
		// A line that announces a literal goes out with it: held alone,
		// its literal would arrive first.
		return l.Raw
	}
	c.withheld = append(c.withheld, l.Raw...)
	return nil
}
