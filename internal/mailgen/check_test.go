package mailgen

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode every charset a fixture declares
	"github.com/emersion/go-message/mail"
)

// parsed is what the shared checks learn about a message, for tests that
// then assert on specific values.
type parsed struct {
	header  mail.Header
	subject string
	from    []*mail.Address
	types   []string // media types of all parts, depth first
	leaves  []leaf   // decoded leaf bodies, depth first
}

// leaf is one decoded non-multipart body.
type leaf struct {
	mediaType string
	body      []byte
}

// text returns the decoded bodies of all text/* leaves, concatenated.
func (p parsed) text() string {
	var b strings.Builder
	for _, l := range p.leaves {
		if strings.HasPrefix(l.mediaType, "text/") {
			b.Write(l.body)
		}
	}
	return b.String()
}

// checkMessage fails t unless raw is a well-formed message: CRLF line
// endings only, lines within the RFC 5322 limit, the four headers every
// client relies on, and every part decodable with its declared transfer
// encoding and charset into valid UTF-8 where it is text.
func checkMessage(t *testing.T, raw []byte) parsed {
	t.Helper()
	checkLines(t, raw)
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("message.Read: %v", err)
	}
	p := parsed{header: mail.Header{Header: e.Header}}
	h := p.header
	for _, k := range []string{"Date", "From", "Message-Id", "Subject"} {
		if !h.Has(k) {
			t.Errorf("missing %s header", k)
		}
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if id, err := h.MessageID(); err != nil || id == "" {
		t.Errorf("Message-ID %q: %v", id, err)
	}
	if p.subject, err = h.Subject(); err != nil {
		t.Errorf("Subject: %v", err)
	}
	if p.from, err = h.AddressList("From"); err != nil || len(p.from) == 0 {
		t.Errorf("From %q: %v", h.Get("From"), err)
	}
	for _, s := range append([]string{p.subject}, names(p.from)...) {
		if strings.Contains(s, "=?") || !utf8.ValidString(s) {
			t.Errorf("header not decoded: %q", s)
		}
	}
	walk(t, e, &p)
	return p
}

func names(as []*mail.Address) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Name)
	}
	return out
}

// walk decodes every leaf body and descends into message/rfc822 parts,
// which go-message's Walk treats as leaves.
func walk(t *testing.T, e *message.Entity, p *parsed) {
	t.Helper()
	err := e.Walk(func(path []int, part *message.Entity, err error) error {
		if err != nil {
			t.Errorf("part %v: %v", path, err)
			return nil
		}
		mt, _, _ := part.Header.ContentType()
		if mt == "" {
			mt = "text/plain"
		}
		p.types = append(p.types, mt)
		if part.MultipartReader() != nil {
			return nil
		}
		body, err := io.ReadAll(part.Body)
		if err != nil {
			t.Errorf("part %v (%s): reading body: %v", path, mt, err)
			return nil
		}
		p.leaves = append(p.leaves, leaf{mt, body})
		switch {
		case mt == "message/rfc822":
			inner, err := message.Read(bytes.NewReader(body))
			if err != nil {
				t.Errorf("part %v: embedded message: %v", path, err)
				return nil
			}
			walk(t, inner, p)
		case strings.HasPrefix(mt, "text/") && !utf8.Valid(body):
			t.Errorf("part %v (%s): decoded body is not valid UTF-8", path, mt)
		}
		return nil
	})
	if err != nil {
		t.Errorf("walk: %v", err)
	}
}

// checkLines enforces CRLF-only line endings and the 998-octet line limit.
func checkLines(t *testing.T, raw []byte) {
	t.Helper()
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Errorf("message does not end in CRLF")
	}
	start := 0
	for i, c := range raw {
		switch {
		case c == '\n' && (i == 0 || raw[i-1] != '\r'):
			t.Fatalf("bare LF at offset %d", i)
		case c == '\r' && (i+1 == len(raw) || raw[i+1] != '\n'):
			t.Fatalf("bare CR at offset %d", i)
		case c == '\n':
			if n := i - 1 - start; n > 998 {
				t.Errorf("line at offset %d is %d octets long", start, n)
			}
			start = i + 1
		}
	}
}
