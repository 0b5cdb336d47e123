package client

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// replay runs the tester's reading and classification over a recorded
// server side of one command exchange (tag a1), as check does.
func replay(phase, wire string) Diagnosis {
	s := &session{id: 1, tr: newTranscript(time.Now(), discardLogger(), newRedactor())}
	s.r = newWireReader(strings.NewReader(wire), func(l string) { s.lastLine = l })
	resp, err := s.await("a1", func(*response) error { return nil })
	switch {
	case err != nil:
		return failureDiag(phase, "CMD", 0, s.lastLine, err)
	case resp.Status != "OK":
		return statusDiag(phase, resp)
	}
	return diag(CodeOK, phase, resp.Raw)
}

func TestClassifyRecorded(t *testing.T) {
	tests := []struct {
		phase, wire string
		want        Diagnosis
	}{
		{"auth", "a1 OK [CAPABILITY IMAP4rev1] Logged in\r\n", Diagnosis{Code: CodeOK, Phase: "auth", Evidence: "a1 OK [CAPABILITY IMAP4rev1] Logged in"}},
		{"auth", "a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", Diagnosis{Code: CodeAuthFailed, Phase: "auth", Evidence: "a1 NO [AUTHENTICATIONFAILED] Authentication failed."}},
		{"auth", "* OK [ALERT] hi\r\na1 NO [UNAVAILABLE] Temporary authentication failure.\r\n", Diagnosis{Code: CodeAuthUnavailable, Phase: "auth", Evidence: "a1 NO [UNAVAILABLE] Temporary authentication failure."}},
		{"auth", "a1 no [limit] lowercase\r\n", Diagnosis{Code: CodeAuthTooManyConnections, Phase: "auth", Evidence: "a1 no [limit] lowercase"}},
		{"auth", "a1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n", Diagnosis{Code: CodeAuthPrivacyRequired, Phase: "auth", Evidence: "a1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections."}},
		{"auth", "a1 NO Password expired (the text alone decides nothing)\r\n", Diagnosis{Code: CodeAuthFailed, Phase: "auth", Evidence: "a1 NO Password expired (the text alone decides nothing)"}},
		{"auth", "", Diagnosis{Code: CodeAuthDropped, Phase: "auth", Evidence: "connection closed by the server while waiting for the response to CMD after 0s"}},
		{"auth", "* BYE Too many invalid commands\r\n", Diagnosis{Code: CodeConnBye, Phase: "auth", Evidence: "* BYE Too many invalid commands"}},
		{"auth", "* BYE [UNAVAILABLE] shutting down\r\n", Diagnosis{Code: CodeAuthUnavailable, Phase: "auth", Evidence: "* BYE [UNAVAILABLE] shutting down"}},
		{"select", "a1 NO [NONEXISTENT] Mailbox doesn't exist: Nope\r\n", Diagnosis{Code: CodeMailboxSelectFailed, Phase: "select", Evidence: "a1 NO [NONEXISTENT] Mailbox doesn't exist: Nope"}},
		{"select", "a1 NO [SERVERBUG] Internal error occurred.\r\n", Diagnosis{Code: CodeServerBug, Phase: "select", Evidence: "a1 NO [SERVERBUG] Internal error occurred."}},
		{"select", "a1 BAD [CLIENTBUG] Error in IMAP command\r\n", Diagnosis{Code: CodeProtocolBad, Phase: "select", Evidence: "a1 BAD [CLIENTBUG] Error in IMAP command"}},
		{"list", "a1 NO Mailbox listing failed\r\n", Diagnosis{Code: CodeMailboxListFailed, Phase: "list", Evidence: "a1 NO Mailbox listing failed"}},
		{"list", "* LIST (\\HasNoChildren) \"/\" INBOX\r\n", Diagnosis{Code: CodeConnDropped, Phase: "list", Evidence: `connection closed by the server while waiting for the response to CMD after 0s (last line received: "* LIST (\\HasNoChildren) \"/\" INBOX")`}},
		{"list", "* LIST () \"/\" INBOX\r\n* BYE going away\r\n", Diagnosis{Code: CodeConnBye, Phase: "list", Evidence: "* BYE going away"}},
		{"list", "* LIST () \"/\" INB", Diagnosis{Code: CodeConnDropped, Phase: "list", Evidence: `connection closed by the server while waiting for the response to CMD after 0s (an incomplete line was received: "* LIST () \"/\" INB")`}},
		{"fetch", "* 1 FETCH (BODY[] {10}\r\n12345", Diagnosis{Code: CodeFetchLiteralTruncated, Phase: "fetch", Evidence: "the server announced a literal of 10 bytes in the response to CMD but closed the connection after 5"}},
		{"fetch", "* 1 FETCH (BODY[] {5}\r\n12345)\r\na1 NO [LIMIT] too big\r\n", Diagnosis{Code: CodeServerLimit, Phase: "fetch", Evidence: "a1 NO [LIMIT] too big"}},
		{"fetch", "a1 NO [OVERQUOTA] Quota exceeded\r\n", Diagnosis{Code: CodeServerOverquota, Phase: "fetch", Evidence: "a1 NO [OVERQUOTA] Quota exceeded"}},
		{"fetch", "* 1 FETCH (BODY[] {999999999999}\r\n", Diagnosis{Code: CodeProtocolParseError, Phase: "fetch", Evidence: "response to CMD: literal of 999999999999 bytes exceeds the tester's limit of 8388608"}},
		{"fetch", "b7 OK other tag\r\n", Diagnosis{Code: CodeProtocolParseError, Phase: "fetch", Evidence: `response to CMD is not valid IMAP (response tagged "b7" while waiting for "a1"): "b7 OK other tag"`}},
		{"fetch", "a1 FETCH what\r\n", Diagnosis{Code: CodeProtocolParseError, Phase: "fetch", Evidence: `response to CMD is not valid IMAP (tagged response without OK, NO or BAD): "a1 FETCH what"`}},
		{"starttls", "a1 BAD STARTTLS not supported\r\n", Diagnosis{Code: CodeStartTLSRefused, Phase: "starttls", Evidence: "a1 BAD STARTTLS not supported"}},
		{"starttls", "", Diagnosis{Code: CodeStartTLSDropped, Phase: "starttls", Evidence: "connection closed by the server while waiting for the response to CMD after 0s"}},
		{"idle", "a1 BAD Unknown command\r\n", Diagnosis{Code: CodeIdleUnsupported, Phase: "idle", Evidence: "a1 BAD Unknown command"}},
		{"idle", "", Diagnosis{Code: CodeIdleDropped, Phase: "idle", Evidence: "connection closed by the server while waiting for the response to CMD after 0s"}},
		{"append", "a1 NO [TRYCREATE] Mailbox doesn't exist\r\n", Diagnosis{Code: CodeStoreFailed, Phase: "append", Evidence: "a1 NO [TRYCREATE] Mailbox doesn't exist"}},
		{"logout", "* BYE Logging out\r\na1 OK Logout completed.\r\n", Diagnosis{Code: CodeOK, Phase: "logout", Evidence: "a1 OK Logout completed."}},
	}
	for _, tt := range tests {
		t.Run(tt.phase+"/"+tt.wire, func(t *testing.T) {
			got := replay(tt.phase, tt.wire)
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Diagnosis{}, "Advice")); diff != "" {
				t.Errorf("replay(%q, %q) mismatch (-want +got):\n%s", tt.phase, tt.wire, diff)
			}
			if got.Advice == "" {
				t.Errorf("replay(%q, %q).Advice is empty", tt.phase, tt.wire)
			}
		})
	}
}

func TestClassifyGreeting(t *testing.T) {
	tests := []struct {
		wire string
		code string
	}{
		{"* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot (Debian) ready.\r\n", CodeOK},
		{"* OK IMAP4rev1 Service Ready\r\n", CodeOK},
		{"* PREAUTH [CAPABILITY IMAP4rev1] welcome\r\n", CodeOK},
		{"* BYE [UNAVAILABLE] Too many connections\r\n", CodeGreetingBye},
		{"220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n", CodeGreetingNotIMAP},
		{"220-mx.example.com ESMTP\r\n", CodeGreetingNotIMAP},
		{"+OK Dovecot ready.\r\n", CodeGreetingNotIMAP},
		{"-ERR go away\r\n", CodeGreetingNotIMAP},
		{"HTTP/1.1 400 Bad Request\r\n", CodeGreetingNotIMAP},
		{"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", CodeGreetingNotIMAP},
		{"* OKAY\r\n", CodeGreetingMalformed},
		{"* CAPABILITY IMAP4rev1\r\n", CodeGreetingMalformed},
		{"a1 OK hello\r\n", CodeGreetingMalformed},
		{"hello\r\n", CodeGreetingMalformed},
		{"* OK \r0\n", CodeGreetingMalformed}, // FuzzGreeting: a CR inside ended the walk with "ok"
		{"* OK ready\x00\r\n", CodeGreetingMalformed},
		{"\x16\x03\x03\x00\x10garbage", CodeTLSProtocolMismatch},
		{"", CodeGreetingEOF},
		{"* OK incomplete", CodeGreetingEOF},
	}
	for _, tt := range tests {
		s := &session{id: 1, tr: newTranscript(time.Now(), discardLogger(), newRedactor())}
		s.r = newWireReader(strings.NewReader(tt.wire), func(l string) { s.lastLine = l })
		d, _ := readGreeting(s)
		got := CodeOK
		if d != nil {
			got = d.Code
		}
		if got != tt.code {
			t.Errorf("readGreeting(%q) = %s, want %s (%v)", tt.wire, got, tt.code, d)
		}
	}
}

func TestDialDiag(t *testing.T) {
	op := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: err}}
	}
	tests := []struct {
		err  error
		code string
	}{
		{op(syscall.ECONNREFUSED), CodeTCPRefused},
		{op(syscall.ECONNRESET), CodeTCPReset},
		{op(syscall.EHOSTUNREACH), CodeTCPTimeout},
		{fmt.Errorf("dial: %w", os.ErrDeadlineExceeded), CodeTCPTimeout},
	}
	for _, tt := range tests {
		if got := dialDiag("192.0.2.1:143", tt.err, time.Second).Code; got != tt.code {
			t.Errorf("dialDiag(%v) = %s, want %s", tt.err, got, tt.code)
		}
	}
}

func TestCertDiag(t *testing.T) {
	ca := newTestCA(t, "test CA")
	now := time.Now()
	parse := func(o leafOpts) *x509.Certificate {
		c, err := x509.ParseCertificate(ca.leaf(t, o).Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name  string
		cert  *x509.Certificate
		roots *x509.CertPool
		host  string
		code  string // "" for none
	}{
		{"good", parse(leafOpts{}), ca.pool, "localhost", ""},
		{"ip", parse(leafOpts{}), ca.pool, "127.0.0.1", ""},
		{"expired", parse(leafOpts{notBefore: now.Add(-48 * time.Hour), notAfter: now.Add(-time.Hour)}), ca.pool, "localhost", CodeTLSCertExpired},
		{"not yet", parse(leafOpts{notBefore: now.Add(time.Hour)}), ca.pool, "localhost", CodeTLSCertNotYetValid},
		{"self-signed", parse(leafOpts{selfSigned: true}), ca.pool, "localhost", CodeTLSCertSelfSigned},
		{"untrusted", parse(leafOpts{}), x509.NewCertPool(), "localhost", CodeTLSCertUntrusted},
		{"host", parse(leafOpts{}), ca.pool, "mail.example.com", CodeTLSHostnameMismatch},
	}
	for _, tt := range tests {
		d := verifyPeer([]*x509.Certificate{tt.cert}, tt.roots, tt.host, now)
		got := ""
		if d != nil {
			got = d.Code
		}
		if got != tt.code {
			t.Errorf("%s: verifyPeer() = %q, want %q (%v)", tt.name, got, tt.code, d)
		}
	}
	if d := verifyPeer(nil, ca.pool, "localhost", now); d == nil || d.Code != CodeTLSHandshakeFailed {
		t.Errorf("verifyPeer(no certificates) = %v, want %s", d, CodeTLSHandshakeFailed)
	}
}

func TestOAuthChallenge(t *testing.T) {
	tests := []struct {
		challenge string
		code      string
		wantErr   bool
	}{
		{b64(`{"status":"invalid_token","scope":"example_scope","openid-configuration":"https://example.com/.well-known/openid-configuration"}`), CodeAuthOAuthTokenInvalid, false},
		{b64(`{"status":"insufficient_scope"}`), CodeAuthOAuthScope, false},
		{b64(`{"status":"401","schemes":"bearer mac","scope":"https://mail.google.com/"}`), CodeAuthOAuthTokenInvalid, false},
		{b64(`{"status":"403"}`), CodeAuthOAuthScope, false},
		{"not base64!", "", true},
		{b64("not json"), "", true},
	}
	for _, tt := range tests {
		e, err := parseOAuthChallenge(tt.challenge)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseOAuthChallenge(%q) error = %v, want error %v", tt.challenge, err, tt.wantErr)
			continue
		}
		if err == nil && oauthCode(e) != tt.code {
			t.Errorf("oauthCode(%+v) = %s, want %s", e, oauthCode(e), tt.code)
		}
	}
}

func TestEveryCodeHasAdvice(t *testing.T) {
	codes := Codes()
	if len(codes) < 60 || !slices.IsSorted(codes) {
		t.Fatalf("Codes() = %v, want all codes, sorted", codes)
	}
	for _, code := range codes {
		if a := advice[code]; a == "" || !strings.Contains(code, ".") && code != CodeOK {
			t.Errorf("advice[%q] = %q", code, a)
		}
	}
}

func TestEncodeMailbox(t *testing.T) {
	for in, want := range map[string]string{
		"INBOX":        "INBOX",
		"Entwürfe":     "Entw&APw-rfe",
		"A & B":        "A &- B",
		"日本語":          "&ZeVnLIqe-",
		"Sent/Archive": "Sent/Archive",
	} {
		if got := encodeMailbox(in); got != want {
			t.Errorf("encodeMailbox(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHandshakeDiagAfterStartTLS: an OK to STARTTLS followed by a close
// is the STARTTLS step failing, not a TLS problem.
func TestHandshakeDiagAfterStartTLS(t *testing.T) {
	s := &session{rc: &recConn{}}
	w := &walk{o: &Options{TLS: TLSStartTLS}}
	if d := w.handshakeDiag(s, io.EOF, time.Second); d.Code != CodeStartTLSDropped || d.Phase != "starttls" {
		t.Errorf("handshakeDiag(EOF) after STARTTLS = %+v, want %s in starttls", d, CodeStartTLSDropped)
	}
}

func TestHandshakeDiag(t *testing.T) {
	tests := []struct {
		name     string
		captured string
		err      error
		code     string
	}{
		{"plaintext IMAP", "* OK [CAPABILITY IMAP4rev1] ready\r\n", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, CodeTLSProtocolMismatch},
		{"SMTP", "220 mx ESMTP\r\n", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, CodeTLSProtocolMismatch},
		{"protocol_version", "", fmt.Errorf("remote error: %w", tls.AlertError(70)), CodeTLSVersionWeak},
		{"handshake_failure", "", fmt.Errorf("remote error: %w", tls.AlertError(40)), CodeTLSHandshakeFailed},
		{"timeout", "", os.ErrDeadlineExceeded, CodeTLSHandshakeFailed},
		{"eof", "", io.EOF, CodeTLSHandshakeFailed},
	}
	for _, tt := range tests {
		s := &session{rc: &recConn{capture: []byte(tt.captured)}}
		w := &walk{o: &Options{TLS: TLSImplicit}}
		d := w.handshakeDiag(s, tt.err, time.Second)
		if d.Code != tt.code || d.Phase != "tls" || d.Advice == "" {
			t.Errorf("%s: handshakeDiag(%v) = %+v, want %s in tls", tt.name, tt.err, d, tt.code)
		}
		if tt.captured != "" && !strings.Contains(d.Evidence, strings.TrimSpace(tt.captured)) {
			t.Errorf("%s: evidence %q does not quote what the server sent", tt.name, d.Evidence)
		}
	}
}

func TestParseFetch(t *testing.T) {
	wire := "* 7 FETCH (UID 42 RFC822.SIZE 1234 INTERNALDATE \" 1-Nov-2026 09:05:00 +0100\" ENVELOPE (\"Sun, 1 Nov 2026 09:00:00 +0100\" {27}\r\n=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= ((\"Bob \\\"B\\\" Example\" NIL \"bob\" \"example.com\")) NIL NIL NIL NIL NIL NIL \"<1@x>\"))\r\n"
	r := newWireReader(strings.NewReader(wire), nil)
	resp, err := r.readResponse()
	if err != nil {
		t.Fatalf("readResponse() error = %v", err)
	}
	n, kw, p, ok := parseNumbered(resp)
	if !ok || n != 7 || kw != "FETCH" {
		t.Fatalf("parseNumbered() = %d, %q, %v", n, kw, ok)
	}
	got, err := parseFetch(p)
	if err != nil {
		t.Fatalf("parseFetch() error = %v", err)
	}
	want := Message{UID: 42, Size: 1234, Subject: "Grüße", From: `Bob "B" Example <bob@example.com>`,
		Date: time.Date(2026, 11, 1, 9, 5, 0, 0, time.FixedZone("", 3600))}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("parseFetch() mismatch (-want +got):\n%s", diff)
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		wire        string
		flags       []string
		delim, name string
	}{
		{"* LIST (\\HasNoChildren) \"/\" INBOX\r\n", []string{`\HasNoChildren`}, "/", "INBOX"},
		{"* LIST (\\Noselect \\HasChildren) \".\" \"Public Folders\"\r\n", []string{`\Noselect`, `\HasChildren`}, ".", "Public Folders"},
		{"* LIST () NIL {9}\r\nSay \"hi\"!\r\n", []string{}, "", `Say "hi"!`},
		{"* list () \"\\\\\" \"a\\\\b\"\r\n", []string{}, `\`, `a\b`},
	}
	for _, tt := range tests {
		resp, err := newWireReader(strings.NewReader(tt.wire), nil).readResponse()
		if err != nil {
			t.Fatalf("readResponse(%q) error = %v", tt.wire, err)
		}
		flags, delim, name, err := parseList(resp)
		if err != nil {
			t.Errorf("parseList(%q) error = %v", tt.wire, err)
			continue
		}
		if diff := cmp.Diff([]any{tt.flags, tt.delim, tt.name}, []any{flags, delim, name}); diff != "" {
			t.Errorf("parseList(%q) mismatch (-want +got):\n%s", tt.wire, diff)
		}
	}
}

// TestAgePlural: "1 day ago", never "1 days ago".
func TestAgePlural(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "dated in the future"},
		{30 * time.Second, "just now"},
		{time.Minute, "1 minute ago"},
		{5 * time.Minute, "5 minutes ago"},
		{90 * time.Minute, "1 hour ago"},
		{47 * time.Hour, "47 hours ago"},
		{49 * time.Hour, "2 days ago"},
		{400 * 24 * time.Hour, "400 days ago"},
	}
	for _, tt := range tests {
		if got := age(tt.d); got != tt.want {
			t.Errorf("age(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	for d, want := range map[time.Duration]string{time.Hour: "less than a day", 30 * time.Hour: "1 day", 72 * time.Hour: "3 days"} {
		if got := days(d); got != want {
			t.Errorf("days(%v) = %q, want %q", d, got, want)
		}
	}
}
