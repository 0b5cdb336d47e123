package client

import (
	"fmt"
	"strings"
)

// secret marks a command part that the transcript shows as a mask.
type secret struct{ v any }

// commandLit sends a command whose parts are raw text (string), literals
// ([]byte) or secrets wrapping either. The transcript shows the command as
// sent, with literals as their {N} marker and secrets masked, so a
// password never reaches it whichever form it travels in. Synchronizing
// literals wait for the server's "+"; LITERAL+ and LITERAL- (for small
// ones) make them non-synchronizing.
func (s *session) commandLit(handle func(*response) error, parts ...any) (*response, error) {
	tag := s.nextTag()
	var line, shown strings.Builder
	line.WriteString(tag + " ")
	shown.WriteString(tag + " ")
	// The transcript gets the whole command first, as one line.
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			shown.WriteString(v)
		case []byte:
			shown.WriteString(s.literalMarker(v))
		case secret:
			shown.WriteString(mask)
		}
	}
	s.tr.add(s.id, s.dirOut(), shown.String())
	for _, p := range parts {
		if sec, ok := p.(secret); ok {
			p = sec.v
		}
		switch v := p.(type) {
		case string:
			line.WriteString(v)
		case []byte:
			marker := s.literalMarker(v)
			line.WriteString(marker + "\r\n")
			if err := s.writeRaw(line.String()); err != nil {
				return nil, err
			}
			line.Reset()
			if !strings.HasSuffix(marker, "+}") {
				resp, err := s.awaitContinuation(tag, handle)
				if err != nil || resp != nil {
					return resp, err
				}
			}
			if err := s.writeRaw(string(v)); err != nil {
				return nil, err
			}
		}
	}
	line.WriteString("\r\n")
	if err := s.writeRaw(line.String()); err != nil {
		return nil, err
	}
	return s.await(tag, handle)
}

func (s *session) literalMarker(b []byte) string {
	if s.has("LITERAL+") || (s.has("LITERAL-") && len(b) <= 4096) {
		return fmt.Sprintf("{%d+}", len(b))
	}
	return fmt.Sprintf("{%d}", len(b))
}

func (s *session) writeRaw(b string) error {
	if _, err := s.conn.Write([]byte(b)); err != nil {
		return newWireError(err, nil)
	}
	return nil
}

// awaitContinuation reads until a "+"; a tagged response instead means the
// command was rejected and is returned.
func (s *session) awaitContinuation(tag string, handle func(*response) error) (*response, error) {
	for {
		resp, err := s.read()
		if err != nil {
			return nil, err
		}
		switch {
		case resp.Tag == "+":
			return nil, nil
		case resp.Tag == tag:
			return resp, nil
		case resp.Tag == "*" && resp.Status == "BYE":
			s.bye = resp
		case resp.Tag == "*" && handle != nil:
			if err := handle(resp); err != nil {
				return nil, err
			}
		}
	}
}

// astring renders s as an atom when it can be one, else as a quoted
// string, else (CR, LF, NUL or 8-bit bytes) as a literal.
func astring(s string) any {
	if s != "" && isAtom(s) {
		return s
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 || c >= 0x80 {
			return []byte(s)
		}
	}
	return quote(s)
}

func isAtom(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("(){%*\"\\]", c) >= 0 {
			return false
		}
	}
	return true
}

// quote renders s as an IMAP quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
