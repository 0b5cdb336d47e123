package faults

import (
	"fmt"
	"regexp"
)

// Rewrite replaces text in the server's lines with a regular expression
// (Go syntax; $1 refers to groups). A line rewritten to nothing is not
// sent. It reaches what no dedicated fault does: an empty PERMANENTFLAGS,
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
func (r *Rewrite) FilterLine(_ *Conn, l *Line) []byte {
	text, eol := splitEOL(l.Raw)
	if !r.re.MatchString(text) {
		return l.Raw
	}
	out := r.re.ReplaceAllString(text, r.Rewrite.Replace)
	if out == "" {
		return nil
	}
	return []byte(out + eol)
}
