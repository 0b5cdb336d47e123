package recorder

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/imapfault/imapfault/relay"
)

// literalsHold checks that every {n} of a line is followed by n bytes
// up to the next token: the sizes still say what follows.
func literalsHold(t *testing.T, line string) {
	t.Helper()
	toks := tokens([]byte(line))
	last := toks[len(toks)-1]
	if last.end != len(line) && !strings.HasSuffix(line[last.end:], ")") {
		t.Errorf("the line does not read to its end (a literal size is wrong?): %q", line)
	}
}

func TestAnonymizeAndStub(t *testing.T) {
	exchange := base64.StdEncoding.EncodeToString([]byte("M\x00B\x00X\x000\x001\x00.\x00a\x00c\x00m\x00e\x00.\x00c\x00o\x00m\x00"))
	body := "Subject: Merger with\r\n Initech\r\nFrom: Alice Smith <alice@acme.com>\r\nReceived: from mx.acme.com\r\n\r\nThe secret plan.\r\nCall bob@acme.com.\r\n"
	env := `ENVELOPE ("Mon, 1 Jan 2026" "Merger with Initech" (("Alice Smith" NIL "alice" "acme.com")) NIL NIL ((NIL NIL "bob" "acme.com")) NIL NIL NIL "<123@mx.acme.com>")`
	conn := []ev{
		u(0, "* OK [CAPABILITY IMAP4rev1] imap.acme.com ready for 203.0.113.7 ["+exchange+"]\r\n"),
		c(1, "a1 FETCH 1 ("+"ENVELOPE BODY[])\r\n"),
		u(2, "* 1 FETCH ("+env+" BODY[] {"+strconv.Itoa(len(body))+"}\r\n"+body+")\r\n"),
		u(3, "a1 OK done by imap.acme.com\r\n"),
		closedBy(4, relay.Client, nil),
	}
	r := record(Options{Upstream: "imap.acme.com:993", Anonymize: true, StubBodies: true}, false, conn)
	src := string(loads(t, r))
	for _, secret := range []string{"acme", "203.0.113.7", exchange, "Alice Smith", "Merger", "Initech", "secret plan", "bob@"} {
		if strings.Contains(src, secret) {
			t.Errorf("the anonymized file holds %q:\n%s", secret, src)
		}
	}
	f := fileOf(t, r)
	st := f.Replay.Steps[0]
	line := st.Untagged[0]
	literalsHold(t, line)
	if !strings.Contains(line, "{"+strconv.Itoa(len(body))+"}") {
		t.Errorf("the body's size changed: %q", line)
	}
	// The same address is the same pseudonym in the envelope and the body.
	alice := t.Name() // set below
	if m := regexp.MustCompile(`From: Person 1 <([^>]*)>|From: [^<]*<([^>]*)>`).FindStringSubmatch(line); m != nil {
		alice = m[1] + m[2]
	}
	local, domain, _ := strings.Cut(alice, "@")
	if !strings.Contains(line, `"`+local+`" "`+domain+`"`) {
		t.Errorf("alice's pseudonym %q is not the envelope's: %q", alice, line)
	}
	if !strings.Contains(line, "\r\n\r\nloremipsumdolor") {
		t.Errorf("the body is not stubbed: %q", line)
	}
	host := regexp.MustCompile(`host\d+\.example\.net`).FindString(f.Replay.Greeting)
	if host == "" || !strings.Contains(st.Status, host) {
		t.Errorf("the host's pseudonym differs between greeting and status: %q, %q", f.Replay.Greeting, st.Status)
	}
	blob := regexp.MustCompile(`\[([A-Za-z0-9+/=]{16,})\]`).FindStringSubmatch(f.Replay.Greeting)
	if blob == nil {
		t.Fatalf("the Exchange blob is gone: %q", f.Replay.Greeting)
	}
	dec, _ := base64.StdEncoding.DecodeString(blob[1])
	if got := strings.ReplaceAll(string(dec), "\x00", ""); !strings.HasSuffix(got, ".example.net") {
		t.Errorf("the blob decodes to %q; want a UTF-16 pseudonym", got)
	}
}

// TestStubKeepsStructure: a multipart body keeps its boundaries and
// part headers, every line its length.
func TestStubKeepsStructure(t *testing.T) {
	msg := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello there\r\n--b--\r\n"
	got := string(stub([]byte(msg), ""))
	want := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nloremipsumd\r\n--b--\r\n"
	if got != want {
		t.Errorf("stub =\n%q\nwant\n%q", got, want)
	}
	if got := string(stub([]byte("Subject: x\r\n\r\n"), "HEADER")); got != "Subject: x\r\n\r\n" {
		t.Errorf("a header section was stubbed: %q", got)
	}
}
