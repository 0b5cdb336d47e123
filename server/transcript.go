package server

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/imapfault/imapfault/faults"
)

// The transcript keeps the most recent keepEntries lines, or fewer when
// their text passes keepText. It stores them in pages, each one text
// buffer and one index, so that recording a line allocates nothing once
// its page exists. (A string per line cost each idle connection about
// 0.9 KiB, mostly in heap spans that one surviving line kept from reuse.)
// Pages start small, for the many short-lived servers of a test run, and
// double up to pageEntries and pageText.
const (
	keepEntries      = 10000
	keepText         = 4 << 20
	pageEntries      = 1024
	pageText         = 64 << 10
	firstPageEntries = 32
	firstPageText    = 2 << 10
)

// Entry is one transcript line.
type Entry struct {
	Time time.Time
	Conn int
	// Dir is "<-" for what the client sent, "->" for what the server
	// sent, "==" for what the wire layer did (TLS, faults).
	Dir  string
	Text string
}

func (e Entry) String() string {
	return fmt.Sprintf("%s [%d] %s %s", e.Time.Format("15:04:05.000"), e.Conn, e.Dir, e.Text)
}

// Transcript records a server's wire traffic with secrets masked.
type Transcript struct {
	live    io.Writer
	mu      sync.Mutex
	pages   []*page // oldest first
	count   int     // entries in pages
	size    int     // bytes of text in pages
}

// page holds consecutive entries; text holds their bytes back to back.
type page struct {
	text  []byte
	index []record
}

// record is an entry whose text is text[start:end] of its page, or, for
// masked data and literals, only the size of what was left out.
type record struct {
	time       int64 // Unix nanoseconds
	conn       int32
	dir        faults.Direction
	kind       uint8
	start, end uint32
}

const (
	kindText uint8 = iota
	kindSecret
	kindLiteral
)

func newTranscript(live io.Writer) *Transcript { return &Transcript{live: live} }

func (t *Transcript) record(ev faults.TapEvent) {
	r := record{time: ev.Time.UnixNano(), conn: int32(ev.Conn), dir: ev.Dir}
	var text []byte
	switch {
	case ev.Secret:
		r.kind, r.end = kindSecret, uint32(len(ev.Data))
	case ev.Literal:
		r.kind, r.end = kindLiteral, uint32(len(ev.Data))
	default:
		text = bytes.TrimRight(ev.Data, "\r\n")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pageFor(len(text))
	if r.kind == kindText {
		r.start = uint32(len(p.text))
		p.text = append(p.text, text...)
		r.end = uint32(len(p.text))
	}
	p.index = append(p.index, r)
	t.count++
	t.size += len(text)
	if t.live != nil {
		fmt.Fprintln(t.live, p.entry(r))
	}
}

// pageFor returns a page with room for an entry of n bytes of text,
// starting a new one when the last is full, and drops the oldest pages
// that the newer ones make surplus. A line longer than a page gets a page
// of its own.
func (t *Transcript) pageFor(n int) *page {
	entries, text := firstPageEntries, firstPageText
	if len(t.pages) > 0 {
		p := t.pages[len(t.pages)-1]
		if len(p.index) < cap(p.index) && len(p.text)+n <= cap(p.text) {
			return p
		}
		entries, text = min(2*cap(p.index), pageEntries), min(2*cap(p.text), pageText)
	}
	for len(t.pages) > 0 {
		old := t.pages[0]
		if t.count-len(old.index) < keepEntries && t.size+n <= keepText {
			break
		}
		t.count -= len(old.index)
		t.size -= len(old.text)
		t.pages[0] = nil
		t.pages = t.pages[1:]
	}
	p := &page{text: make([]byte, 0, max(text, n)), index: make([]record, 0, entries)}
	t.pages = append(t.pages, p)
	return p
}

func (p *page) entry(r record) Entry {
	e := Entry{Time: time.Unix(0, r.time), Conn: int(r.conn), Dir: [...]string{"<-", "->", "=="}[r.dir]}
	switch r.kind {
	case kindSecret:
		e.Text = fmt.Sprintf("[%d bytes of credentials masked]", r.end)
	case kindLiteral:
		e.Text = fmt.Sprintf("[literal, %d bytes]", r.end)
	default:
		e.Text = strings.ToValidUTF8(string(p.text[r.start:r.end]), "?")
	}
	return e
}

func (t *Transcript) entries() []Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := make([]Entry, 0, t.count)
	for _, p := range t.pages {
		for _, r := range p.index {
			list = append(list, p.entry(r))
		}
	}
	return list
}
