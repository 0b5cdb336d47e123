// Package imapframe cuts an IMAP byte stream into lines and literals: the
// one framing path that the wire layer (the client's side, in faults), the
// relay and the recorder share, so that they never disagree on where a
// line ends or which bytes are a literal's content. Its literal-size and
// command-name parsers serve the tester and the server's side of the wire
// layer too.
package imapframe

import "bytes"

// DefaultMaxLine is the MaxLine of a Framer that sets none.
const DefaultMaxLine = 64 << 10

// Kind is what a piece of the stream is.
type Kind uint8

const (
	// None: no piece; the bytes went into a line still to end, or were
	// skipped (SkipLine).
	None Kind = iota
	// Line is a complete line, its LF included, to examine.
	Line
	// Literal is literal content: never to be read as IMAP.
	Literal
	// Long is a part of a line longer than MaxLine, passed on unexamined
	// so that a hostile peer cannot make the framer buffer without limit;
	// the part that ends the line ends with its LF.
	Long
)

// tailLen is how much of a Long line the framer keeps to find the literal
// it announces: "~{" 19 digits "+}" CRLF fit.
const tailLen = 32

// Framer frames one direction of one connection. The zero value is ready;
// a Framer is not safe for concurrent use.
type Framer struct {
	// MaxLine bounds the bytes of one line the framer buffers before it
	// passes the line on as Long; 0 means DefaultMaxLine.
	MaxLine int
	// MaxLiteral bounds the size a literal may announce: a bigger one is
	// taken for garbage, not a literal, by a user that keeps whole
	// literals in memory. 0 means any size a number64 can hold: the
	// framer itself never buffers a literal.
	MaxLiteral int64

	lit   int64  // literal bytes still to come
	ann   marker // what the line that ended last announced
	line  []byte // the start of a line whose LF has not come yet
	long  bool   // a Long line is being passed on
	skip  bool   // the rest of the current line is dropped (SkipLine)
	ntail int
	tail  [tailLen]byte // the last bytes of a Long line
}

// marker is a literal marker at the end of a line.
type marker struct {
	size        int64
	nonSync, ok bool
}

// Next frames the start of b: it returns the first piece and its kind, and
// the rest of b, to pass to Next again. A line that arrives whole is b's
// own bytes; one that came in parts is joined in a buffer the framer then
// lets go, so p stays valid as long as b does.
func (f *Framer) Next(b []byte) (p []byte, k Kind, rest []byte) {
	if len(b) == 0 {
		return nil, None, nil
	}
	if f.lit > 0 {
		n := min(int64(len(b)), f.lit)
		f.lit -= n
		return b[:n], Literal, b[n:]
	}
	i := bytes.IndexByte(b, '\n')
	switch {
	case f.skip && i < 0:
		return nil, None, nil
	case f.skip:
		f.skip = false
		f.ann = marker{}
		return nil, None, b[i+1:]
	case f.long && i < 0:
		f.keepTail(b)
		return b, Long, nil
	case f.long:
		p = b[:i+1]
		f.keepTail(p)
		f.long = false
		f.endLine(f.tail[:f.ntail])
		f.ntail = 0
		return p, Long, b[i+1:]
	case i < 0:
		f.line = append(f.line, b...)
		if len(f.line) <= f.maxLine() {
			return nil, None, nil
		}
		p = f.line
		f.line = nil
		f.long = true
		f.keepTail(p)
		return p, Long, nil
	}
	p, rest = b[:i+1], b[i+1:]
	if len(f.line) > 0 {
		p = append(f.line, p...)
		f.line = nil
	}
	if len(p) > f.maxLine() {
		f.keepTail(p)
		f.endLine(f.tail[:f.ntail])
		f.ntail = 0
		return p, Long, rest
	}
	f.endLine(p)
	return p, Line, rest
}

func (f *Framer) maxLine() int {
	if f.MaxLine > 0 {
		return f.MaxLine
	}
	return DefaultMaxLine
}

// endLine notes the literal the line that just ended announces, if any.
func (f *Framer) endLine(line []byte) {
	size, nonSync, ok := LiteralSize(line)
	if ok && f.MaxLiteral > 0 && size > f.MaxLiteral {
		ok = false
	}
	f.ann = marker{size: size, nonSync: nonSync, ok: ok}
	f.lit = 0
	if ok {
		f.lit = size
	}
}

// keepTail keeps the last tailLen bytes of a Long line.
func (f *Framer) keepTail(p []byte) {
	if len(p) >= tailLen {
		f.ntail = copy(f.tail[:], p[len(p)-tailLen:])
		return
	}
	keep := min(f.ntail, tailLen-len(p))
	copy(f.tail[:], f.tail[f.ntail-keep:f.ntail])
	f.ntail = keep + copy(f.tail[keep:], p)
}

// Announced returns the literal that the line that ended last (a Line, or
// the Long piece with its LF) announced, and whether it announced one: its
// bytes come next as Literal, and then the line goes on. ok holds for {0}
// too.
func (f *Framer) Announced() (size int64, nonSync, ok bool) {
	return f.ann.size, f.ann.nonSync, f.ann.ok
}

// NoLiteral forgets the literal the last line announced: a peer that was
// refused before it sent it (a synchronizing literal answered with a
// tagged reply instead of "+") sends none.
func (f *Framer) NoLiteral() {
	f.lit = 0
	f.ann = marker{}
}

// Pending returns the start of a line whose LF has not come yet: at the
// end of the stream, what the peer sent last. It stays the framer's.
func (f *Framer) Pending() []byte { return f.line }

// SkipLine drops the current line: its pending start, and the bytes up to
// its LF that Next is yet to see, with any literal it announces.
func (f *Framer) SkipLine() {
	f.line = nil
	f.long = false
	f.ntail = 0
	f.skip = true
}

// Reset forgets everything: after STARTTLS, what came before the
// handshake is not part of the TLS stream.
func (f *Framer) Reset() {
	*f = Framer{MaxLine: f.MaxLine, MaxLiteral: f.MaxLiteral}
}
