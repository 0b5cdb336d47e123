package mailgen

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/google/go-cmp/cmp"
)

var testNow = time.Date(2026, time.November, 22, 3, 0, 0, 0, time.UTC)

func TestGenerateEmpty(t *testing.T) {
	for _, n := range []int{0, -1} {
		if got := Generate(n, 1, testNow); len(got) != 0 {
			t.Errorf("Generate(%d) returned %d messages", n, len(got))
		}
	}
}

// TestGenerateWellFormed parses every generated message like a client would.
func TestGenerateWellFormed(t *testing.T) {
	tests := []struct {
		name string
		n    int
		seed int64
	}{
		{"single", 1, 1},
		{"seed zero", 50, 0},
		{"negative seed", 50, -7},
		{"mailbox", 600, 2026},
	}
	known := subjectSet()
	people := nameSet()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, m := range Generate(tt.n, tt.seed, testNow) {
				p := checkMessage(t, m.Raw)
				d, _ := p.header.Date()
				if !d.Equal(m.Date) {
					t.Errorf("message %d: Date header %v, internal date %v", i, d, m.Date)
				}
				// Decoded subjects must round-trip to the Unicode text they
				// were generated from.
				if s := strings.TrimPrefix(p.subject, "Re: "); !known[s] {
					t.Errorf("message %d: subject %q not from the pools", i, p.subject)
				}
				for _, a := range p.from {
					if !people[a.Name] {
						t.Errorf("message %d: From name %q not from the pools", i, a.Name)
					}
				}
				if t.Failed() {
					t.Fatalf("message %d:\n%s", i, m.Raw[:min(len(m.Raw), 4000)])
				}
			}
		})
	}
}

// subjectSet lists every subject the pools can produce, after number
// substitution, for comparison with decoded headers.
func subjectSet() map[string]bool {
	set := map[string]bool{}
	add := func(s string) {
		if !strings.Contains(s, "%d") {
			set[s] = true
			return
		}
		for n := 1000; n < 10000; n++ {
			set[fillNumber(s, n)] = true
		}
	}
	for _, s := range subjects {
		add(s)
	}
	for _, s := range intlSubjects {
		add(s.text)
	}
	return set
}

// nameSet lists every display name the pools can produce.
func nameSet() map[string]bool {
	set := map[string]bool{}
	for _, f := range firstNames {
		for _, l := range lastNames {
			set[f+" "+l] = true
		}
	}
	for _, p := range intlPeople {
		set[p.name] = true
	}
	return set
}

// TestGenerateConcurrent proves Generate shares no mutable state: parallel
// calls must match a serial one (and -race must stay quiet).
func TestGenerateConcurrent(t *testing.T) {
	want := Generate(50, 9, testNow)
	var wg sync.WaitGroup
	got := make([][]Message, 4)
	for i := range got {
		wg.Go(func() { got[i] = Generate(50, 9, testNow) })
	}
	wg.Wait()
	for i := range got {
		if diff := cmp.Diff(want, got[i], cmp.Comparer(bytes.Equal)); diff != "" {
			t.Errorf("goroutine %d differs from the serial run:\n%s", i, diff)
		}
	}
}

func TestGenerateDeterministic(t *testing.T) {
	for _, seed := range []int64{0, 1, 42, -99} {
		a := Generate(300, seed, testNow)
		b := Generate(300, seed, testNow)
		// Comparing Raw with bytes.Equal keeps cmp from reflecting over
		// megabytes one byte at a time.
		if diff := cmp.Diff(a, b, cmp.Comparer(bytes.Equal)); diff != "" {
			t.Errorf("seed %d: two runs differ (-first +second):\n%s", seed, diff)
		}
	}
}

func TestGenerateSeedsDiffer(t *testing.T) {
	tests := []struct{ a, b int64 }{{0, 1}, {1, 2}, {42, -42}}
	for _, tt := range tests {
		a := Generate(20, tt.a, testNow)
		b := Generate(20, tt.b, testNow)
		same := 0
		for i := range a {
			if bytes.Equal(a[i].Raw, b[i].Raw) {
				same++
			}
		}
		if same > 0 {
			t.Errorf("seeds %d and %d: %d identical messages", tt.a, tt.b, same)
		}
	}
}

func TestGenerateDates(t *testing.T) {
	tests := []struct {
		n   int
		now time.Time
	}{
		{1, testNow},
		{10, testNow},
		{1000, testNow},
		{1000, testNow.Add(123456789 * time.Nanosecond)}, // fractional now
	}
	for _, tt := range tests {
		msgs := Generate(tt.n, 7, tt.now)
		for i, m := range msgs {
			if !m.Date.Before(tt.now) {
				t.Fatalf("n=%d: message %d dated %v, not before now %v", tt.n, i, m.Date, tt.now)
			}
			if i > 0 && !m.Date.After(msgs[i-1].Date) {
				t.Fatalf("n=%d: message %d dated %v, not after %v", tt.n, i, m.Date, msgs[i-1].Date)
			}
		}
	}
}

// TestDatesDense covers counts so large that random seconds collide, which
// Generate resolves by moving messages into the past.
func TestDatesDense(t *testing.T) {
	for _, n := range []int{100_000, 500_000} {
		ds := newGenerator(3, testNow).dates(n)
		for i, d := range ds {
			if !d.Before(testNow) || (i > 0 && !d.After(ds[i-1])) {
				t.Fatalf("n=%d: date %d = %v out of order (prev %v, now %v)", n, i, d, ds[max(i-1, 0)], testNow)
			}
		}
	}
}

// TestGenerateMailboxShape checks the statistics the brief promises for a
// count = 5000 scenario, with tolerances wide enough for any seed.
func TestGenerateMailboxShape(t *testing.T) {
	const n = 5000
	msgs := Generate(n, 5000, testNow)
	ids := map[string]bool{}
	var alt, mixed, replies, encB, encQ, large, seenOld, old, flagged, answered int
	minSize, maxSize := len(msgs[0].Raw), 0
	for i, m := range msgs {
		hdr := headerOf(t, m.Raw)
		id := hdr.Get("Message-Id")
		if ids[id] {
			t.Fatalf("message %d: duplicate Message-ID %s", i, id)
		}
		ids[id] = true
		if irt := hdr.Get("In-Reply-To"); irt != "" {
			if !ids[irt] {
				t.Errorf("message %d: In-Reply-To %s names no earlier message", i, irt)
			}
			replies++
		}
		ct := hdr.Get("Content-Type")
		switch {
		case strings.HasPrefix(ct, "multipart/alternative"):
			alt++
		case strings.HasPrefix(ct, "multipart/mixed"):
			mixed++
		}
		raw := hdr.Get("Subject") + hdr.Get("From")
		if strings.Contains(raw, "?B?") {
			encB++
		}
		if strings.Contains(raw, "?Q?") {
			encQ++
		}
		minSize, maxSize = min(minSize, len(m.Raw)), max(maxSize, len(m.Raw))
		if len(m.Raw) > 50_000 {
			large++
		}
		if testNow.Sub(m.Date) > 7*24*time.Hour {
			old++
			if slices.Contains(m.Flags, `\Seen`) {
				seenOld++
			}
		}
		for _, f := range m.Flags {
			if !slices.Contains([]string{`\Seen`, `\Answered`, `\Flagged`, "$Forwarded"}, f) {
				t.Errorf("message %d: unexpected flag %q", i, f)
			}
		}
		if slices.Contains(m.Flags, `\Flagged`) {
			flagged++
		}
		if slices.Contains(m.Flags, `\Answered`) {
			answered++
		}
	}
	if age := testNow.Sub(msgs[0].Date); age < 90*24*time.Hour {
		t.Errorf("oldest message only %v old; want months", age)
	}
	checks := []struct {
		name   string
		got    int
		lo, hi int
	}{
		{"multipart/alternative (about 1 in 10)", alt, n / 14, n / 7},
		{"multipart/mixed (about 1 in 25)", mixed, n / 40, n / 15},
		{"replies", replies, n / 10, n / 3},
		{"B-encoded headers", encB, 50, n},
		{"Q-encoded headers", encQ, 50, n},
		{"messages over 50 KB (long tail)", large, 20, n / 5},
		{"smallest message bytes", minSize, 800, 2000},
		{"largest message bytes", maxSize, 100_000, 205_000},
		{"old messages seen (percent)", seenOld * 100 / old, 90, 100},
		{"flagged", flagged, n / 100, n / 15},
		{"answered", answered, n / 30, n / 6},
	}
	for _, c := range checks {
		if c.got < c.lo || c.got > c.hi {
			t.Errorf("%s = %d, want within [%d, %d]", c.name, c.got, c.lo, c.hi)
		}
	}
}

// headerOf parses only the header block, which is enough for statistics
// and much cheaper than a full walk of 5000 messages under -race.
func headerOf(t *testing.T, raw []byte) mail.Header {
	t.Helper()
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		t.Fatalf("no header/body separator")
	}
	h, err := mail.CreateReader(bytes.NewReader(raw[:end+4]))
	if err != nil {
		t.Fatalf("parsing header: %v", err)
	}
	return h.Header
}

func BenchmarkGenerate5000(b *testing.B) {
	for b.Loop() {
		Generate(5000, 1, testNow)
	}
}
