package mailgen

import (
	"sync"
	"time"
	"weak"
)

// Set is a generated mailbox shared, read-only, by every caller that asked
// for the same one.
type Set struct {
	Messages []Message
}

// Shared returns Generate(n, seed, now) as a Set that callers must not
// modify, generated once for every caller in the process that asks for the
// same n, seed and second while one of them still holds it. Generation is
// a pure function of these, so sharing changes nothing but the cost: a
// thousand servers of one scenario (verify, a test suite) used to generate,
// and keep, a thousand copies (issue 19). Nothing keeps a Set alive but
// its holders: the memo points at it weakly.
func Shared(n int, seed int64, now time.Time) *Set {
	key := sharedKey{n: n, seed: seed, now: now.Truncate(time.Second).UnixNano()}
	memo.Lock()
	e := memo.sets[key]
	if e == nil {
		e = &sharedEntry{}
		memo.sets[key] = e
	}
	memo.Unlock()
	// Each entry has its own lock, so that callers asking for different
	// sets generate them side by side.
	e.Lock()
	defer e.Unlock()
	if s := e.set.Value(); s != nil {
		return s
	}
	s := &Set{Messages: Generate(n, seed, now)}
	e.set = weak.Make(s)
	return s
}

type sharedKey struct {
	n    int
	seed int64
	now  int64
}

type sharedEntry struct {
	sync.Mutex
	set weak.Pointer[Set]
}

// memo is the process's table of shared sets. Its entries are a few words
// each, one per distinct request; the sets themselves go when unused.
var memo = struct {
	sync.Mutex
	sets map[sharedKey]*sharedEntry
}{sets: map[sharedKey]*sharedEntry{}}
