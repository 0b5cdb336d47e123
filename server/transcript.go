package server

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/imapfault/imapfault/faults"
)

// The transcript keeps the most recent keepEntries lines, or fewer when
// their pages would pass keepMem (long lines leave pages part empty). It
// stores them in pages, each one text buffer and one index, and reuses the
// pages it drops, so that recording a line allocates nothing but a page now
// and then, and nothing at all once the transcript is full. Lines are recorded under the server's writes,
// where an allocation's slow path can double a goroutine's stack for as
// long as its connection lives; a string per line also cost each idle
// connection 0.9 KiB, mostly in heap spans that one surviving line kept.
// Both parts of a page are over 32 KiB, which the runtime allocates with
// little of the goroutine's stack.
const (
	keepEntries = 10000
	keepMem     = 4 << 20
	pageEntries = 2048 // 48 KiB of records
	pageText    = 64 << 10
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
	live  io.Writer
	mu    sync.Mutex
	pages []*page // oldest first
	count int     // entries in pages
	mem   int     // bytes the pages hold
	// wake is closed by the next entry, for those waiting for one; nil
	// while nobody waits, so that recording makes no channel.
	wake chan struct{}
	subs map[*Subscription]struct{}
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
	dir        uint8 // a faults.Direction; small, for 24-byte records
	kind       uint8
	start, end uint32
}

const (
	kindText uint8 = iota
	kindSecret
	kindLiteral
)

func newTranscript(live io.Writer) *Transcript { return &Transcript{live: live} }

// NewTranscript returns a transcript for a wire layer the server does
// not run (imapfault proxy's): Record is its faults.ConnOptions.Tap, and
// each entry is printed to live when live is not nil.
func NewTranscript(live io.Writer) *Transcript { return newTranscript(live) }

// Record adds a wire event, secrets masked.
func (t *Transcript) Record(ev faults.TapEvent) { t.record(ev) }

func (t *Transcript) record(ev faults.TapEvent) {
	r := record{time: ev.Time.UnixNano(), conn: int32(ev.Conn), dir: uint8(ev.Dir)}
	var text []byte
	switch {
	case ev.Secret:
		r.kind, r.end = kindSecret, uint32(len(ev.Data))
	case ev.Literal:
		r.kind, r.end = kindLiteral, uint32(len(ev.Data))
	default:
		text = ev.Data
		for len(text) > 0 && (text[len(text)-1] == '\n' || text[len(text)-1] == '\r') {
			text = text[:len(text)-1]
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// pageFor leaves room for the entry: no append can grow here.
	p := t.pageFor(len(text))
	if r.kind == kindText {
		r.start = uint32(len(p.text))
		r.end = r.start + uint32(len(text))
		p.text = p.text[:r.end]
		copy(p.text[r.start:], text)
	}
	p.index = p.index[:len(p.index)+1]
	p.index[len(p.index)-1] = r
	t.count++
	if t.wake != nil {
		close(t.wake)
		t.wake = nil
	}
	if t.live != nil {
		t.print(p, r)
	}
	if len(t.subs) > 0 {
		t.publish(p.entry(r))
	}
}

// print writes an entry to the live transcript. It is apart from record,
// whose frame is on the stack of every server write, to keep that small.
func (t *Transcript) print(p *page, r record) {
	fmt.Fprintln(t.live, p.entry(r))
}

// pageFor returns a page with room for an entry of n bytes of text,
// starting a new one when the last is full, and drops the oldest pages
// that the newer ones make surplus. A line longer than a page gets a page
// of its own.
func (t *Transcript) pageFor(n int) *page {
	if len(t.pages) > 0 {
		p := t.pages[len(t.pages)-1]
		if len(p.index) < cap(p.index) && len(p.text)+n <= cap(p.text) {
			return p
		}
	}
	size := max(pageText, n)
	var spare *page
	for len(t.pages) > 0 {
		old := t.pages[0]
		if t.count-len(old.index) < keepEntries && t.mem+pageMem(size) <= keepMem {
			break
		}
		t.count -= len(old.index)
		t.mem -= pageMem(cap(old.text))
		t.pages[0] = nil
		t.pages = t.pages[1:]
		spare = old
	}
	// Once full, the transcript reuses the page it drops: a long run
	// makes no garbage.
	p := spare
	if p != nil && cap(p.text) == size {
		p.text, p.index = p.text[:0], p.index[:0]
	} else {
		p = &page{text: make([]byte, 0, size), index: make([]record, 0, pageEntries)}
	}
	t.mem += pageMem(size)
	t.pages = append(t.pages, p)
	return p
}

// pageMem is the memory of a page with size bytes of text.
func pageMem(size int) int { return size + pageEntries*int(unsafe.Sizeof(record{})) }

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

// next returns a channel that the next entry closes.
func (t *Transcript) next() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.wake == nil {
		t.wake = make(chan struct{})
	}
	return t.wake
}

// until waits until ok holds, checking it again after every entry, and
// gives up when ctx ends. ok may look at anything that changes only with
// an entry recorded after the change.
func (t *Transcript) until(ctx context.Context, ok func() bool) error {
	for {
		// The channel is taken before the check, so that an entry
		// recorded between the two is not missed.
		next := t.next()
		if ok() {
			return nil
		}
		select {
		case <-next:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
