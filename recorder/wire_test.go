package recorder

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFramer cuts each stream at every point, the two parts read a second
// apart: the frames are the same, whole with their literals, timed from
// the read of their first byte to that of their last.
func TestFramer(t *testing.T) {
	long := "* 1 FETCH (BODY[] " + strings.Repeat("x", 70<<10) + " {3}\r\n"
	tests := []struct {
		name    string
		in      string
		frames  []string
		pending string
	}{
		{"lines", "* OK hi\r\na1 NOOP\n", []string{"* OK hi\r\n", "a1 NOOP\n"}, ""},
		{"literals inline", "* 1 FETCH (BODY[] {5}\r\nhe\r\no BODY[1] {0}\r\n)\r\na1 OK\r\n",
			[]string{"* 1 FETCH (BODY[] {5}\r\nhe\r\no BODY[1] {0}\r\n)\r\n", "a1 OK\r\n"}, ""},
		{"LITERAL+ and LITERAL-", "a1 LOGIN {3+}\r\nbob {2-}\r\npw\r\n", []string{"a1 LOGIN {3+}\r\nbob {2-}\r\npw\r\n"}, ""},
		{"a size past maxLiteral is no literal", "* 1 FETCH (BODY[] {1073741825}\r\n* OK\r\n",
			[]string{"* 1 FETCH (BODY[] {1073741825}\r\n", "* OK\r\n"}, ""},
		{"a long line", long + "abc)\r\n", []string{long + "abc)\r\n"}, ""},
		{"a frame still coming", "* OK\r\n* 1 FETCH (BODY[] {3}\r\nab", []string{"* OK\r\n"}, "* 1 FETCH (BODY[] {3}\r\nab"},
	}
	t0 := time.Unix(100, 0)
	t1 := t0.Add(time.Second)
	type timed struct {
		Raw     string
		At, End time.Time
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cuts := []int{0}
			for at := 1; at < len(tt.in); at += 1 + at/64 {
				cuts = append(cuts, at)
			}
			for _, cut := range cuts {
				var f framer
				var got, want []timed
				for _, fr := range append(f.feed(t0, []byte(tt.in[:cut])), f.feed(t1, []byte(tt.in[cut:]))...) {
					got = append(got, timed{string(fr.raw), fr.at, fr.end})
				}
				done := 0
				for _, raw := range tt.frames {
					w := timed{raw, t0, t0}
					if done >= cut {
						w.At = t1
					}
					done += len(raw)
					if done > cut {
						w.End = t1
					}
					want = append(want, w)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("cut at %d (-want +got):\n%s", cut, diff)
				}
				if p := string(f.pending()); p != tt.pending {
					t.Errorf("cut at %d: pending %q, want %q", cut, p, tt.pending)
				}
			}
		})
	}
}
