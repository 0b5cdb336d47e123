package client

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// starttls asks for STARTTLS and checks that nothing slipped in between
// the reply and the handshake; the handshake is the tls step that follows.
func (w *walk) starttls(ctx context.Context) (string, *Diagnosis) {
	if w.preauth {
		// A PREAUTH greeting leaves no not-authenticated state to start
		// TLS in: the STARTTLS-stripping trick of CVE-2020-12398.
		d := diag(CodeStartTLSUnavailable, "starttls", "the server greeted with PREAUTH, so STARTTLS cannot be used: "+w.rep.Greeting)
		return "", &d
	}
	return startTLS(w.s)
}

func startTLS(s *session) (string, *Diagnosis) {
	if !s.has("STARTTLS") {
		d := diag(CodeStartTLSUnavailable, "starttls", "CAPABILITY lacks STARTTLS: "+strings.Join(s.capList, " "))
		return "", &d
	}
	start := time.Now()
	resp, err := s.command("STARTTLS", nil)
	if err != nil {
		d := failureDiag("starttls", "STARTTLS", time.Since(start), s.lastLine, err)
		return "", &d
	}
	if resp.Status != "OK" {
		d := statusDiag("starttls", resp)
		return "", &d
	}
	if n := s.r.buffered(); n > 0 {
		extra, _ := s.r.br.Peek(min(n, 200))
		d := diag(CodeStartTLSInjection, "starttls", fmt.Sprintf(
			"%d bytes followed the STARTTLS reply before the TLS handshake: %q", n, extra))
		return "", &d
	}
	// Capabilities learned in plaintext must not be trusted (RFC 3501 §6.2.1).
	s.caps, s.capList = nil, nil
	return resp.Raw, nil
}
