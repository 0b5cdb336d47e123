package faults

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Rewrite replaces text in the server's lines with a regular expression
// (Go syntax; $1 refers to groups, ${connection} to the connection's
// number). A line rewritten to nothing is not sent. It reaches what no dedicated fault does: an empty PERMANENTFLAGS,
// a wrong RFC822.SIZE, READ-ONLY in place of READ-WRITE.
//
//	rewrite = { match = 'PERMANENTFLAGS \([^)]*\)', replace = 'PERMANENTFLAGS ()' }
type Rewrite struct {
	Rewrite struct {
		Match   string `toml:"match"`
		Replace string `toml:"replace"`
	} `toml:"rewrite"`
	re *regexp.Regexp
}

// Kind implements Action.
func (*Rewrite) Kind() string { return "rewrite" }

// Validate implements Action; it also compiles the expression.
func (r *Rewrite) Validate() error {
	if r.Rewrite.Match == "" {
		return fmt.Errorf("rewrite.match: give the regular expression to look for")
	}
	re, err := regexp.Compile(r.Rewrite.Match)
	if err != nil {
		return fmt.Errorf("rewrite.match: %w", err)
	}
	r.re = re
	return nil
}

// FilterLine implements LineFilter.
func (r *Rewrite) FilterLine(c *Conn, l *Line) []byte {
	text, eol := splitEOL(l.Raw)
	if !r.re.MatchString(text) {
		return l.Raw
	}
	repl := strings.ReplaceAll(r.Rewrite.Replace, "${connection}", strconv.Itoa(c.Number()))
	out := r.re.ReplaceAllString(text, repl)
	if out == "" {
		return nil
	}
	return []byte(out + eol)
}
