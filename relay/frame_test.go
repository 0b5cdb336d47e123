package relay

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type piece struct {
	Data string
	Line bool
}

// frame feeds chunks and returns the pieces, joining consecutive
// non-line pieces, which reads split arbitrarily.
func frame(chunks ...[]byte) []piece {
	var f framer
	var out []piece
	for _, b := range chunks {
		for len(b) > 0 {
			b = f.feed(b, func(p []byte, line bool) bool {
				if n := len(out); n > 0 && !line && !out[n-1].Line {
					out[n-1].Data += string(p)
				} else {
					out = append(out, piece{string(p), line})
				}
				return true
			})
		}
	}
	return out
}

func TestFramer(t *testing.T) {
	long := strings.Repeat("x", maxLine+10)
	tests := []struct {
		name string
		in   string
		want []piece
	}{
		{"lines", "* OK hi\r\na NOOP\r\n", []piece{{"* OK hi\r\n", true}, {"a NOOP\r\n", true}}},
		{"literal", "a LOGIN {3}\r\nbob pw\r\nb NOOP\r\n", []piece{{"a LOGIN {3}\r\n", true}, {"bob", false}, {" pw\r\n", true}, {"b NOOP\r\n", true}}},
		{"non-sync and binary literals", "a X {2+}\r\nzz ~{1}\r\n\n\r\n", []piece{{"a X {2+}\r\n", true}, {"zz", false}, {" ~{1}\r\n", true}, {"\n", false}, {"\r\n", true}}},
		{"bad sizes are no literal", "a {x}\r\nb {-1}\r\nc {99999999999999999999}\r\n", []piece{{"a {x}\r\n", true}, {"b {-1}\r\n", true}, {"c {99999999999999999999}\r\n", true}}},
		{"over-long line with a literal", long + "{2}\r\nab\r\n", []piece{{long + "{2}\r\nab", false}, {"\r\n", true}}},
		{"partial line", "* OK", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, frame([]byte(tt.in))); diff != "" {
				t.Errorf("whole (-want +got):\n%s", diff)
			}
			// Any split gives the same lines.
			for _, at := range []int{1, 5, len(tt.in) / 2} {
				if at >= len(tt.in) {
					continue
				}
				if diff := cmp.Diff(tt.want, frame([]byte(tt.in[:at]), []byte(tt.in[at:]))); diff != "" {
					t.Errorf("split at %d (-want +got):\n%s", at, diff)
				}
			}
		})
	}
}

func TestStripCompress(t *testing.T) {
	tests := []struct{ in, want string }{
		{"* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE IDLE\r\n", "* CAPABILITY IMAP4rev1 IDLE\r\n"},
		{"* OK [CAPABILITY IMAP4rev1 compress=deflate] hi\r\n", "* OK [CAPABILITY IMAP4rev1] hi\r\n"},
		{"a OK [CAPABILITY COMPRESS=DEFLATE COMPRESS=X IDLE] done\n", "a OK [CAPABILITY IDLE] done\n"},
		{"* 1 FETCH (BODY[] \"COMPRESS=DEFLATE\")\r\n", "* 1 FETCH (BODY[] \"COMPRESS=DEFLATE\")\r\n"},
		{"* OK [CAPABILITY COMPRESS=DEFLATE\r\n", "* OK [CAPABILITY COMPRESS=DEFLATE\r\n"},
		{"* OK no caps\r\n", "* OK no caps\r\n"},
	}
	for _, tt := range tests {
		if got := string(stripCompress([]byte(tt.in))); got != tt.want {
			t.Errorf("stripCompress(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzFramer checks that framing loses and invents no byte, whatever the
// peer sends and however reads split it, and that stripping COMPRESS
// keeps a line a line.
func FuzzFramer(f *testing.F) {
	f.Add([]byte("* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\na LOGIN {3}\r\nbob pw\r\n"), uint16(7))
	f.Add([]byte("* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\n~{2}\r\n\r\n"), uint16(20))
	f.Fuzz(func(t *testing.T, in []byte, at uint16) {
		split := int(at) % (len(in) + 1)
		var got bytes.Buffer
		var f framer
		for _, b := range [][]byte{in[:split], in[split:]} {
			for len(b) > 0 {
				b = f.feed(b, func(p []byte, line bool) bool {
					if line {
						if p[len(p)-1] != '\n' {
							t.Fatalf("line %q has no LF", p)
						}
						s := stripCompress(p)
						if bytes.Count(s, []byte("\n")) != 1 || s[len(s)-1] != '\n' {
							t.Fatalf("stripCompress(%q) = %q: not one line", p, s)
						}
					}
					got.Write(p)
					return true
				})
			}
		}
		got.Write(f.line)
		if !bytes.Equal(got.Bytes(), in) {
			t.Fatalf("framed %q, want %q", got.Bytes(), in)
		}
	})
}
