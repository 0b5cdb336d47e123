package client

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxDepth bounds list nesting (a BODYSTRUCTURE rarely exceeds 10).
const maxDepth = 50

// atom is an IMAP atom (including flags such as \Seen); strings, quoted or
// literal, are plain Go strings; NIL is nil; lists are []any.
type atom string

// parser reads IMAP values from a data response's body.
type parser struct {
	s    string
	i    int
	lits [][]byte
	li   int
}

func newParser(r *response) *parser { return &parser{s: r.Body, lits: r.Lits} }

func (p *parser) eof() bool { return p.i >= len(p.s) }

func (p *parser) skipSpace() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// rest returns what is left of the body, for free text such as a
// CAPABILITY list.
func (p *parser) rest() string { return p.s[p.i:] }

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", p.i, fmt.Sprintf(format, args...))
}

// value reads one value: atom, number, quoted string, literal, NIL or list.
func (p *parser) value() (any, error) { return p.valueDepth(0) }

func (p *parser) valueDepth(depth int) (any, error) {
	p.skipSpace()
	if p.eof() {
		return nil, p.errorf("unexpected end")
	}
	switch c := p.s[p.i]; c {
	case '(':
		if depth >= maxDepth {
			return nil, p.errorf("lists nested deeper than %d", maxDepth)
		}
		p.i++
		list := []any{}
		for {
			p.skipSpace()
			if p.eof() {
				return nil, p.errorf("unterminated list")
			}
			if p.s[p.i] == ')' {
				p.i++
				return list, nil
			}
			v, err := p.valueDepth(depth + 1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
	case '"':
		return p.quoted()
	case '{', '~':
		return p.literal()
	case ')':
		return nil, p.errorf("unexpected )")
	default:
		return p.atom()
	}
}

func (p *parser) quoted() (string, error) {
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '"':
			p.i++
			return b.String(), nil
		case '\\':
			if p.i+1 >= len(p.s) {
				return "", p.errorf("unterminated quoted string")
			}
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.errorf("unterminated quoted string")
}

func (p *parser) literal() (string, error) {
	if p.s[p.i] == '~' {
		p.i++
	}
	// A '~' not followed by '{' (found by FuzzReadResponse: "~}").
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return "", p.errorf("bad literal marker")
	}
	end := strings.IndexByte(p.s[p.i:], '}')
	if end < 0 {
		return "", p.errorf("unterminated literal marker")
	}
	if _, err := strconv.ParseUint(strings.TrimSuffix(p.s[p.i+1:p.i+end], "+"), 10, 63); err != nil {
		return "", p.errorf("bad literal size")
	}
	p.i += end + 1
	if p.li >= len(p.lits) {
		return "", p.errorf("literal marker without data")
	}
	lit := p.lits[p.li]
	p.li++
	return string(lit), nil
}

// atom reads up to a space, a paren or the end; a bracketed section is
// kept whole, so that BODY[HEADER.FIELDS (DATE)] reads as one atom.
func (p *parser) atom() (any, error) {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '[' {
			end := strings.IndexByte(p.s[p.i:], ']')
			if end < 0 {
				return nil, p.errorf("unterminated [")
			}
			p.i += end + 1
			continue
		}
		if c == ' ' || c == ')' || c == '(' {
			break
		}
		if c < ' ' || c == '"' || c == '{' {
			return nil, p.errorf("bad character %q in atom", c)
		}
		p.i++
	}
	if p.i == start {
		return nil, p.errorf("empty atom")
	}
	a := p.s[start:p.i]
	if strings.EqualFold(a, "NIL") {
		return nil, nil
	}
	return atom(a), nil
}

// str returns a value as text: atoms and strings alike; NIL is "".
func str(v any) string {
	switch v := v.(type) {
	case atom:
		return string(v)
	case string:
		return v
	}
	return ""
}

// parseNumbered splits "3 EXISTS" or "1 FETCH (...)" into the number, the
// upper-case keyword and a parser at what follows.
func parseNumbered(r *response) (uint32, string, *parser, bool) {
	num, rest, ok := strings.Cut(r.Body, " ")
	if !ok {
		return 0, "", nil, false
	}
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return 0, "", nil, false
	}
	kw, _, _ := strings.Cut(rest, " ")
	p := newParser(r)
	p.i = len(num) + 1 + len(kw)
	return uint32(n), strings.ToUpper(kw), p, true
}

// keyword returns the upper-case first word of an untagged data response.
func keyword(r *response) string {
	kw, _, _ := strings.Cut(r.Body, " ")
	return strings.ToUpper(kw)
}

// parseCapabilities returns the atoms of a CAPABILITY list as sent.
func parseCapabilities(s string) []string {
	return strings.Fields(s)
}

// errNotList is returned when a list was expected.
var errNotList = errors.New("not a list")

func asList(v any) ([]any, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, errNotList
	}
	return l, nil
}
