package mailgen

import (
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestShared checks that callers asking for the same mailbox share one
// set equal to Generate's, that other arguments get their own, and that
// the memo does not keep a set nobody holds.
func TestShared(t *testing.T) {
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	a := Shared(20, 7, now)
	if b := Shared(20, 7, now.Add(300*time.Millisecond)); b != a {
		t.Error("the same mailbox asked twice within a second was generated twice")
	}
	if diff := cmp.Diff(Generate(20, 7, now), a.Messages); diff != "" {
		t.Errorf("Shared differs from Generate (-want +got):\n%s", diff)
	}
	for _, other := range []*Set{Shared(21, 7, now), Shared(20, 8, now), Shared(20, 7, now.Add(time.Second))} {
		if other == a {
			t.Error("different arguments got the same set")
		}
	}
	key := sharedKey{n: 20, seed: 7, now: now.UnixNano()}
	runtime.KeepAlive(a)
	a = nil
	runtime.GC()
	runtime.GC()
	memo.Lock()
	e := memo.sets[key]
	memo.Unlock()
	e.Lock()
	defer e.Unlock()
	if e.set.Value() != nil {
		t.Error("the memo kept a set nobody holds")
	}
}
