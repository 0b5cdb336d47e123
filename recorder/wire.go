package recorder

import (
	"bytes"
	"slices"
	"time"

	"github.com/imapfault/imapfault/internal/imapframe"
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
// literals it announces ({n}, {n+} and {n-}, LITERAL+ or not: the framer
// needs no continuation to know the bytes follow). The zero framer is
// ready.
type framer struct {
	fr  imapframe.Framer
	cur []byte    // the frame so far, up to the line being framed
	at  time.Time // when its first byte came
}

// feed adds b, read at at, and returns the frames it completes.
func (f *framer) feed(at time.Time, b []byte) []frame {
	f.fr.MaxLiteral = maxLiteral
	var out []frame
	for len(b) > 0 {
		if len(f.cur) == 0 && len(f.fr.Pending()) == 0 {
			f.at = at
		}
		var p []byte
		var k imapframe.Kind
		p, k, b = f.fr.Next(b)
		if k == imapframe.None {
			continue // the start of a line, kept by fr
		}
		f.cur = append(f.cur, p...)
		if k == imapframe.Literal || p[len(p)-1] != '\n' {
			continue
		}
		if _, _, ok := f.fr.Announced(); ok {
			continue // {0} too: the line goes on after its literal
		}
		out = append(out, frame{at: f.at, end: at, raw: f.cur})
		f.cur = nil
	}
	return out
}

// pending is the part of a frame that has come, nil when none.
func (f *framer) pending() []byte {
	if len(f.fr.Pending()) == 0 {
		return f.cur
	}
	return append(slices.Clip(f.cur), f.fr.Pending()...)
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
			size, _, ok := imapframe.LiteralSize(line[i : i+rb+1])
			if !ok || size > maxLiteral {
				return out
			}
			n := int(size)
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
