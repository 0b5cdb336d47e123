package relay

import (
	"bytes"
	"strconv"
)

// maxLine bounds how much of one line the relay buffers before it passes
// the line on unexamined, so that a hostile peer cannot make it grow
// without limit.
const maxLine = 64 << 10

// framer splits one direction of an IMAP stream into lines and literal
// bytes, so that the relay can examine whole lines (commands, tagged
// replies, capability lists) and never mistakes a literal's content for
// one.
type framer struct {
	lit  int64  // literal bytes still to come
	line []byte // the start of a line whose LF has not come yet
	// long is set while a line past maxLine is passed on unexamined; tail
	// keeps its last bytes, where a literal's size would be.
	long bool
	tail []byte
}

// feed calls emit for each piece of b in order: a complete line with its
// LF (line set, joined with its start from earlier calls), or literal
// bytes and parts of an over-long line (line unset). When emit returns
// false, feed stops and returns the part of b not yet framed.
func (f *framer) feed(b []byte, emit func(p []byte, line bool) bool) (rest []byte) {
	for len(b) > 0 {
		if f.lit > 0 {
			n := min(int64(len(b)), f.lit)
			f.lit -= n
			p := b[:n]
			b = b[n:]
			if !emit(p, false) {
				return b
			}
			continue
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			f.line = append(f.line, b...)
			if len(f.line) > maxLine {
				p := f.line
				f.keepTail(p)
				f.line = nil
				f.long = true
				if !emit(p, false) {
					return nil
				}
			}
			return nil
		}
		p := b[:i+1]
		b = b[i+1:]
		if len(f.line) > 0 {
			p = append(f.line, p...)
			f.line = nil
		}
		if f.long || len(p) > maxLine {
			f.keepTail(p)
			f.long = false
			f.lit = literalSize(f.tail)
			f.tail = f.tail[:0]
			if !emit(p, false) {
				return b
			}
			continue
		}
		f.lit = literalSize(p)
		if !emit(p, true) {
			return b
		}
	}
	return nil
}

// keepTail keeps the last bytes of an over-long line.
func (f *framer) keepTail(p []byte) {
	const n = 32
	f.tail = append(f.tail, p...)
	if len(f.tail) > n {
		f.tail = append(f.tail[:0], f.tail[len(f.tail)-n:]...)
	}
}

// partial returns and forgets the start of a line whose end never came:
// at the end of the stream it is passed on as it is.
func (f *framer) partial() []byte {
	p := f.line
	f.line = nil
	return p
}

// reset forgets a partial line: after STARTTLS, what came before the
// handshake is not part of the TLS stream.
func (f *framer) reset() { *f = framer{} }

// literalSize returns the size of the literal announced at the end of a
// line ("{12}", "{12+}", "{12-}", "~{12}"), or 0.
func literalSize(line []byte) int64 {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return 0
	}
	num := line[open+1 : len(line)-1]
	if n := len(num); n > 0 && (num[n-1] == '+' || num[n-1] == '-') {
		num = num[:n-1]
	}
	size, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil || size < 0 {
		return 0
	}
	return size
}

// words returns a line's first two words (a tag and a command name or
// status), upper-casing the second.
func words(line []byte) (first string, second string) {
	text := bytes.TrimRight(line, "\r\n")
	t, rest, _ := bytes.Cut(text, []byte(" "))
	w, _, _ := bytes.Cut(rest, []byte(" "))
	return string(t), string(bytes.ToUpper(w))
}

// stripCompress removes COMPRESS=... from a capability list in line (an
// untagged CAPABILITY response or a [CAPABILITY ...] response code), and
// returns line itself when it has none. The relay must see every byte as
// plaintext (its Observer and the faults in front of it read IMAP), so it
// cannot let the client and the upstream agree on RFC 4978 compression.
func stripCompress(line []byte) []byte {
	if !bytes.Contains(bytes.ToUpper(line), []byte("COMPRESS=")) {
		return line
	}
	text := bytes.TrimRight(line, "\r\n")
	eol := line[len(text):]
	tag, rest, _ := bytes.Cut(text, []byte(" "))
	word, after, _ := bytes.Cut(rest, []byte(" "))
	var head, list, end []byte
	switch {
	case string(tag) == "*" && bytes.EqualFold(word, []byte("CAPABILITY")):
		head, list = text[:len(text)-len(after)], after
	default:
		open := bytes.Index(text, []byte("[CAPABILITY "))
		if open < 0 {
			return line
		}
		close := bytes.IndexByte(text[open:], ']')
		if close < 0 {
			return line
		}
		start := open + len("[CAPABILITY ")
		head, list, end = text[:start], text[start:open+close], text[open+close:]
	}
	var kept [][]byte
	for _, c := range bytes.Fields(list) {
		if !bytes.HasPrefix(bytes.ToUpper(c), []byte("COMPRESS=")) {
			kept = append(kept, c)
		}
	}
	out := append([]byte(nil), head...)
	out = append(out, bytes.Join(kept, []byte(" "))...)
	out = append(out, end...)
	return append(out, eol...)
}
