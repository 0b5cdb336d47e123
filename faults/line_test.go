package faults

import (
	"strings"
	"testing"
	"unicode/utf8"

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

func TestLiteralSize(t *testing.T) {
	tests := []struct {
		line          string
		size          int64
		nonSync, isOK bool
	}{
		{"a APPEND INBOX {310}\r\n", 310, false, true},
		{"a LOGIN {5+}\r\n", 5, true, true},
		{"* 1 FETCH (BODY[] {0}\r\n", 0, false, true},
		{"a LOGIN alice pw\r\n", 0, false, false},
		{"a {x}\r\n", 0, false, false},
		{"a {-1}\r\n", 0, false, false},
		{"}\r\n", 0, false, false},
	}
	for _, tt := range tests {
		size, nonSync, ok := literalSize([]byte(tt.line))
		if size != tt.size || nonSync != tt.nonSync || ok != tt.isOK {
			t.Errorf("literalSize(%q) = %d, %v, %v; want %d, %v, %v", tt.line, size, nonSync, ok, tt.size, tt.nonSync, tt.isOK)
		}
	}
}

func TestCommandName(t *testing.T) {
	tests := []struct{ line, tag, name string }{
		{"a1 login alice pw\r\n", "a1", "LOGIN"},
		{"a2 uid fetch 1:* (FLAGS)\r\n", "a2", "UID FETCH"},
		{"a3 NOOP\r\n", "a3", "NOOP"},
		{"DONE\r\n", "DONE", ""},
		{"a4 Uid Store 1 +FLAGS (\\Seen)\r\n", "a4", "UID STORE"},
		{"a5 xyzzy arg\r\n", "a5", "XYZZY"},
		{"a6 uid frobnicate 1\r\n", "a6", "UID FROBNICATE"},
		{"a7 averyveryverylongcommandname\r\n", "a7", "AVERYVERYVERYLONGCOMMANDNAME"},
		{"a8 fetch\n", "a8", "FETCH"},
	}
	for _, tt := range tests {
		tag, name := commandName([]byte(tt.line))
		if tag != tt.tag || name != tt.name {
			t.Errorf("commandName(%q) = %q, %q; want %q, %q", tt.line, tag, name, tt.tag, tt.name)
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
		{"commandName", "a1 uid fetch 1:* (FLAGS)\r\n", func(b []byte) { commandName(b) }, 1},
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
		literalSize(b)
		tag, name := commandName(b)
		if wantTag, wantName := stringsCommandName(b); !hasNonASCII(b) && (tag != wantTag || name != wantName) {
			t.Errorf("commandName(%q) = %q, %q; the strings version says %q, %q", b, tag, name, wantTag, wantName)
		}
		redactLogin(b)
		redactLoginRest(b)
	})
}

// stringsCommandName is commandName written plainly with the strings
// package, as it was before it had to avoid allocating: the oracle for
// ASCII input.
func stringsCommandName(line []byte) (tag, name string) {
	text := strings.TrimRight(string(line), "\r\n")
	tag, rest, _ := strings.Cut(text, " ")
	name, rest, _ = strings.Cut(rest, " ")
	name = strings.ToUpper(name)
	if name == "UID" {
		sub, _, _ := strings.Cut(rest, " ")
		name = "UID " + strings.ToUpper(sub)
	}
	return tag, name
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}
