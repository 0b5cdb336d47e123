package scenarios

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
)

// bigScenario writes a scenario with one user and n mailboxes, each with
// comments, strings that hold what looks like keys ("name = ", "#", `"""`),
// and an inline message, as a production-sized file would. Every bad-th
// mailbox (0: none) has a special_use that fails validation; wantLines
// holds the line of each such error, counted while writing.
func bigScenario(n, bad int) (src []byte, wantLines []int) {
	var b strings.Builder
	line := 1
	w := func(s string) {
		b.WriteString(s)
		line += strings.Count(s, "\n")
	}
	w("# A generated scenario: name = \"not a key\"\nname = \"big\"\n")
	w("description = '''\nmany mailboxes\nname = \"inside a literal string\"\n'''\n\n")
	w("[[users]]\nname = \"alice\" # the only user\npassword = \"pw # not a comment\"\n\n")
	for i := range n {
		w(fmt.Sprintf("  # mailbox %d: special_use = \"\\\\Junk\"\n", i))
		w(fmt.Sprintf("  [[users.mailboxes]]\n  name = \"Box %d\"\n", i))
		if bad > 0 && i%bad == bad-1 {
			wantLines = append(wantLines, line)
			w("  special_use = \"\\\\Spam\"\n")
		}
		w("    [[users.mailboxes.messages]]\n")
		w(fmt.Sprintf("    subject = \"Report %d: name = \\\"x\\\" # not a comment\"\n", i))
		w("    body = \"\"\"\nLine one.\nflags = [\"\\\\Seen\"]\n\"\"\"\n")
		w("    flags = [\"\\\\Seen\", \"$Label1\"]\n\n")
	}
	w("[client]\nuser = \"alice\"\n")
	return []byte(b.String()), wantLines
}

// TestBigScenarioLines checks that errors deep in a large generated file
// name the right lines: the positions are computed in one pass, and a
// pass that lost count would shift every later line.
func TestBigScenarioLines(t *testing.T) {
	src, want := bigScenario(500, 7)
	_, err := Parse("big.toml", src, nil)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse() = %v, want an ErrorList", err)
	}
	var got []int
	for _, e := range list {
		if !strings.HasSuffix(e.Path, ".special_use") {
			t.Errorf("unexpected error: %v", e)
			continue
		}
		got = append(got, e.Line)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error lines (-want +got):\n%s", diff)
	}
	if _, err := Parse("big.toml", mustBig(t, 300), nil); err != nil {
		t.Errorf("a valid big file: %v", err)
	}
}

func mustBig(t testing.TB, n int) []byte {
	t.Helper()
	src, _ := bigScenario(n, 0)
	return src
}

// BenchmarkParse parses generated scenarios of growing size; loading must
// be linear in the file's size (issue 19: it was quadratic).
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		src := mustBig(b, n)
		b.Run(fmt.Sprintf("mailboxes=%d/KB=%d", n, len(src)/1000), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := Parse("big.toml", src, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseErrors parses a file with an error in every 100th
// mailbox: the lines of its keys are then located, which a valid file
// skips.
func BenchmarkParseErrors(b *testing.B) {
	src, want := bigScenario(10000, 100)
	b.Run(fmt.Sprintf("mailboxes=10000/KB=%d/errors=%d", len(src)/1000, len(want)), func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			var list ErrorList
			if _, err := Parse("big.toml", src, nil); !errors.As(err, &list) || len(list) != len(want) {
				b.Fatalf("Parse() = %v, want %d errors", err, len(want))
			}
		}
	})
}

// BenchmarkParseTOMLOnly is the floor under BenchmarkParse: the toml
// library's own decode of the same files into its generic tree, which
// Parse does once before it locates and checks every key.
func BenchmarkParseTOMLOnly(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		src := string(mustBig(b, n))
		b.Run(fmt.Sprintf("mailboxes=%d/KB=%d", n, len(src)/1000), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				var top map[string]any
				if _, err := toml.Decode(src, &top); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCRLF checks the one-pass line-ending normalisation against the two
// replacements it stands for.
func TestCRLF(t *testing.T) {
	for _, in := range []string{"", "a", "a\r\nb\r\n", "a\nb\n", "\n", "\r\n\n\r\r\n", "mixed\r\nlines\nand\rcr\n"} {
		want := strings.ReplaceAll(strings.ReplaceAll(in, "\r\n", "\n"), "\n", "\r\n")
		if got := string(crlf([]byte(in))); got != want {
			t.Errorf("crlf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCheckLinesAfterParse checks the lines of a Check run after Parse
// returned: the positions are found only when first asked for, from the
// file's text the scenario kept, decoded again.
func TestCheckLinesAfterParse(t *testing.T) {
	src := []byte("name = \"x\"\n\n[[users]]\nname = \"alice\"\npassword = \"pw\"\n\n[[users]]\n\nname = \"bob\"\npassword = \"pw\"\n")
	s, err := Parse("late.toml", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Check(func(s *Scenario, report Report) { report("users[1].name", "late") })
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("Check() = %v, want one error", err)
	}
	if got := list[0].Error(); got != "late.toml:9: users[1].name: late" {
		t.Errorf("Check() error = %q, want it at line 9", got)
	}
}
