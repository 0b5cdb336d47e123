package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"
)

// greeting reads the server's first line and names what kind it is.
func (w *walk) greeting(ctx context.Context) (string, *Diagnosis) {
	d, preauth := readGreeting(w.s)
	if d != nil {
		if d.Code == CodeGreetingTimeout && w.o.TLS != TLSImplicit {
			w.probeImplicitTLS(d)
		}
		return "", d
	}
	w.rep.Greeting = w.s.lastLine
	w.preauth = preauth
	if preauth {
		return "PREAUTH: the server authenticated the connection already", nil
	}
	return w.s.lastLine, nil
}

// readGreeting reads and classifies the greeting of s.
func readGreeting(s *session) (*Diagnosis, bool) {
	start := time.Now()
	resp, err := s.read()
	if err != nil {
		d := greetingFailure(err, time.Since(start))
		return &d, false
	}
	d := classifyGreeting(resp.Raw)
	if resp.Tag != "*" && d.Code == CodeOK {
		d = diag(CodeGreetingMalformed, "greeting", resp.Raw)
	}
	if d.Code != CodeOK {
		return &d, false
	}
	s.noteCapabilityCode(resp)
	return nil, resp.Status == "PREAUTH"
}

// greetingFailure classifies a greeting that never became a line.
func greetingFailure(err error, waited time.Duration) Diagnosis {
	var we *wireError
	if !errors.As(err, &we) {
		return diag(CodeGreetingEOF, "greeting", err.Error())
	}
	partial := []byte(we.Partial)
	switch {
	case we.Kind == errParse:
		if d := classifyGreeting(we.Line); d.Code != CodeOK {
			return d
		}
		// "* OK" with a CR or NUL inside the line: IMAP-like, but broken
		// (found by FuzzGreeting: it ended the walk with "ok").
		return diag(CodeGreetingMalformed, "greeting", fmt.Sprintf("%v: %q", we.Err, clip(we.Line)))
	case looksLikeTLS(partial):
		return diag(CodeTLSProtocolMismatch, "greeting", fmt.Sprintf(
			"the server sent a TLS record (% x) instead of a greeting: this port expects implicit TLS", partial[:min(len(partial), 8)]))
	case len(partial) > 0 && otherProtocol(we.Partial) != "":
		return classifyGreeting(we.Partial)
	case len(partial) > 0 && we.Kind == errTimeout:
		return diag(CodeGreetingMalformed, "greeting", fmt.Sprintf(
			"%d bytes but no complete line within %s: %q", len(partial), waited.Round(time.Millisecond), clip(we.Partial)))
	case we.Kind == errTimeout:
		return diag(CodeGreetingTimeout, "greeting", fmt.Sprintf("no bytes for %s after connect", waited.Round(time.Millisecond)))
	case we.Kind == errLineTooLong:
		return diag(CodeGreetingMalformed, "greeting", fmt.Sprintf("%v: %q", we.Err, clip(we.Partial)))
	}
	return failureDiag("greeting", "the greeting", waited, "", err)
}

// probeImplicitTLS tells a server that waits for a TLS ClientHello from a
// hung one: after a silent plaintext greeting it tries a TLS handshake on a
// fresh connection, bounded by the step deadline.
func (w *walk) probeImplicitTLS(d *Diagnosis) {
	pctx, cancel := context.WithTimeout(w.ctx, w.o.StepTimeout)
	defer cancel()
	conn, err := dialOne(pctx, w.rep.Address, w.o.StepTimeout)
	if err != nil {
		return
	}
	defer conn.Close()
	tc := tls.Client(conn, &tls.Config{ServerName: w.o.ServerName, InsecureSkipVerify: true, MinVersion: tls.VersionTLS10})
	if err := tc.HandshakeContext(pctx); err != nil {
		w.s.info("probe: a TLS handshake on a second connection failed too (%v)", err)
		return
	}
	w.s.info("probe: a second connection completed a TLS handshake (%s)", tls.VersionName(tc.ConnectionState().Version))
	*d = diag(CodeTLSProtocolMismatch, "greeting", d.Evidence+
		"; a TLS handshake on the same port succeeded: the port expects implicit TLS, not plaintext")
	d.Advice = "This port speaks implicit TLS: use --tls implicit (usual on port 993)."
}
