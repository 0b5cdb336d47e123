package tomlpos

import (
	"regexp"
	"testing"
	"unicode/utf8"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// FuzzFindKey checks the written-out key search against the regular
// expression it replaces.
func FuzzFindKey(f *testing.F) {
	f.Add("[[users.mailboxes]]\n  name = \"INBOX\"\n", "mailboxes", 0)
	f.Add(`"name" = 1`, "name", 0)
	f.Add(`x="name"= 1`, "name", 1)
	f.Add("a . b\t= 2", "b", 1)
	f.Fuzz(func(t *testing.T, text, key string, from int) {
		// The expression matches runes, the search bytes: they agree on text.
		if key == "" || from < 0 || from > len(text) || !utf8.ValidString(key) || !utf8.ValidString(text) {
			return
		}
		want := -1
		re := regexp.MustCompile(`(^|[\s{,.\[])"?` + regexp.QuoteMeta(key) + `"?\s*[=.\]]`)
		if loc := re.FindStringIndex(text[from:]); loc != nil {
			want = from + loc[0] + 1
		}
		if got := findKey(text, key, from); got != want {
			t.Errorf("findKey(%q, %q, %d) = %d, want %d", text, key, from, got, want)
		}
	})
}

// FuzzStripIndexes checks the written-out index stripping against the
// regular expression it replaces.
func FuzzStripIndexes(f *testing.F) {
	f.Add("targets[2].name")
	f.Add("a[1][22].b[x].c[]")
	f.Add("[0]]")
	f.Fuzz(func(t *testing.T, path string) {
		want := regexp.MustCompile(`\[\d+\]`).ReplaceAllString(path, "")
		if got := StripIndexes(path); got != want {
			t.Errorf("StripIndexes(%q) = %q, want %q", path, got, want)
		}
	})
}
