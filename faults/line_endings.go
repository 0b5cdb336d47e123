package faults

import (
	"bytes"
	"fmt"
)

// LineEndings sends bare LF where IMAP requires CRLF, as some broken
// proxies and hand-written servers do.
//
//	line_endings = "lf"
type LineEndings struct {
	LineEndings string `toml:"line_endings"`
}

// Kind implements Action.
func (*LineEndings) Kind() string { return "line_endings" }

// Validate implements Action.
func (l *LineEndings) Validate() error {
	if l.LineEndings != "lf" {
		return fmt.Errorf("line_endings: %q is not supported (allowed: lf)", l.LineEndings)
	}
	return nil
}

// FilterLine implements LineFilter.
func (l *LineEndings) FilterLine(_ *Conn, line *Line) []byte {
	if bytes.HasSuffix(line.Raw, []byte("\r\n")) {
		return append(line.Raw[:len(line.Raw)-2:len(line.Raw)-2], '\n')
	}
	return line.Raw
}
