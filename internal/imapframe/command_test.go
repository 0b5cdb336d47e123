package imapframe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

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
		{"a9 ok [READ-WRITE] done\r\n", "a9", "OK"},
	}
	for _, tt := range tests {
		tag, name := CommandName([]byte(tt.line))
		if tag != tt.tag || name != tt.name {
			t.Errorf("CommandName(%q) = %q, %q; want %q, %q", tt.line, tag, name, tt.tag, tt.name)
		}
	}
}

// TestCommandNameAllocs: naming a known command allocates only its tag.
func TestCommandNameAllocs(t *testing.T) {
	for _, l := range []string{"a1 uid fetch 1:* (FLAGS)\r\n", "a1 OK done\r\n"} {
		b := []byte(l)
		if n := testing.AllocsPerRun(100, func() { CommandName(b) }); n > 1 {
			t.Errorf("CommandName(%q): %v allocations, want at most 1", l, n)
		}
	}
}

func FuzzCommandName(f *testing.F) {
	for _, s := range []string{"a1 uid fetch 1\r\n", "DONE\r\n", "a UID\r\n", "\xff uid \xfe\n", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tag, name := CommandName(b)
		if wantTag, wantName := stringsCommandName(b); !hasNonASCII(b) && (tag != wantTag || name != wantName) {
			t.Errorf("CommandName(%q) = %q, %q; the strings version says %q, %q", b, tag, name, wantTag, wantName)
		}
	})
}

// stringsCommandName is CommandName written plainly with the strings
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
