package client

import (
	"strings"
	"testing"
	"time"
)

// FuzzReadResponse feeds arbitrary server bytes to the wire reader and the
// value parser: they must not panic, and must stay within their bounds.
func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"* OK [CAPABILITY IMAP4rev1] ready\r\n",
		"a1 NO [AUTHENTICATIONFAILED] no\r\n",
		"+ idling\r\n",
		"* 1 FETCH (UID 1 ENVELOPE (NIL {5}\r\nhello NIL NIL NIL NIL NIL NIL NIL NIL))\r\n",
		"* 1 FETCH (BODY[HEADER.FIELDS (DATE)] {3}\r\nabc)\r\n",
		"* LIST (\\Noselect) \"/\" {3+}\r\nfoo\r\n",
		"* 1 FETCH (X {10}\r\nshort",
		"* 3 EXISTS\n",
		"* SEARCH 1 2 3\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, wire string) {
		r := newWireReader(strings.NewReader(wire), nil)
		for i := 0; i < 100; i++ {
			resp, err := r.readResponse()
			if err != nil {
				return
			}
			if strings.ContainsAny(resp.Raw, "\r\n") {
				t.Fatalf("Raw %q contains a line ending", resp.Raw)
			}
			if resp.Status == "" && resp.Tag == "*" {
				p := newParser(resp)
				for j := 0; j < 1000 && !p.eof(); j++ {
					if _, err := p.value(); err != nil {
						break
					}
				}
				if _, kw, p, ok := parseNumbered(resp); ok && kw == "FETCH" {
					parseFetch(p)
				}
				if keyword(resp) == "LIST" {
					parseList(resp)
				}
			}
		}
	})
}

// TestLiteralMarkers keeps the literal markers FuzzReadResponse found
// crashing the parser ("~}" sliced past its own end) as plain errors.
func TestLiteralMarkers(t *testing.T) {
	for _, body := range []string{"~}", "~", "~x{3}", "{", "{x}", "{}", "~{3}", "{3}"} {
		v, err := newParser(&response{Body: body}).value()
		if err == nil {
			t.Errorf("value() of %q = %v, want an error (no literal data)", body, v)
		}
	}
	v, err := newParser(&response{Body: "~{3}", Lits: [][]byte{[]byte("abc")}}).value()
	if err != nil || v != "abc" {
		t.Errorf(`value() of "~{3}" with its data = %v, %v; want "abc"`, v, err)
	}
}

// FuzzGreeting checks that any first bytes get exactly one diagnosis.
func FuzzGreeting(f *testing.F) {
	for _, s := range []string{"* OK hi\r\n", "* BYE no\r\n", "220 smtp\r\n", "+OK pop\r\n", "\x16\x03\x01\x00", "", "* PREAUTH x\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, wire string) {
		s := &session{id: 1, tr: newTranscript(time.Now(), discardLogger(), newRedactor())}
		s.r = newWireReader(strings.NewReader(wire), nil)
		d, _ := readGreeting(s)
		if d != nil && (d.Code == "" || d.Code == CodeOK || d.Advice == "") {
			t.Fatalf("readGreeting(%q) = %+v", wire, d)
		}
		classifyGreeting(wire)
	})
}

// FuzzCapabilities checks the capability list and the response-code split.
func FuzzCapabilities(f *testing.F) {
	f.Add("[CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN] ready")
	f.Add("[PERMANENTFLAGS (\\* \\Seen)] ok")
	f.Add("[")
	f.Fuzz(func(t *testing.T, text string) {
		code, arg, _ := parseRespText(text)
		for _, c := range parseCapabilities(arg) {
			if c == "" || strings.ContainsAny(c, " \t") {
				t.Fatalf("parseCapabilities(%q) gave %q", arg, c)
			}
		}
		if strings.ToUpper(code) != code {
			t.Fatalf("code %q is not upper case", code)
		}
	})
}

// FuzzOAuthChallenge checks the SASL error challenge decoder.
func FuzzOAuthChallenge(f *testing.F) {
	f.Add(b64(`{"status":"invalid_token"}`))
	f.Add("e30=")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, challenge string) {
		if e, err := parseOAuthChallenge(challenge); err == nil {
			if c := oauthCode(e); c != CodeAuthOAuthScope && c != CodeAuthOAuthTokenInvalid {
				t.Fatalf("oauthCode(%+v) = %q", e, c)
			}
		}
	})
}

// FuzzMailboxName checks that encoded names stay printable ASCII.
func FuzzMailboxName(f *testing.F) {
	f.Add("INBOX")
	f.Add("Entwürfe & Co")
	f.Fuzz(func(t *testing.T, name string) {
		for _, c := range []byte(encodeMailbox(name)) {
			if c < 0x20 || c > 0x7e {
				t.Fatalf("encodeMailbox(%q) has byte %#x", name, c)
			}
		}
	})
}

// FuzzIDResponse: an ID response, however broken, parses to at most
// maxIDFields fields or an error, never a panic.
func FuzzIDResponse(f *testing.F) {
	for _, s := range []string{
		"* ID (\"name\" \"Dovecot\")\r\n",
		"* ID NIL\r\n",
		"* ID (\"name\" {5}\r\nCyrus \"version\" NIL)\r\n",
		"* ID (\"name\")\r\n",
		"* ID (name x)\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, wire string) {
		resp, err := newWireReader(strings.NewReader(wire), nil).readResponse()
		if err != nil || keyword(resp) != "ID" {
			return
		}
		fields, err := parseID(resp)
		if err == nil && len(fields) > maxIDFields {
			t.Fatalf("parseID kept %d fields, more than %d", len(fields), maxIDFields)
		}
	})
}
