package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// tlsStep runs the handshake on the main session and reports the result.
func (w *walk) tlsStep(ctx context.Context) (string, *Diagnosis) {
	info, d := w.handshake(ctx, w.s, true)
	if info != nil {
		w.rep.TLS = info
	}
	if d != nil {
		return "", d
	}
	return fmt.Sprintf("%s, %s; %s", info.Version, info.Cipher, certSummary(info)), nil
}

// handshake upgrades s to TLS. The handshake itself never verifies: the
// tester verifies afterwards, so that it can name each certificate
// problem, describe the certificate in any case, and with --insecure go
// on. Nothing is sent over an unverified connection unless Insecure.
func (w *walk) handshake(ctx context.Context, s *session, main bool) (*TLSInfo, *Diagnosis) {
	cfg := &tls.Config{
		ServerName:         w.o.ServerName,
		InsecureSkipVerify: true,
		// Older versions are accepted on purpose, to name them
		// (tls.version_weak) rather than fail with a bare alert.
		MinVersion: tls.VersionTLS10,
	}
	start := time.Now()
	s.rc.startCapture()
	tc := tls.Client(s.rc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		d := w.handshakeDiag(s, err, time.Since(start))
		return nil, &d
	}
	st := tc.ConnectionState()
	info := describe(st, w.o.ServerName)
	s.setConn(tc, true)
	s.info("TLS %s, %s", info.Version, info.Cipher)
	s.info("certificate: %s", certSummary(info))
	if st.Version < tls.VersionTLS12 {
		d := diag(CodeTLSVersionWeak, "tls", fmt.Sprintf("the server negotiated %s; TLS 1.2 is the oldest version current clients accept", info.Version))
		return info, &d
	}
	now := time.Now()
	if d := verifyPeer(st.PeerCertificates, w.o.RootCAs, w.o.ServerName, now); d != nil {
		info.VerifyError = d.Evidence
		if !w.o.Insecure {
			return info, d
		}
		if main {
			d.Evidence += " (continuing: --insecure)"
			w.warn(*d)
		}
	} else {
		info.Verified = true
	}
	if main && len(st.PeerCertificates) > 0 {
		leaf := st.PeerCertificates[0]
		if left := leaf.NotAfter.Sub(now); left > 0 && left < w.o.ExpiryWarning {
			w.warn(diag(CodeTLSCertExpiring, "tls", fmt.Sprintf("certificate expires %s, in %s", leaf.NotAfter.UTC().Format(time.RFC3339), days(left))))
		}
	}
	return info, nil
}

// handshakeDiag classifies a failed handshake by error type, quoting the
// bytes the server sent when they were not TLS at all.
func (w *walk) handshakeDiag(s *session, err error, took time.Duration) Diagnosis {
	sent := s.rc.captured()
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		if len(sent) == 0 {
			sent = rh.RecordHeader[:]
		}
		line, _, _ := strings.Cut(string(sent), "\n")
		line = strings.TrimRight(line, "\r")
		ev := fmt.Sprintf("the server answered the TLS ClientHello with plaintext: %q", clip(line))
		if w.o.TLS == TLSStartTLS {
			// Plaintext after "OK, begin TLS" is the injection the
			// STARTTLS step looks for, only later on the wire.
			return diag(CodeStartTLSInjection, "starttls", "after agreeing to STARTTLS "+ev)
		}
		d := diag(CodeTLSProtocolMismatch, "tls", ev)
		if proto := otherProtocol(line); proto != "" {
			d.Advice = "This port speaks " + proto + ", not IMAP over TLS: check the port number."
		} else if strings.HasPrefix(line, "* ") {
			d.Advice = "This port speaks plaintext IMAP: use --tls starttls (or --tls none), or port 993 for implicit TLS."
		}
		return d
	}
	var alert tls.AlertError
	if errors.As(err, &alert) {
		// protocol_version (RFC 8446 §6.2): none of TLS 1.0 to 1.3 was
		// acceptable to the server, so it speaks something older.
		if alert == 70 {
			return diag(CodeTLSVersionWeak, "tls", "the server answered TLS 1.0 to 1.3 with a protocol_version alert: it likely speaks only SSL 3.0")
		}
		return diag(CodeTLSHandshakeFailed, "tls", fmt.Sprintf("the server sent TLS alert %q during the handshake", alert.Error()))
	}
	switch kindOf(err) {
	case errTimeout:
		return diag(CodeTLSHandshakeFailed, "tls", fmt.Sprintf("no TLS handshake reply for %s", took.Round(time.Millisecond)))
	case errEOF, errReset:
		if len(sent) == 0 && w.o.TLS == TLSStartTLS {
			return diag(CodeStartTLSDropped, "starttls", "the server answered STARTTLS with OK, then closed the connection without answering the TLS ClientHello")
		}
		ev := fmt.Sprintf("the server closed the connection during the TLS handshake (%v)", err)
		if len(sent) == 0 {
			ev = "the server closed the connection without answering the TLS ClientHello"
		}
		return diag(CodeTLSHandshakeFailed, "tls", ev)
	}
	return diag(CodeTLSHandshakeFailed, "tls", "TLS handshake: "+err.Error())
}

// verifyPeer checks the chain, then the dates, then the host name, and
// names the first problem by its x509 error type.
func verifyPeer(certs []*x509.Certificate, roots *x509.CertPool, serverName string, now time.Time) *Diagnosis {
	if len(certs) == 0 {
		d := diag(CodeTLSHandshakeFailed, "tls", "the server sent no certificate")
		return &d
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now})
	if err != nil {
		d := certDiag(leaf, err, now)
		return &d
	}
	if err := leaf.VerifyHostname(serverName); err != nil {
		d := diag(CodeTLSHostnameMismatch, "tls", fmt.Sprintf("certificate is for %s, not %q", names(leaf), serverName))
		return &d
	}
	return nil
}

func certDiag(leaf *x509.Certificate, err error, now time.Time) Diagnosis {
	var inv x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	switch {
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		switch {
		case now.Before(leaf.NotBefore):
			return diag(CodeTLSCertNotYetValid, "tls", fmt.Sprintf("certificate %s is valid from %s; it is now %s",
				leaf.Subject, leaf.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
		case now.After(leaf.NotAfter):
			return diag(CodeTLSCertExpired, "tls", fmt.Sprintf("certificate %s expired %s (%s ago)",
				leaf.Subject, leaf.NotAfter.UTC().Format(time.RFC3339), days(now.Sub(leaf.NotAfter))))
		}
		return diag(CodeTLSCertExpired, "tls", "a certificate in the chain is outside its validity period: "+err.Error())
	case errors.As(err, &ua):
		if selfSigned(leaf) {
			return diag(CodeTLSCertSelfSigned, "tls", fmt.Sprintf("certificate %s is self-signed and not trusted", leaf.Subject))
		}
		return diag(CodeTLSCertUntrusted, "tls", fmt.Sprintf("certificate %s is issued by %s, which is not a trusted CA (%v)", leaf.Subject, leaf.Issuer, err))
	}
	return diag(CodeTLSCertUntrusted, "tls", "certificate verification: "+err.Error())
}

func selfSigned(c *x509.Certificate) bool {
	// CheckSignature, not CheckSignatureFrom: many self-signed server
	// certificates are not marked as CAs, and that must not hide them.
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func names(c *x509.Certificate) string {
	n := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		n = append(n, ip.String())
	}
	if len(n) == 0 {
		return "CN=" + c.Subject.CommonName + " (no SANs)"
	}
	return strings.Join(n, ", ")
}

func describe(st tls.ConnectionState, serverName string) *TLSInfo {
	info := &TLSInfo{
		Version:    tls.VersionName(st.Version),
		Cipher:     tls.CipherSuiteName(st.CipherSuite),
		ServerName: serverName,
	}
	if len(st.PeerCertificates) > 0 {
		leaf := st.PeerCertificates[0]
		info.Subject = leaf.Subject.String()
		info.Issuer = leaf.Issuer.String()
		info.SANs = append([]string{}, leaf.DNSNames...)
		for _, ip := range leaf.IPAddresses {
			info.SANs = append(info.SANs, ip.String())
		}
		info.NotBefore = leaf.NotBefore.UTC()
		info.NotAfter = leaf.NotAfter.UTC()
	}
	return info
}

func certSummary(t *TLSInfo) string {
	return fmt.Sprintf("subject %q, issuer %q, SANs [%s], expires %s (%d days)",
		t.Subject, t.Issuer, strings.Join(t.SANs, " "), t.NotAfter.Format("2006-01-02"), t.DaysLeft(time.Now()))
}
