package imapframe

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// piece is one piece Next returned, with the literal its line announced.
type piece struct {
	Kind Kind
	Data string
	Ann  int64 // Line and line-ending Long: the literal announced, or -1
}

// frameAll feeds chunks to f, as reads would, and returns the pieces.
// Consecutive Literal pieces, and the parts of one Long line, are joined:
// where reads split them is not the framing's.
func frameAll(f *Framer, chunks ...[]byte) []piece {
	var out []piece
	for _, b := range chunks {
		for len(b) > 0 {
			var p []byte
			var k Kind
			p, k, b = f.Next(b)
			if k == None {
				continue
			}
			ann := int64(-1)
			if k == Line || k == Long && p[len(p)-1] == '\n' {
				if size, _, ok := f.Announced(); ok {
					ann = size
				}
			}
			if n := len(out); n > 0 && out[n-1].Kind == k && (k == Literal || k == Long && !strings.HasSuffix(out[n-1].Data, "\n")) {
				out[n-1].Data += string(p)
				out[n-1].Ann = ann
				continue
			}
			if k == Literal {
				ann = -1
			}
			out = append(out, piece{k, string(p), ann})
		}
	}
	return out
}

func line(s string) piece             { return piece{Line, s, -1} }
func litLine(s string, n int64) piece { return piece{Line, s, n} }
func lit(s string) piece              { return piece{Literal, s, -1} }

var framerTests = []struct {
	name    string
	framer  Framer
	in      string
	want    []piece
	pending string
}{
	{name: "lines", in: "* OK hi\r\na NOOP\r\nb NOOP\n",
		want: []piece{line("* OK hi\r\n"), line("a NOOP\r\n"), line("b NOOP\n")}},
	{name: "literal", in: "a LOGIN {3}\r\nbob pw\r\nb NOOP\r\n",
		want: []piece{litLine("a LOGIN {3}\r\n", 3), lit("bob"), line(" pw\r\n"), line("b NOOP\r\n")}},
	{name: "non-sync, LITERAL- and binary literals", in: "a X {2+}\r\nzz {1-}\r\n\n ~{1}\r\n\n\r\n",
		want: []piece{litLine("a X {2+}\r\n", 2), lit("zz"), litLine(" {1-}\r\n", 1), lit("\n"), litLine(" ~{1}\r\n", 1), lit("\n"), line("\r\n")}},
	{name: "a literal of LFs and a marker", in: "* 1 FETCH (BODY[] {9}\r\n\n\n{2}\r\n\r\n)\r\n",
		want: []piece{litLine("* 1 FETCH (BODY[] {9}\r\n", 9), lit("\n\n{2}\r\n\r\n"), line(")\r\n")}},
	{name: "empty literal", in: "a APPEND x {0}\r\n\r\n",
		want: []piece{litLine("a APPEND x {0}\r\n", 0), line("\r\n")}},
	{name: "bad sizes are no literal", in: "a {x}\r\nb {-1}\r\nc {99999999999999999999}\r\nd {+5}\r\ne {}\r\nf {5}x\r\ng {5}\r\r\n",
		want: []piece{line("a {x}\r\n"), line("b {-1}\r\n"), line("c {99999999999999999999}\r\n"), line("d {+5}\r\n"), line("e {}\r\n"), line("f {5}x\r\n"), line("g {5}\r\r\n")}},
	{name: "the largest number64", in: "a {9223372036854775807}\r\nab",
		want: []piece{litLine("a {9223372036854775807}\r\n", 1<<63-1), lit("ab")}},
	{name: "one past it", in: "a {9223372036854775808}\r\nab",
		want: []piece{line("a {9223372036854775808}\r\n")}, pending: "ab"},
	{name: "over MaxLiteral", framer: Framer{MaxLiteral: 5}, in: "a {5}\r\nhello\r\nb {6}\r\nhello!\r\n",
		want: []piece{litLine("a {5}\r\n", 5), lit("hello"), line("\r\n"), line("b {6}\r\n"), line("hello!\r\n")}},
	{name: "over-long line with a literal", framer: Framer{MaxLine: 16}, in: "a APPEND INBOX (\\Seen) {2}\r\nab\r\nc NOOP\r\n",
		want: []piece{{Long, "a APPEND INBOX (\\Seen) {2}\r\n", 2}, lit("ab"), line("\r\n"), line("c NOOP\r\n")}},
	{name: "over-long lines back to back", framer: Framer{MaxLine: 8}, in: "0123456789\r\nabcdefghij\r\nok\r\n",
		want: []piece{{Long, "0123456789\r\n", -1}, {Long, "abcdefghij\r\n", -1}, line("ok\r\n")}},
	{name: "a line of MaxLine bytes is a line", framer: Framer{MaxLine: 8}, in: "a NOOP\r\n",
		want: []piece{line("a NOOP\r\n")}},
	{name: "partial line", in: "* OK\r\n* O", want: []piece{line("* OK\r\n")}, pending: "* O"},
}

// TestFramer frames each stream whole, cut at every point, and a byte at
// a time: the pieces must be the same.
func TestFramer(t *testing.T) {
	for _, tt := range framerTests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(how string, chunks ...[]byte) {
				t.Helper()
				f := tt.framer
				if diff := cmp.Diff(tt.want, frameAll(&f, chunks...)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", how, diff)
				}
				if got := string(f.Pending()); got != tt.pending {
					t.Errorf("%s: pending %q, want %q", how, got, tt.pending)
				}
			}
			in := []byte(tt.in)
			check("whole", in)
			for at := 1; at < len(in); at++ {
				check(fmt.Sprintf("cut at %d", at), bytes.Clone(in[:at]), bytes.Clone(in[at:]))
			}
			var bytewise [][]byte
			for i := range in {
				bytewise = append(bytewise, in[i:i+1])
			}
			check("a byte at a time", bytewise...)
		})
	}
}

// TestSkipLine drops a refused line, whether its start is pending or it
// is being passed on as Long, with the literal it announces.
func TestSkipLine(t *testing.T) {
	tests := []struct {
		name   string
		framer Framer
		before string // fed before SkipLine
		after  string
		want   []piece
	}{
		{"pending start", Framer{}, "a APPEND x {3", "}\r\nabc\r\nb NOOP\r\n", []piece{line("abc\r\n"), line("b NOOP\r\n")}},
		{"long line", Framer{MaxLine: 8}, "a APPEND x {3", "}\r\nb NOOP\r\n", []piece{line("b NOOP\r\n")}},
		{"at a line's start", Framer{}, "", "a NOOP\r\nb NOOP\r\n", []piece{line("b NOOP\r\n")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.framer
			frameAll(&f, []byte(tt.before))
			f.SkipLine()
			if p := f.Pending(); len(p) > 0 {
				t.Errorf("pending %q after SkipLine", p)
			}
			if diff := cmp.Diff(tt.want, frameAll(&f, []byte(tt.after))); diff != "" {
				t.Errorf("after SkipLine (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNoLiteral: after NoLiteral, what follows the line is lines.
func TestNoLiteral(t *testing.T) {
	var f Framer
	p, k, rest := f.Next([]byte("a LOGIN {5}\r\nb NOOP\r\n"))
	if k != Line || string(p) != "a LOGIN {5}\r\n" {
		t.Fatalf("Next = %q, %v", p, k)
	}
	if size, nonSync, ok := f.Announced(); size != 5 || nonSync || !ok {
		t.Errorf("Announced() = %d, %v, %v; want 5, false, true", size, nonSync, ok)
	}
	f.NoLiteral()
	if _, _, ok := f.Announced(); ok {
		t.Error("Announced() after NoLiteral is still ok")
	}
	if diff := cmp.Diff([]piece{line("b NOOP\r\n")}, frameAll(&f, rest)); diff != "" {
		t.Errorf("after NoLiteral (-want +got):\n%s", diff)
	}
}

// TestReset forgets a pending line and a literal to come, and keeps the
// bounds.
func TestReset(t *testing.T) {
	f := Framer{MaxLine: 8}
	frameAll(&f, []byte("a X {4}\r\nab"), []byte("a STA"))
	f.Reset()
	f.Next([]byte("* O"))
	if got := string(f.Pending()); got != "* O" {
		t.Errorf("pending %q after Reset, want only what came after it", got)
	}
	f.Reset()
	want := []piece{line("a NOOP\r\n"), {Long, "0123456789\r\n", -1}}
	if diff := cmp.Diff(want, frameAll(&f, []byte("a NOOP\r\n0123456789\r\n"))); diff != "" {
		t.Errorf("after Reset (-want +got):\n%s", diff)
	}
}

// TestNextAllocs: the wire layer frames every line of every session, so a
// line that arrives whole, and a literal, allocate nothing.
func TestNextAllocs(t *testing.T) {
	var f Framer
	in := []byte("a1 APPEND INBOX {5+}\r\nhello\r\na2 NOOP\r\n")
	if n := testing.AllocsPerRun(100, func() {
		for b := in; len(b) > 0; {
			_, _, b = f.Next(b)
		}
	}); n != 0 {
		t.Errorf("framing whole lines allocates %v times, want 0", n)
	}
}

func TestLiteralSize(t *testing.T) {
	type result struct {
		Size        int64
		NonSync, OK bool
	}
	tests := []struct {
		line string
		want result
	}{
		{"a APPEND INBOX {310}\r\n", result{310, false, true}},
		{"a LOGIN {5+}\r\n", result{5, true, true}},
		{"a LOGIN {5-}\n", result{5, true, true}},
		{"* 1 FETCH (BINARY[] ~{7}", result{7, false, true}},
		{"* 1 FETCH (BODY[] {0}\r\n", result{0, false, true}},
		{"a {9223372036854775807}\r\n", result{1<<63 - 1, false, true}},
		{"a {9223372036854775808}\r\n", result{}},
		{"a {00000000000000000001}\r\n", result{}},
		{"a LOGIN alice pw\r\n", result{}},
		{"a {x}\r\n", result{}},
		{"a {-1}\r\n", result{}},
		{"a {+1}\r\n", result{}},
		{"a {+}\r\n", result{}},
		{"a {5++}\r\n", result{}},
		{"a {5}\r\r\n", result{}},
		{"a {5}\n\n", result{}},
		{"}\r\n", result{}},
		{"{}", result{}},
	}
	for _, tt := range tests {
		var got, fromString result
		got.Size, got.NonSync, got.OK = LiteralSize([]byte(tt.line))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("LiteralSize(%q) (-want +got):\n%s", tt.line, diff)
		}
		fromString.Size, fromString.NonSync, fromString.OK = LiteralSize(tt.line)
		if fromString != got {
			t.Errorf("LiteralSize(%q) of a string = %+v, of bytes %+v", tt.line, fromString, got)
		}
	}
}

// FuzzFramer checks that framing loses and invents no byte, whatever the
// peer sends, and frames the same however reads split it; the seeds are
// the relay's and the recorder's.
func FuzzFramer(f *testing.F) {
	f.Add([]byte("* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\na LOGIN {3}\r\nbob pw\r\n"), uint16(7), uint8(0))
	f.Add([]byte("* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\n~{2}\r\n\r\n"), uint16(20), uint8(0))
	f.Add([]byte("a1 LOGIN alice {3}\r\npw!\r\na2 SELECT INBOX\r\na3 IDLE\r\nDONE\r\n"), uint16(13), uint8(16))
	f.Add([]byte("\xff\x00garbage {99999999999}\r\n* LIST () NIL \"\"\r\n"), uint16(3), uint8(5))
	f.Add([]byte("a APPEND INBOX (\\Seen) {2-}\r\nab\r\n"), uint16(9), uint8(8))
	f.Fuzz(func(t *testing.T, in []byte, at uint16, maxLine uint8) {
		framer := Framer{MaxLine: int(maxLine), MaxLiteral: 1 << 20}
		whole := framer
		want := frameAll(&whole, in)
		cut := int(at) % (len(in) + 1)
		split := framer
		got := frameAll(&split, bytes.Clone(in[:cut]), bytes.Clone(in[cut:]))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("cut at %d frames otherwise (-whole +cut):\n%s", cut, diff)
		}
		var all strings.Builder
		for _, p := range got {
			if p.Kind == Line && strings.IndexByte(p.Data, '\n') != len(p.Data)-1 {
				t.Fatalf("line %q is not one line", p.Data)
			}
			if p.Kind == Line && len(p.Data) > split.maxLine() {
				t.Fatalf("line %q is over MaxLine %d", p.Data, split.maxLine())
			}
			all.WriteString(p.Data)
		}
		all.Write(split.Pending())
		if all.String() != string(in) {
			t.Fatalf("framed %q, want %q", all.String(), in)
		}
		if len(split.Pending()) > split.maxLine() {
			t.Fatalf("%d bytes pending, over MaxLine %d", len(split.Pending()), split.maxLine())
		}
	})
}

// FuzzLiteralSize checks the parser's bounds, and that it reads a string
// as it reads bytes (the tester's seeds).
func FuzzLiteralSize(f *testing.F) {
	for _, s := range []string{"* 1 FETCH (BODY[] {12}", "{0}", "{12+}", "{-1}", "{99999999999999999999}", "{}", "a {5-}\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		n, nonSync, ok := LiteralSize(line)
		if ok && n < 0 {
			t.Fatalf("LiteralSize(%q) = %d", line, n)
		}
		if bn, bnonSync, bok := LiteralSize([]byte(line)); bn != n || bnonSync != nonSync || bok != ok {
			t.Fatalf("LiteralSize(%q) = %d, %v, %v of a string, %d, %v, %v of bytes", line, n, nonSync, ok, bn, bnonSync, bok)
		}
	})
}
