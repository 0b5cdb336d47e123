package faults

import (
	"bytes"
	"strconv"
	"strings"
)

// Line is one line the server is about to send, split into the parts that
// faults and the connection's bookkeeping look at.
type Line struct {
	Raw    []byte // the whole line with its line ending
	Tag    string // "*", "+", or a command tag
	Status string // OK, NO, BAD, BYE, PREAUTH, or "" for data lines
	// Caps is set when the line carries a capability list, as an untagged
	// CAPABILITY response or a [CAPABILITY ...] response code.
	Caps []string
	// Greeting is true for the first line of the connection.
	Greeting bool
}

var statuses = []string{"OK", "NO", "BAD", "BYE", "PREAUTH"}

func parseLine(raw []byte, greeting bool) *Line {
	l := &Line{Raw: raw, Greeting: greeting}
	text := string(bytes.TrimRight(raw, "\r\n"))
	tag, rest, _ := strings.Cut(text, " ")
	l.Tag = tag
	word, after, _ := strings.Cut(rest, " ")
	switch {
	case contains(statuses, strings.ToUpper(word)):
		l.Status = strings.ToUpper(word)
		if code, ok := strings.CutPrefix(after, "["); ok {
			code, _, _ = strings.Cut(code, "]")
			if name, list, ok := strings.Cut(code, " "); ok && strings.EqualFold(name, "CAPABILITY") {
				l.Caps = strings.Fields(list)
			}
		}
	case tag == "*" && strings.EqualFold(word, "CAPABILITY"):
		l.Caps = strings.Fields(after)
	}
	return l
}

// withCaps returns the line with its capability list replaced.
func (l *Line) withCaps(caps []string) []byte {
	text, eol := splitEOL(l.Raw)
	list := strings.Join(caps, " ")
	if l.Status == "" {
		return []byte(l.Tag + " CAPABILITY " + list + eol)
	}
	open := strings.Index(text, "[")
	end := strings.Index(text, "]")
	if open < 0 || end < open {
		return l.Raw
	}
	return []byte(text[:open] + "[CAPABILITY " + list + text[end:] + eol)
}

func splitEOL(raw []byte) (text, eol string) {
	s := string(raw)
	switch {
	case strings.HasSuffix(s, "\r\n"):
		return s[:len(s)-2], "\r\n"
	case strings.HasSuffix(s, "\n"):
		return s[:len(s)-1], "\n"
	}
	return s, ""
}

// literalSize returns the size of the literal announced at the end of line
// ("{12}" or "{12+}"), and whether it is non-synchronizing.
func literalSize(line []byte) (size int64, nonSync, ok bool) {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false, false
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false, false
	}
	num := line[open+1 : len(line)-1]
	if n := len(num); n > 0 && (num[n-1] == '+' || num[n-1] == '-') {
		nonSync = true
		num = num[:n-1]
	}
	size, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil || size < 0 {
		return 0, false, false
	}
	return size, nonSync, true
}

// commandName returns the tag and upper-case name of a client command line,
// with "UID " kept as part of the name ("UID FETCH").
func commandName(line []byte) (tag, name string) {
	text := strings.TrimRight(string(line), "\r\n")
	tag, rest, _ := strings.Cut(text, " ")
	name, rest, _ = strings.Cut(rest, " ")
	name = strings.ToUpper(name)
	if name == "UID" {
		sub, _, _ := strings.Cut(rest, " ")
		name = "UID " + strings.ToUpper(sub)
	}
	return tag, name
}
