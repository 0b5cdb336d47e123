package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/imapfault/imapfault/scenarios"
)

// The tests in this file hold the fake server to what Dovecot's imaptest
// checks (issue 15), on the raw wire: each step sends one command on one
// of a few connections logged in as the same user and names the lines its
// reply must and must not contain.

// step is one command of a compliance script.
type step struct {
	conn int    // which connection sends it
	cmd  string // without tag; "\n" separates a literal's lines
	want []string
	// not are lines the reply must not contain, or prefixes ending in "*".
	not []string
	// status is the tagged reply's start after the tag; default "OK".
	status string
}

// appendMsg is an APPEND of raw into mailbox with flags, as a LITERAL+
// command on one line pair.
func appendMsg(mailbox, flags, raw string) string {
	return fmt.Sprintf("APPEND %s (%s) {%d+}\r\n%s", mailbox, flags, len(raw), raw)
}

const plainMsg = "From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n"

// runScript logs in conns connections to a fresh plaintext server and
// plays the steps.
func runScript(t *testing.T, conns int, steps []step) {
	t.Helper()
	srv := NewTest(t, plainScenario(t, ""))
	ws := make([]*wire, conns)
	for i := range ws {
		ws[i] = dialWire(t, srv.Addr())
		ws[i].line() // greeting
		ws[i].send("l LOGIN alice pw")
		if got := ws[i].until("l "); !strings.HasPrefix(got[len(got)-1], "l OK") {
			t.Fatalf("LOGIN on connection %d: %q", i, got)
		}
	}
	known := make([]map[string]bool, conns)
	for i, s := range steps {
		tag := fmt.Sprintf("t%d", i)
		w := ws[s.conn]
		w.send(tag + " " + s.cmd)
		got := w.until(tag + " ")
		if known[s.conn] == nil {
			known[s.conn] = make(map[string]bool)
		}
		if err := checkKeywords(known[s.conn], got); err != "" {
			t.Errorf("step %d (%s): %s in\n%s", i, firstLine(s.cmd), err, strings.Join(got, "\n"))
		}
		for j := range got {
			got[j] = sortFlags(got[j])
		}
		status := s.status
		if status == "" {
			status = "OK"
		}
		if last := got[len(got)-1]; !strings.HasPrefix(last, tag+" "+status) {
			t.Errorf("step %d (%s): tagged reply %q, want %s", i, firstLine(s.cmd), last, status)
		}
		for _, want := range s.want {
			if !slices.Contains(got, sortFlags(want)) {
				t.Errorf("step %d (%s): no line %q in\n%s", i, firstLine(s.cmd), want, strings.Join(got, "\n"))
			}
		}
		for _, not := range s.not {
			for _, l := range got {
				if l == not || (strings.HasSuffix(not, "*") && strings.HasPrefix(l, strings.TrimSuffix(not, "*"))) {
					t.Errorf("step %d (%s): unwanted line %q", i, firstLine(s.cmd), l)
				}
			}
		}
	}
}

// checkKeywords holds a reply to RFC 3501 7.2.6 as imaptest does: a
// keyword appears in a FETCH only after a FLAGS list named it, and a
// FLAGS list never drops a keyword (this server never removes one). As
// Dovecot does, every FLAGS line is followed by PERMANENTFLAGS with all
// its flags and \*, or with none when the mailbox is read-only.
// known carries the keywords of the connection's mailbox across replies.
func checkKeywords(known map[string]bool, lines []string) string {
	for i, l := range lines {
		if list, ok := strings.CutPrefix(l, "* FLAGS ("); ok {
			if strings.Contains(l, "EXISTS") {
				continue
			}
			now := make(map[string]bool)
			for _, f := range strings.Fields(strings.TrimSuffix(list, ")")) {
				now[f] = true
			}
			if i+1 == len(lines) || !permanentFlagsFollow(now, lines[i+1]) {
				return fmt.Sprintf("FLAGS (%s not followed by PERMANENTFLAGS with them", list)
			}
			for k := range known {
				if !now[k] {
					return fmt.Sprintf("FLAGS dropped %s", k)
				}
			}
			for k := range now {
				known[k] = true
			}
			continue
		}
		i := strings.Index(l, "FLAGS (")
		if i < 0 || !strings.Contains(l, " FETCH ") {
			continue
		}
		list := l[i+len("FLAGS ("):]
		list, _, _ = strings.Cut(list, ")")
		for _, f := range strings.Fields(list) {
			if !strings.HasPrefix(f, `\`) && !known[f] {
				return fmt.Sprintf("keyword %s before a FLAGS list named it", f)
			}
		}
	}
	return ""
}

// permanentFlagsFollow reports whether line is a PERMANENTFLAGS response
// that permits every flag of a FLAGS list and new keywords, or nothing.
func permanentFlagsFollow(flags map[string]bool, line string) bool {
	list, ok := strings.CutPrefix(line, "* OK [PERMANENTFLAGS (")
	if !ok {
		return false
	}
	list, _, _ = strings.Cut(list, ")")
	perm := strings.Fields(list)
	if len(perm) == 0 {
		return true
	}
	for f := range flags {
		if !slices.Contains(perm, f) {
			return false
		}
	}
	return slices.Contains(perm, `\*`)
}

// sortFlags sorts the flags of a FETCH line's FLAGS list: their order is
// the server's to choose.
func sortFlags(line string) string {
	i := strings.Index(line, "FLAGS (")
	if i < 0 || !strings.Contains(line, " FETCH ") {
		return line
	}
	i += len("FLAGS (")
	j := strings.IndexByte(line[i:], ')')
	if j < 0 {
		return line
	}
	flags := strings.Fields(line[i : i+j])
	slices.Sort(flags)
	return line[:i] + strings.Join(flags, " ") + line[i+j:]
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\r\n")
	return l
}

// TestCopyMoveIntoSelected: COPY and MOVE into the mailbox that is
// selected are legal (RFC 3501 6.4.7, RFC 6851) and answer COPYUID; a
// MOVE expunges before the copy arrives, as Dovecot does.
func TestCopyMoveIntoSelected(t *testing.T) {
	runScript(t, 1, []step{
		{cmd: "SELECT INBOX", want: []string{"* 1 EXISTS"}},
		{cmd: "COPY 1 INBOX", want: []string{"* 2 EXISTS"}, status: "OK [COPYUID 1 1 2]"},
		{cmd: "MOVE 1 INBOX", want: []string{"* OK [COPYUID 1 1 3] COPY completed", "* 1 EXPUNGE", "* 2 EXISTS"}, not: []string{"* 3 EXISTS"}},
		{cmd: "UID FETCH 1:* UID", want: []string{"* 1 FETCH (UID 2)", "* 2 FETCH (UID 3)"}},
		{cmd: "UID MOVE 99 INBOX", not: []string{"* OK [COPYUID*"}},
		{cmd: "CREATE Other"},
		{cmd: "MOVE 1 Other", want: []string{"* 1 EXPUNGE"}, not: []string{"* 2 EXPUNGE", "* 0 EXPUNGE"}},
		{cmd: "NOOP", not: []string{"* 1 EXPUNGE"}},
	})
}

// TestRecent: \Recent belongs to the first session that sees a message
// read-write (RFC 3501 2.3.2); EXAMINE shows it without taking it.
func TestRecent(t *testing.T) {
	runScript(t, 2, []step{
		// The seeded message is new: nobody has seen it.
		{conn: 0, cmd: "STATUS INBOX (MESSAGES RECENT)", want: []string{`* STATUS INBOX (MESSAGES 1 RECENT 1)`}},
		{conn: 0, cmd: "EXAMINE INBOX", want: []string{"* 1 RECENT"}},
		{conn: 0, cmd: "FETCH 1 FLAGS", want: []string{`* 1 FETCH (UID 1 FLAGS (\Recent))`}},
		{conn: 0, cmd: "CLOSE"},
		{conn: 0, cmd: "STATUS INBOX (RECENT)", want: []string{`* STATUS INBOX (RECENT 1)`}},
		{conn: 0, cmd: "SELECT INBOX", want: []string{"* 1 RECENT"}},
		{conn: 0, cmd: "SEARCH RECENT", want: []string{"* SEARCH 1"}},
		{conn: 0, cmd: "SEARCH NEW", want: []string{"* SEARCH 1"}},
		{conn: 0, cmd: "SEARCH OLD", want: []string{"* SEARCH"}},
		{conn: 1, cmd: "STATUS INBOX (RECENT)", want: []string{`* STATUS INBOX (RECENT 0)`}},
		{conn: 1, cmd: "SELECT INBOX", want: []string{"* 0 RECENT"}},
		{conn: 1, cmd: "FETCH 1 FLAGS", want: []string{`* 1 FETCH (UID 1 FLAGS ())`}},
		{conn: 1, cmd: "SEARCH OLD", want: []string{"* SEARCH 1"}},
		// A copy into the mailbox is recent for the first to poll.
		{conn: 1, cmd: "COPY 1 INBOX", want: []string{"* 2 EXISTS", "* 1 RECENT"}},
		{conn: 0, cmd: "NOOP", want: []string{"* 2 EXISTS", "* 1 RECENT"}, not: []string{"* 2 RECENT"}},
		{conn: 1, cmd: "FETCH 2 FLAGS", want: []string{`* 2 FETCH (UID 2 FLAGS (\Recent))`}},
		{conn: 0, cmd: "FETCH 2 FLAGS", want: []string{`* 2 FETCH (UID 2 FLAGS ())`}},
		// APPEND from elsewhere: NOOP announces it with RECENT.
		{conn: 0, cmd: "UNSELECT"},
		{conn: 0, cmd: appendMsg("INBOX", `\Seen`, plainMsg)},
		{conn: 1, cmd: "NOOP", want: []string{"* 3 EXISTS", "* 2 RECENT"}},
		{conn: 1, cmd: "SEARCH NEW", want: []string{"* SEARCH 2"}},
		{conn: 1, cmd: "STORE 3 +FLAGS (\\Recent \\Flagged)", want: []string{`* 3 FETCH (UID 3 FLAGS (\Seen \Flagged \Recent))`}},
	})
}

// TestKeywordsAnnounced: a keyword's first use comes with an untagged
// FLAGS before any FETCH shows it, on every connection (RFC 3501 7.2.6),
// and PERMANENTFLAGS right after it (checkKeywords), as Dovecot sends.
func TestKeywordsAnnounced(t *testing.T) {
	flags := `* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $k1)`
	runScript(t, 2, []step{
		{conn: 0, cmd: "SELECT INBOX"},
		{conn: 1, cmd: "SELECT INBOX"},
		{conn: 0, cmd: "STORE 1 +FLAGS ($k1)", want: []string{flags, `* 1 FETCH (UID 1 FLAGS (\Recent $k1))`}},
		{conn: 1, cmd: "NOOP", want: []string{flags, `* 1 FETCH (UID 1 FLAGS ($k1))`}},
		// Known now: no second FLAGS.
		{conn: 0, cmd: "STORE 1 FLAGS ($k1)", want: []string{`* 1 FETCH (UID 1 FLAGS (\Recent $k1))`}, not: []string{"* FLAGS*"}},
		{conn: 0, cmd: "STORE 1 +FLAGS.SILENT ($k2)", want: []string{`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $k1 $k2)`}, not: []string{"* 1 FETCH*"}},
		{conn: 0, cmd: appendMsg("INBOX", `$k3`, plainMsg), want: []string{`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $k1 $k2 $k3)`, "* 2 EXISTS"}},
		{conn: 1, cmd: "SELECT INBOX", want: []string{`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $k1 $k2 $k3)`}},
		// A keyword another connection just set waits for its FLAGS line,
		// even in a FETCH the client asked for.
		{conn: 0, cmd: "STORE 2 +FLAGS ($k4)"},
		{conn: 1, cmd: "FETCH 2 FLAGS", want: []string{`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $k1 $k2 $k3 $k4)`, `* 2 FETCH (UID 2 FLAGS ($k3 $k4))`}},
		// A FLAGS list queued before this connection's own new keyword
		// is not sent after it.
		{conn: 0, cmd: "STORE 1 +FLAGS ($k5)"},
		{conn: 1, cmd: "STORE 1 +FLAGS ($k6)", want: []string{`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $k1 $k2 $k3 $k4 $k5 $k6)`}},
		{conn: 1, cmd: "NOOP", not: []string{"* FLAGS*"}},
		// Read-only: nothing is permanent, at EXAMINE and after.
		{conn: 1, cmd: "EXAMINE INBOX", want: []string{`* OK [PERMANENTFLAGS ()] Permanent flags`}},
		{conn: 0, cmd: "STORE 1 +FLAGS ($k7)", want: []string{`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $k1 $k2 $k3 $k4 $k5 $k6 $k7 \*)] Permanent flags`}},
		{conn: 1, cmd: "NOOP", want: []string{`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $k1 $k2 $k3 $k4 $k5 $k6 $k7)`, `* OK [PERMANENTFLAGS ()] Permanent flags`}},
	})
}

// TestEnvelopeGroups: ENVELOPE keeps RFC 5322 groups, empty ones too
// (RFC 3501 7.4.2).
func TestEnvelopeGroups(t *testing.T) {
	msg := "Date: Thu, 15 Feb 2007 01:02:03 +0200\r\nFrom: user@domain (Real Name)\r\n" +
		"To: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;\r\nCc: group:;, group2: (foo) ;\r\n\r\nbody\r\n"
	runScript(t, 1, []step{
		{cmd: appendMsg("INBOX", "", msg)},
		{cmd: "SELECT INBOX"},
		{cmd: "FETCH 2 ENVELOPE", want: []string{`* 2 FETCH (UID 2 ENVELOPE ("Thu, 15 Feb 2007 01:02:03 +0200" NIL (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) ` +
			`((NIL NIL "group" NIL) (NIL NIL "g1" "d1.org") (NIL NIL "g2" "d2.org") (NIL NIL NIL NIL) (NIL NIL "group2" NIL) (NIL NIL "g3" "d3.org") (NIL NIL NIL NIL)) ` +
			`((NIL NIL "group" NIL) (NIL NIL NIL NIL) (NIL NIL "group2" NIL) (NIL NIL NIL NIL)) NIL NIL NIL))`}},
	})
}

// TestSearchAddressComments: SEARCH FROM matches the address, not the
// comments RFC 5322 3.4.1 allows inside it.
func TestSearchAddressComments(t *testing.T) {
	runScript(t, 1, []step{
		{cmd: appendMsg("INBOX", "", "From: <user-from (comment)@ (comment) domain.org>\r\n\r\nb\r\n")},
		{cmd: appendMsg("INBOX", "", "From: user-from@domain.org (RealFrom)\r\n\r\nb\r\n")},
		{cmd: appendMsg("INBOX", "", "From: user-from1@domain.org, user-from2@domain.org\r\n\r\nb\r\n")},
		{cmd: "SELECT INBOX"},
		{cmd: "SEARCH FROM user-from@domain.org", want: []string{"* SEARCH 2 3"}},
		{cmd: "SEARCH FROM realfrom", want: []string{"* SEARCH 3"}},
		{cmd: "SEARCH HEADER FROM \"\"", want: []string{"* SEARCH 1 2 3 4"}},
	})
}

// TestLsubNoselectParents: LSUB "%" lists the unsubscribed parent of a
// subscribed mailbox as \Noselect (RFC 3501 6.3.9).
func TestLsubNoselectParents(t *testing.T) {
	runScript(t, 1, []step{
		{cmd: "CREATE box/test"},
		{cmd: "CREATE box/test2/test"},
		{cmd: "CREATE box/test3/test3"},
		{cmd: "CREATE box/test2"},
		{cmd: "SUBSCRIBE box/test"},
		{cmd: "SUBSCRIBE box/test2/test"},
		{cmd: "SUBSCRIBE box/test3/test3"},
		{cmd: `LSUB "" box/%`, want: []string{`* LSUB (\Subscribed) "/" "box/test"`, `* LSUB (\Noselect) "/" "box/test2"`, `* LSUB (\Noselect) "/" "box/test3"`}, not: []string{`* LSUB (\Subscribed) "/" "box/test2/test"`}},
		{cmd: `LSUB "" box/*`, want: []string{`* LSUB (\Subscribed) "/" "box/test2/test"`}, not: []string{`* LSUB (\Noselect) "/" "box/test2"`}},
		{cmd: `LIST "" box/%`, not: []string{`* LIST (\Noselect)*`}},
	})
}

// TestID: ID (RFC 2971) is advertised and answered before and after
// login; go-imap alone answers BAD and hangs up at the next command.
func TestID(t *testing.T) {
	srv := NewTest(t, plainScenario(t, ""))
	w := dialWire(t, srv.Addr())
	if g := w.line(); !strings.Contains(g, " ID") {
		t.Errorf("greeting does not advertise ID: %q", g)
	}
	exchanges := []struct{ send, want string }{
		{"a1 ID NIL", `* ID ("name" "imapfault")|a1 OK ID completed`},
		{`a2 ID ("name" "Thunderbird" "version" "128.0")`, `* ID ("name" "imapfault")|a2 OK ID completed`},
		{`a3 ID ("name")`, `a3 BAD Invalid ID parameters`},
		{"a4 LOGIN alice pw", ""},
		{"a5 ID NIL", `* ID ("name" "imapfault")|a5 OK ID completed`},
		// Pipelined: the replies keep the commands' order.
		{"b1 NOOP\r\nb2 ID NIL\r\nb3 SELECT INBOX\r\nb4 ID NIL", ""},
	}
	for _, ex := range exchanges {
		w.send(ex.send)
		lines := strings.Split(ex.send, "\r\n")
		tag := strings.Fields(lines[len(lines)-1])[0]
		got := w.until(tag + " ")
		if ex.want != "" && strings.Join(got, "|") != ex.want {
			t.Errorf("%q: got %q, want %q", ex.send, strings.Join(got, "|"), ex.want)
		}
		if tag == "b4" {
			var tags []string
			for _, l := range got {
				if !strings.HasPrefix(l, "* ") {
					tags = append(tags, strings.Fields(l)[0])
				}
			}
			if want := []string{"b1", "b2", "b3", "b4"}; !slices.Equal(tags, want) {
				t.Errorf("pipelined tagged replies in order %q, want %q:\n%s", tags, want, strings.Join(got, "\n"))
			}
		}
		if tag == "a4" && !strings.HasPrefix(got[len(got)-1], "a4 OK") {
			t.Fatalf("LOGIN after ID: %q", got)
		}
	}
}

// TestFlavorID: a flavour's recorded ID answer goes out through the same
// wire-layer answer as the server's own, arguments checked alike, before
// and after login; a flavour that does not advertise ID has no answer.
func TestFlavorID(t *testing.T) {
	for _, tc := range []struct {
		flavor, want string
	}{
		{"gmail", `* ID ("name" "GImap" "vendor" "Google, Inc." "support-url" "http://mail.google.com/support")`},
		{"dovecot", `* ID ("name" "Dovecot")`},
	} {
		t.Run(tc.flavor, func(t *testing.T) {
			sc, err := scenarios.Parse("flavor.toml", []byte("name = \"f\"\nflavor = \""+tc.flavor+"\"\n[[users]]\nname = \"alice\"\npassword = \"pw\"\n"), nil)
			if err != nil {
				t.Fatal(err)
			}
			w := dialWire(t, NewTest(t, sc).Addr())
			w.line()
			for _, ex := range []struct{ send, want string }{
				{"a1 ID NIL", tc.want + "|a1 OK ID completed"},
				{`a2 ID ("name")`, "a2 BAD Invalid ID parameters"},
				{"a3 LOGIN alice pw", ""},
				{`a4 ID ("name" "Thunderbird")`, tc.want + "|a4 OK ID completed"},
			} {
				w.send(ex.send)
				tag := strings.Fields(ex.send)[0]
				got := w.until(tag + " ")
				if ex.want == "" {
					if !strings.HasPrefix(got[len(got)-1], tag+" OK") {
						t.Fatalf("%q: %q", ex.send, got)
					}
					continue
				}
				if strings.Join(got, "|") != ex.want {
					t.Errorf("%q: got %q, want %q", ex.send, strings.Join(got, "|"), ex.want)
				}
			}
		})
	}
}

// TestListModifiedUTF7: a LIST pattern that is not modified UTF-7 matches
// nothing (OK, as Dovecot); go-imap alone answers NO [SERVERBUG].
func TestListModifiedUTF7(t *testing.T) {
	runScript(t, 1, []step{
		{cmd: `LIST "" "&"`, not: []string{"* LIST*"}},
		{cmd: `LIST "" !#$&'+,-.0123456789:;<=>?@^_` + "`" + `|[}%*`, not: []string{"* LIST*"}},
		{cmd: `LSUB "" "&Jjo"`},
		{cmd: `CREATE "box/p&AOQA5A-"`},
		{cmd: `LIST "" "box/p&AOQA5A-"`, want: []string{`* LIST () "/" "box/p&AOQA5A-"`}},
		{cmd: `LIST "" "box/&-"`, not: []string{"* LIST*"}},
	})
}
