package client

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// capability asks for the capabilities unless the server volunteered them
// in a response code, as most do in the greeting and after login.
func (w *walk) capability(ctx context.Context) (string, *Diagnosis) {
	if d := ensureCaps(w.s, "capability"); d != nil {
		return "", d
	}
	w.rep.Capabilities = w.s.capList
	detail := strings.Join(w.s.capList, " ")
	if !w.s.has("IMAP4rev1") && !w.s.has("IMAP4rev2") {
		detail += " (neither IMAP4rev1 nor IMAP4rev2 advertised)"
		w.warn(diag(CodeProtocolNoRevision, "capability", "CAPABILITY lists neither IMAP4rev1 nor IMAP4rev2: "+strings.Join(w.s.capList, " ")))
	}
	return detail, nil
}

// ensureCaps sends CAPABILITY when s has no current capability list.
func ensureCaps(s *session, phase string) *Diagnosis {
	if s.caps != nil {
		s.info("capabilities from a response code: no CAPABILITY command needed")
		return nil
	}
	start := time.Now()
	resp, err := s.command("CAPABILITY", nil)
	if err != nil {
		d := failureDiag(phase, "CAPABILITY", time.Since(start), s.lastLine, err)
		return &d
	}
	if resp.Status != "OK" {
		d := statusDiag(phase, resp)
		return &d
	}
	if s.caps == nil {
		d := diag(CodeProtocolParseError, phase, fmt.Sprintf("CAPABILITY answered %q without a CAPABILITY response", resp.Raw))
		return &d
	}
	return nil
}
