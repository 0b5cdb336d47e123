package faults

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		raw  string
		want Line
	}{
		{"* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n", Line{Tag: "*", Status: "OK", Caps: []string{"IMAP4rev1", "IDLE"}}},
		{"* CAPABILITY IMAP4rev1 STARTTLS\r\n", Line{Tag: "*", Caps: []string{"IMAP4rev1", "STARTTLS"}}},
		{"a1 no [AUTHENTICATIONFAILED] bad\r\n", Line{Tag: "a1", Status: "NO"}},
		{"+ idling\r\n", Line{Tag: "+"}},
		{"* 3 EXISTS\r\n", Line{Tag: "*"}},
		{"\r\n", Line{}},
	}
	for _, tt := range tests {
		got := parseLine([]byte(tt.raw), false, true, nil)
		tt.want.Raw = []byte(tt.raw)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseLine(%q) (-want +got):\n%s", tt.raw, diff)
		}
	}
}

func TestWithCaps(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n", "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"},
		{"* CAPABILITY IMAP4rev1 IDLE\r\n", "* CAPABILITY IMAP4rev1 STARTTLS\r\n"},
		{"a OK [CAPABILITY IMAP4rev1] Logged in\n", "a OK [CAPABILITY IMAP4rev1 STARTTLS] Logged in\n"},
	}
	for _, tt := range tests {
		l := parseLine([]byte(tt.raw), false, true, nil)
		if got := string(l.withCaps([]string{"IMAP4rev1", "STARTTLS"})); got != tt.want {
			t.Errorf("withCaps(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// TestLineAllocs checks what the wire layer allocates per line: it sees
// every line of every session, and what it allocates and drops costs idle
// connections too, in heap spans that the connections' own objects keep.
// An allocation under the server's writes can also take the runtime's
// slow path, deep enough to double a goroutine's stack for good.
func TestLineAllocs(t *testing.T) {
	inflight := func([]byte) string { return "a1" }
	tests := []struct {
		name  string
		line  string
		parse func(b []byte)
		max   float64
	}{
		{"parseLine untagged", "* 3 EXISTS\r\n", func(b []byte) { parseLine(b, false, true, nil) }, 0},
		{"parseLine tagged, in flight", "a1 OK [READ-WRITE] SELECT completed\r\n", func(b []byte) { parseLine(b, false, true, inflight) }, 0},
		{"parseLine tagged", "a1 OK [READ-WRITE] SELECT completed\r\n", func(b []byte) { parseLine(b, false, true, nil) }, 1},
		{"parseLine capabilities unwanted", "a1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n", func(b []byte) { parseLine(b, false, false, inflight) }, 0},
	}
	for _, tt := range tests {
		b := []byte(tt.line)
		if got := testing.AllocsPerRun(100, func() { tt.parse(b) }); got > tt.max {
			t.Errorf("%s: %v allocations, want at most %v", tt.name, got, tt.max)
		}
	}
}

func TestRedactLogin(t *testing.T) {
	tests := []struct{ line, want string }{
		{"a LOGIN alice \"correct horse\"\r\n", "a LOGIN alice ********\r\n"},
		{"a LOGIN alice secret\r\n", "a LOGIN alice ********\r\n"},
		{"a LOGIN alice {6}\r\n", "a LOGIN alice {6}\r\n"},
		{"a LOGIN\r\n", "a LOGIN\r\n"},
	}
	for _, tt := range tests {
		if got := string(redactLogin([]byte(tt.line))); got != tt.want {
			t.Errorf("redactLogin(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestRedactLoginRest(t *testing.T) {
	tests := []struct{ line, want string }{
		{" secret\r\n", " ********\r\n"},
		{" \"correct horse\"\r\n", " ********\r\n"},
		{" {6}\r\n", " {6}\r\n"},
		{" secret {6}\r\n", " ********\r\n"},
	}
	for _, tt := range tests {
		if got := string(redactLoginRest([]byte(tt.line))); got != tt.want {
			t.Errorf("redactLoginRest(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"* OK [CAPABILITY IMAP4rev1] x\r\n", "a OK [CAPABILITY\r\n", "* CAPABILITY\r\n", "+\r\n", "a {5}\r\n", "[]]["} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l := parseLine(b, true, true, nil)
		if l.Caps != nil {
			l.withCaps([]string{"IMAP4rev1"})
		}
		// Knowing the tag, or not wanting capabilities, changes nothing
		// else.
		known := parseLine(b, true, false, func(tag []byte) string { return string(tag) })
		if known.Tag != l.Tag || known.Status != l.Status || known.Caps != nil {
			t.Errorf("parseLine(%q) with a known tag and no capabilities = %+v, want %+v without capabilities", b, known, l)
		}
		redactLogin(b)
		redactLoginRest(b)
	})
}
