// Package mailgen generates large, deterministic, realistic-looking
// mailboxes for scenarios that ask for thousands of messages rather than
// hand-written fixtures.
package mailgen

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Message is one generated message with the metadata a mailbox needs.
type Message struct {
	Raw   []byte    // RFC 5322, CRLF line endings
	Date  time.Time // internal date, matches the Date header
	Flags []string  // e.g. "\\Seen", "\\Flagged", "\\Answered", "$Forwarded"
}

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
	for i := range msgs {
		msgs[i] = g.message(i, dates[i])
	}
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
	buf    bytes.Buffer
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
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	return &generator{
		rng:   rng,
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
