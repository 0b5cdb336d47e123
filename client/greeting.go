package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/imapfault/imapfault/client/phase"
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
// fresh connection, bounded by the tls phase's deadline: a greeting
// deadline made short to catch a silent server must not fail the probe's
// handshake on a loaded machine.
func (w *walk) probeImplicitTLS(d *Diagnosis) {
	pctx, cancel := context.WithTimeout(w.ctx, w.o.timeout(phase.TLS))
	defer cancel()
	conn, err := dialOne(pctx, w.rep.Address, w.o.timeout(phase.Connect))
	if err != nil {
		return
	}
	defer conn.Close()
	rec := &recordingConn{Conn: conn}
	tc := tls.Client(rec, &tls.Config{ServerName: w.o.ServerName, InsecureSkipVerify: true, MinVersion: tls.VersionTLS10})
	if err := tc.HandshakeContext(pctx); err != nil {
		w.s.info("probe: a TLS handshake on a second connection failed too (%v)", err)
		if dl, ok := pctx.Deadline(); ok {
			conn.SetReadDeadline(dl) // the handshake leaves none behind
		}
		notTLS(d, rec, err)
		return
	}
	w.s.info("probe: a second connection completed a TLS handshake (%s)", tls.VersionName(tc.ConnectionState().Version))
	*d = diag(CodeTLSProtocolMismatch, "greeting", d.Evidence+
		"; a TLS handshake on the same port succeeded: the port expects implicit TLS, not plaintext")
	d.Advice = "This port speaks implicit TLS: use --tls implicit (usual on port 993)."
}

// notTLS uses what a failed TLS probe showed of a port that stays silent
// until the client speaks: neither IMAP (no greeting) nor implicit TLS
// (the handshake failed), so the advice to try TLS would mislead. A
// plaintext answer to the ClientHello names the protocol, as an HTTP
// server's "400 Bad Request" does.
func notTLS(d *Diagnosis, rec *recordingConn, err error) {
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		// The TLS client read at least the record header; the rest of the
		// answer's first line may be unread yet.
		buf := make([]byte, 200)
		for !strings.Contains(string(rec.got), "\n") && len(rec.got) < 200 {
			if _, err := rec.Read(buf); err != nil {
				break // bounded by the probe's deadline, set by the caller
			}
		}
		line, _, _ := strings.Cut(string(rec.got), "\n")
		line = strings.TrimSuffix(line, "\r")
		if proto := otherProtocol(line); proto != "" {
			*d = diag(CodeGreetingNotIMAP, "greeting", fmt.Sprintf(
				"%s; the server waits for the client to speak, and answered a TLS ClientHello on a second connection with %q: %s, not IMAP", d.Evidence, clip(line), proto))
			return
		}
		*d = diag(CodeGreetingNotIMAP, "greeting", fmt.Sprintf(
			"%s; the server waits for the client to speak, and answered a TLS ClientHello on a second connection with %q, which is not TLS", d.Evidence, clip(line)))
		return
	}
	d.Evidence += fmt.Sprintf("; a TLS handshake on a second connection failed too (%v), so the port is not implicit TLS either", err)
	d.Advice = "The server accepted the connection but said nothing, and a TLS handshake failed too: the service may be hung or overloaded, or a protocol that waits for the client to speak first listens here: check the port (IMAP is 143, IMAPS 993) and the server's logs."
}

// recordingConn keeps the first bytes read through it, for the evidence
// of what answered a TLS probe.
type recordingConn struct {
	net.Conn
	got []byte
}

func (r *recordingConn) Read(b []byte) (int, error) {
	n, err := r.Conn.Read(b)
	if keep := min(n, 200-len(r.got)); keep > 0 {
		r.got = append(r.got, b[:keep]...)
	}
	return n, err
}
