package faults

import (
	"bytes"
	"strings"
)

// Line is one line the server is about to send, split into the parts that
// faults and the connection's bookkeeping look at.
type Line struct {
	Raw    []byte // the whole line with its line ending
	Tag    string // "*", "+", or a command tag
	Status string // OK, NO, BAD, BYE, PREAUTH, or "" for data lines
	// Caps is set when the line carries a capability list, as an untagged
	// CAPABILITY response or a [CAPABILITY ...] response code, and the
	// run may rewrite capability lists.
	Caps []string
	// Greeting is true for the first line of the connection.
	Greeting bool
}

var statuses = []string{"OK", "NO", "BAD", "BYE", "PREAUTH"}

// parseLine works on the bytes, since it sees every line the server
// sends; it allocates only a capability list, with wantCaps, and a tag
// that tagOf (when set) does not already have as a string ("").
func parseLine(raw []byte, greeting, wantCaps bool, tagOf func([]byte) string) Line {
	l := Line{Raw: raw, Greeting: greeting}
	text := bytes.TrimRight(raw, "\r\n")
	tag, rest, _ := bytes.Cut(text, []byte(" "))
	switch string(tag) {
	case "*":
		l.Tag = "*"
	case "+":
		l.Tag = "+"
	default:
		if tagOf != nil {
			l.Tag = tagOf(tag)
		}
		if l.Tag == "" {
			l.Tag = string(tag)
		}
	}
	word, after, _ := bytes.Cut(rest, []byte(" "))
	for _, s := range statuses {
		if bytes.EqualFold(word, []byte(s)) {
			l.Status = s
			break
		}
	}
	switch {
	case !wantCaps:
	case l.Status != "":
		if code, ok := bytes.CutPrefix(after, []byte("[")); ok {
			code, _, _ = bytes.Cut(code, []byte("]"))
			if name, list, ok := bytes.Cut(code, []byte(" ")); ok && bytes.EqualFold(name, []byte("CAPABILITY")) {
				l.Caps = strings.Fields(string(list))
			}
		}
	case l.Tag == "*" && bytes.EqualFold(word, []byte("CAPABILITY")):
		l.Caps = strings.Fields(string(after))
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
