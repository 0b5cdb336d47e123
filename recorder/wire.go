package recorder

import (
	"bytes"
	"strconv"
	"time"
)

// maxLiteral bounds the size a {n} may announce before it is taken for
// garbage rather than a literal: a bigger number would make the framer
// swallow the rest of the stream.
const maxLiteral = 1 << 30

// frame is one complete IMAP line of one side, literals inline, CRLF
// (or a bare LF) included: "* 1 FETCH (BODY[] {5}\r\nhello)\r\n".
type frame struct {
	at, end time.Time // when its first and its last byte came
	raw     []byte
}

// framer cuts one side's byte stream into frames: lines, each with the
// literals it announces ({n} and {n+}, LITERAL+ or not: the framer needs
// no continuation to know the bytes follow).
type framer struct {
	cur     []byte
	at      time.Time
	literal int // bytes of the current literal still to come
	seg     int // where in cur the text after the last literal starts
}

// feed adds b, read at at, and returns the frames it completes.
func (f *framer) feed(at time.Time, b []byte) []frame {
	var out []frame
	for len(b) > 0 {
		if len(f.cur) == 0 {
			f.at = at
		}
		if f.literal > 0 {
			n := min(f.literal, len(b))
			f.cur = append(f.cur, b[:n]...)
			f.literal -= n
			b = b[n:]
			f.seg = len(f.cur)
			continue
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			f.cur = append(f.cur, b...)
			return out
		}
		f.cur = append(f.cur, b[:i+1]...)
		b = b[i+1:]
		if n, ok := literalAt(f.cur, f.seg); ok {
			f.literal = n
			f.seg = len(f.cur) // {0} too: the line goes on after it
			continue
		}
		out = append(out, frame{at: f.at, end: at, raw: f.cur})
		f.cur, f.seg = nil, 0
	}
	return out
}

// pending is the part of a frame that has come, nil when none.
func (f *framer) pending() []byte { return f.cur }

// literalAt reports whether the line ending at the end of buf (which
// began at start or before) announces a literal, and its size.
func literalAt(buf []byte, start int) (int, bool) {
	line := bytes.TrimSuffix(bytes.TrimSuffix(buf, []byte("\n")), []byte("\r"))
	if len(line) <= start || line[len(line)-1] != '}' {
		return 0, false
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false
	}
	digits := bytes.TrimSuffix(line[open+1:len(line)-1], []byte("+"))
	if len(digits) == 0 || len(digits) > 10 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(string(digits))
	if err != nil || n > maxLiteral {
		return 0, false
	}
	return n, true
}

// tokenKind is what a token of a line is.
type tokenKind uint8

const (
	atom    tokenKind = iota + 1 // also NIL and BODY[HEADER.FIELDS (FROM)]<0.10>
	quoted                       // "..."
	literal                      // {n}CRLF and n bytes
	open                         // (
	closing                      // )
)

// token is one lexical item of a line, with the bytes it was written as
// (raw) and what it means (value: a quoted string unescaped, a literal's
// data).
type token struct {
	kind       tokenKind
	start, end int // raw is line[start:end]
	value      []byte
}

// tokens reads a frame's line into tokens, stopping at the line's end or
// at anything it cannot read: garbage gives fewer tokens, never a panic.
func tokens(line []byte) []token {
	var out []token
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == ' ':
			i++
		case c == '\r' || c == '\n':
			return out
		case c == '(':
			out = append(out, token{kind: open, start: i, end: i + 1})
			i++
		case c == ')':
			out = append(out, token{kind: closing, start: i, end: i + 1})
			i++
		case c == '"':
			var v []byte
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				if line[j] == '\r' || line[j] == '\n' {
					return out
				}
				v = append(v, line[j])
			}
			if j >= len(line) {
				return out
			}
			out = append(out, token{kind: quoted, start: i, end: j + 1, value: v})
			i = j + 1
		case c == '{':
			rb := bytes.IndexByte(line[i:], '}')
			if rb < 0 {
				return out
			}
			n, ok := literalAt(line[:i+rb+1], i)
			if !ok {
				return out
			}
			data := i + rb + 1
			if data < len(line) && line[data] == '\r' {
				data++
			}
			if data >= len(line) || line[data] != '\n' {
				return out
			}
			data++
			if data+n > len(line) {
				return out
			}
			out = append(out, token{kind: literal, start: i, end: data + n, value: line[data : data+n]})
			i = data + n
		default:
			j := i
			depth := 0
			for ; j < len(line); j++ {
				d := line[j]
				if d == '\r' || d == '\n' || depth == 0 && (d == ' ' || d == '(' || d == ')') {
					break
				}
				switch d {
				case '[':
					depth++
				case ']':
					depth = max(depth-1, 0)
				}
			}
			out = append(out, token{kind: atom, start: i, end: j, value: line[i:j]})
			i = j
		}
	}
	return out
}

// str is a token's value as a string when it is one (atom, quoted or
// literal), and whether it is.
func (t token) str() (string, bool) {
	switch t.kind {
	case atom, quoted, literal:
		return string(t.value), true
	}
	return "", false
}
