package server

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/imapfault/imapfault/faults"
)

// maxEntries bounds the transcript kept in memory; a long-running serve
// keeps the most recent lines.
const maxEntries = 10000

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
	live io.Writer
	mu   sync.Mutex
	list []Entry
}

func newTranscript(live io.Writer) *Transcript { return &Transcript{live: live} }

func (t *Transcript) record(ev faults.TapEvent) {
	e := Entry{Time: ev.Time, Conn: ev.Conn, Dir: [...]string{"<-", "->", "=="}[ev.Dir], Text: describe(ev)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.list) >= maxEntries {
		t.list = append(t.list[:0], t.list[len(t.list)/2:]...)
	}
	t.list = append(t.list, e)
	if t.live != nil {
		fmt.Fprintln(t.live, e)
	}
}

// describe renders a tap event as one printable line.
func describe(ev faults.TapEvent) string {
	switch {
	case ev.Secret:
		return fmt.Sprintf("[%d bytes of credentials masked]", len(ev.Data))
	case ev.Literal:
		return fmt.Sprintf("[literal, %d bytes]", len(ev.Data))
	}
	return strings.TrimRight(strings.ToValidUTF8(string(ev.Data), "?"), "\r\n")
}

func (t *Transcript) entries() []Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Entry(nil), t.list...)
}
