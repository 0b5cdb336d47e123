package server

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// TestFetchGolden holds the FETCH (and flag SEARCH) responses byte for byte, over messages of
// every shape the library has, system flags, keywords and \Recent, to a
// golden file: the store's FETCH path is tuned for speed (issue 19), and
// a faster path must write what the plain one did. The order of a FLAGS
// list is the server's to choose, so it is compared sorted here and
// pinned by store.TestFlagOrder. Run with -update to rewrite the file.
func TestFetchGolden(t *testing.T) {
	sc, err := scenarios.Parse("golden.toml", []byte(`name = "golden"
[[users]]
name = "alice"
password = "pw"
  [[users.mailboxes]]
  name = "INBOX"
  files = ["library:messages/0[1-9]-*.eml", "library:messages/1[0-2]-*.eml", "library:messages/14-*.eml"]
  generate = { count = 3, seed = 7 }
    [[users.mailboxes.messages]]
    subject = "flagged"
    body = "with system flags"
    date = 2024-03-01T10:00:00Z
    flags = ["\\Seen", "\\flagged", "\\Answered", "\\Draft", "\\Deleted"]
    [[users.mailboxes.messages]]
    subject = "keywords"
    body = "with keywords"
    date = 2024-03-02T11:30:00+02:00
    flags = ["$Forwarded", "\\Seen", "NonJunk"]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	srv, err := New(sc, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	conns := [2]*wire{dialWire(t, srv.Addr()), dialWire(t, srv.Addr())}
	for _, w := range conns {
		w.line()
		w.send("l LOGIN alice pw")
		w.until("l ")
	}
	steps := []struct {
		conn int
		cmd  string
	}{
		{0, "SELECT INBOX"}, // claims \Recent for every message
		{0, "FETCH 1:* (FLAGS)"},
		{0, "UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE)"},
		{0, "FETCH 1:* ENVELOPE"},
		{0, "FETCH 1:* BODYSTRUCTURE"},
		{0, "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)] BODY.PEEK[1]<0.40>)"},
		{0, "FETCH 2,4 (BODY[TEXT]<10.30> FLAGS)"}, // sets \Seen
		{0, "FETCH 1:* FAST"},
		{1, "EXAMINE INBOX"}, // nothing recent left for it
		{1, "FETCH 1:* (FLAGS)"},
		{0, "STORE 3 +FLAGS ($Label1 \\Seen)"},
		{1, "NOOP"},
		{1, "FETCH 3,16:* (UID FLAGS)"},
		{0, "STORE 16 -FLAGS (\\Seen NonJunk)"},
		{0, "FETCH 1:* (FLAGS)"},
		{0, "SEARCH UNSEEN"},
		{0, "UID SEARCH KEYWORD $Label1"},
		{0, "SEARCH RECENT DELETED"},
		{1, "SEARCH NOT KEYWORD NonJunk SEEN"},
	}
	var got strings.Builder
	for i, s := range steps {
		tag := "t" + string(rune('a'+i))
		conns[s.conn].send(tag + " " + s.cmd)
		got.WriteString("C" + string(rune('0'+s.conn)) + ": " + tag + " " + s.cmd + "\n")
		for _, l := range conns[s.conn].until(tag + " ") {
			got.WriteString(sortFlags(l) + "\n")
		}
	}
	path := filepath.Join("testdata", "fetch.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("FETCH responses differ from %s (-want +got):\n%s", path, diff)
	}
}

// TestFetchBareMatchesGoIMAP: a FETCH of flags or UIDs alone is written
// by the store below go-imap (store/fetchbare.go); each of its lines must
// be the one go-imap writes, which a FETCH that also asks for
// RFC822.SIZE still goes through, byte for byte and in the same order.
func TestFetchBareMatchesGoIMAP(t *testing.T) {
	sc, err := scenarios.Parse("bare.toml", []byte(`name = "bare"
[[users]]
name = "alice"
password = "pw"
  [[users.mailboxes]]
  name = "INBOX"
  files = ["library:messages/0[1-3]-*.eml"]
  generate = { count = 40, seed = 11 }
    [[users.mailboxes.messages]]
    subject = "all"
    body = "b"
    flags = ["\\Seen", "\\flagged", "\\Answered", "\\Draft", "\\Deleted", "$Forwarded", "NonJunk"]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewTest(t, sc)
	w := dialWire(t, srv.Addr())
	w.line()
	w.send("l LOGIN alice pw")
	w.until("l ")
	size := regexp.MustCompile(` RFC822\.SIZE [0-9]+`)
	pairs := []struct{ bare, full string }{
		{"FETCH 1:* (FLAGS)", "FETCH 1:* (FLAGS RFC822.SIZE)"},
		{"UID FETCH 1:* (UID)", "UID FETCH 1:* (UID RFC822.SIZE)"},
		{"UID FETCH 2:5,40:* FLAGS", "UID FETCH 2:5,40:* (FLAGS RFC822.SIZE)"},
	}
	for _, sel := range []string{"SELECT INBOX", "EXAMINE INBOX"} { // with and without \Recent
		w.send("s " + sel)
		w.until("s OK")
		for _, p := range pairs {
			w.send("a " + p.bare)
			bare := w.until("a ")
			w.send("b " + p.full)
			full := w.until("b ")
			for i := range full {
				full[i] = size.ReplaceAllString(full[i], "")
			}
			if diff := cmp.Diff(full[:len(full)-1], bare[:len(bare)-1]); diff != "" {
				t.Errorf("%s, %s: (-go-imap +bare):\n%s", sel, p.bare, diff)
			}
			if len(bare) < 5 {
				t.Errorf("%s, %s: %d lines", sel, p.bare, len(bare))
			}
		}
	}
}
