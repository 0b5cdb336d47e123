package mailgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"strings"
	"testing"
)

// TestGenerateStable pins what Generate makes for a mailbox that fits in
// one chunk, as a digest of every message's text, date and flags: making
// generation faster or parallel (issue 19) must not change the messages
// scenarios such as healthy (200 messages) were written against.
func TestGenerateStable(t *testing.T) {
	tests := []struct {
		n    int
		seed int64
		want string
	}{
		{200, 1, "d1d4ffd0b72989ba56c24602161bdaf8804f59ffe44363b566fbc9d451d0af0f"},
		{chunk, 2026, "c965c8a7f08f4970d99430c09c49fc23f52672b9d72ef867a64779a9a8d55fd7"},
	}
	for _, tt := range tests {
		if got := digest(Generate(tt.n, tt.seed, testNow)); got != tt.want {
			t.Errorf("Generate(%d, %d) digest %s, want %s", tt.n, tt.seed, got, tt.want)
		}
	}
}

func digest(msgs []Message) string {
	h := sha256.New()
	for _, m := range msgs {
		h.Write(m.Raw)
		h.Write([]byte(m.Date.Format("2006-01-02T15:04:05.999999999-07:00 MST") + strings.Join(m.Flags, ",") + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestGenerateChunks: a mailbox of several chunks is the same whatever the
// number of CPUs that made it, its chunks are not copies of one another,
// and its messages are well formed across the chunk boundaries.
func TestGenerateChunks(t *testing.T) {
	n := chunk + 7
	want := Generate(n, 3, testNow)
	prev := runtime.GOMAXPROCS(1)
	got := Generate(n, 3, testNow)
	runtime.GOMAXPROCS(prev)
	if digest(got) != digest(want) {
		t.Error("one CPU made another mailbox than several did")
	}
	same := 0
	for i := range chunk {
		if bytes.Equal(want[i].Raw, want[chunk+i%7].Raw) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d messages repeat another chunk's", same)
	}
	for i := chunk - 3; i < chunk+3; i++ {
		checkMessage(t, want[i].Raw)
		if !want[i].Date.After(want[i-1].Date) {
			t.Errorf("message %d: date %v not after %v", i, want[i].Date, want[i-1].Date)
		}
	}
}

// TestWrapLines: wrap writes the longest run of words that fits on each
// line, a token longer than the line alone on its own.
func TestWrapLines(t *testing.T) {
	tests := []struct {
		text, prefix string
		width        int
		want         string
	}{
		{"", "", 10, ""},
		{"short", "> ", 10, "> short\r\n"},
		{"aaaa bbbb cccc", "", 9, "aaaa bbbb\r\ncccc\r\n"},
		{"aaaa bbbb cccc", "", 8, "aaaa\r\nbbbb\r\ncccc\r\n"},
		{"aaaa bbbb", "> ", 9, "> aaaa\r\n> bbbb\r\n"},
		{"longerthanwidth x y", "", 5, "longerthanwidth\r\nx y\r\n"},
		{"x longerthanwidth", "", 5, "x\r\nlongerthanwidth\r\n"},
		{"longerthanwidth", "> ", 5, "> longerthanwidth\r\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		wrap(&b, tt.text, tt.prefix, tt.width)
		if got := b.String(); got != tt.want {
			t.Errorf("wrap(%q, %q, %d) = %q, want %q", tt.text, tt.prefix, tt.width, got, tt.want)
		}
	}
}
