// Package mailgen generates large, deterministic, realistic-looking
// mailboxes for scenarios that ask for thousands of messages rather than
// hand-written fixtures.
package mailgen

import (
	"bytes"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Message is one generated message with the metadata a mailbox needs.
type Message struct {
	Raw   []byte    // RFC 5322, CRLF line endings
	Date  time.Time // internal date, matches the Date header
	Flags []string  // e.g. "\\Seen", "\\Flagged", "\\Answered", "$Forwarded"
}

// chunk is how many messages one generator makes in a row. A mailbox of
// more is made chunk by chunk, each from its own stream, on every CPU:
// one stream made 100,000 messages at 150-290k a minute, and the target
// is a million (issue 19). Messages thread only within their chunk.
const chunk = 2048

// Generate returns n messages, identical for the same seed and now.
// Dates are strictly ascending and strictly before now, so the slice can be
// appended to a mailbox in UID order as is.
func Generate(n int, seed int64, now time.Time) []Message {
	if n <= 0 {
		return nil
	}
	g := newGenerator(seed, now)
	dates := g.dates(n)
	msgs := make([]Message, n)
	// The first chunk continues the stream the dates came from (whichever
	// worker takes it: g serves no other), so that a mailbox of one chunk
	// is what a single stream always made.
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), (n+chunk-1)/chunk) {
		wg.Go(func() {
			for c := range next {
				cg := g
				if c > 0 {
					cg = newChunkGenerator(seed, c, now)
				}
				for i := c * chunk; i < min(n, (c+1)*chunk); i++ {
					msgs[i] = cg.message(i, dates[i])
				}
			}
		})
	}
	for c := 0; c*chunk < n; c++ {
		next <- c
	}
	close(next)
	wg.Wait()
	return msgs
}

// generator carries all state of one Generate call; keeping it here rather
// than in package variables is what makes concurrent calls safe.
type generator struct {
	rng    *rand.Rand
	now    time.Time
	owner  person
	recent []threadRef // ring of recent messages that replies may point at
	next   int         // next slot in recent to overwrite
	// buf holds the message being written, text and html its bodies'
	// renderings: each reused from one message to the next.
	buf, text, html bytes.Buffer
}

// threadRef is what a later reply needs to know about its parent.
type threadRef struct {
	subject string
	from    person
	id      string
	refs    []string
	date    time.Time
}

const recentCap = 64

func newGenerator(seed int64, now time.Time) *generator {
	// The second PCG word is a fixed odd constant so that seed 0 still gets a
	// well-mixed stream.
	return newStream(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15), now)
}

// newChunkGenerator is the generator of chunk c > 0: its own stream,
// which a 64-bit mix of c keeps apart from the other chunks'.
func newChunkGenerator(seed int64, c int, now time.Time) *generator {
	return newStream(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15^(uint64(c)*0xbf58476d1ce4e5b9)), now)
}

func newStream(src rand.Source, now time.Time) *generator {
	return &generator{
		rng:   rand.New(src),
		now:   now.Truncate(time.Second),
		owner: person{name: "Alex Morgan", local: "alex.morgan", domain: "example.com"},
	}
}

// dates returns n strictly ascending instants before now, truncated to whole
// seconds because the Date header cannot carry anything finer.
func (g *generator) dates(n int) []time.Time {
	span := int64(180 * 24 * 60 * 60) // about six months, in seconds
	if need := int64(n) * 10; need > span {
		span = need
	}
	offs := make([]int64, n)
	for i := range offs {
		// Density falls linearly with age: mailboxes fill faster recently,
		// yet the oldest months are not empty.
		x := 1 - math.Sqrt(1-g.rng.Float64())
		offs[i] = 60 + int64(x*float64(span))
	}
	slices.Sort(offs)
	out := make([]time.Time, n)
	// Walk from the newest backwards so that resolving equal seconds moves
	// messages into the past and never past now.
	for i := n - 1; i >= 0; i-- {
		t := g.now.Add(-time.Duration(offs[n-1-i]) * time.Second)
		if i < n-1 && !t.Before(out[i+1]) {
			t = out[i+1].Add(-time.Second)
		}
		out[i] = t
	}
	return out
}
