package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapfault/imapfault/scenarios"
)

func tlsScenario(t *testing.T, mode, cert string) *scenarios.Scenario {
	t.Helper()
	src := "name = \"t\"\n[server]\ntls = \"" + mode + "\"\ncertificate = \"" + cert + "\"\n[[users]]\nname = \"alice\"\npassword = \"pw\"\n"
	sc, err := scenarios.Parse("t.toml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestImplicitTLSCertificates checks what a client's verification says of
// each certificate kind on an implicit-TLS port.
func TestImplicitTLSCertificates(t *testing.T) {
	certs, err := NewCerts()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cert  string
		check func(error) bool
	}{
		{"valid", func(err error) bool { return err == nil }},
		{"expired", func(err error) bool {
			var e x509.CertificateInvalidError
			return errors.As(err, &e) && e.Reason == x509.Expired
		}},
		{"not-yet-valid", func(err error) bool {
			var e x509.CertificateInvalidError
			return errors.As(err, &e) && e.Reason == x509.Expired // Go reports both ends of the validity window as Expired
		}},
		{"wrong-host", func(err error) bool {
			var e x509.HostnameError
			return errors.As(err, &e)
		}},
		{"self-signed", func(err error) bool {
			var e x509.UnknownAuthorityError
			return errors.As(err, &e)
		}},
		{"untrusted-ca", func(err error) bool {
			var e x509.UnknownAuthorityError
			return errors.As(err, &e)
		}},
		{"missing-intermediate", func(err error) bool {
			var e x509.UnknownAuthorityError
			return errors.As(err, &e)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.cert, func(t *testing.T) {
			t.Parallel()
			srv, err := New(tlsScenario(t, "implicit", tt.cert), Options{Certs: certs})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			d := &net.Dialer{Timeout: 5 * time.Second}
			conn, err := tls.DialWithDialer(d, "tcp", srv.Addr(), srv.ClientTLSConfig())
			if err == nil {
				conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 64)
				n, _ := conn.Read(buf)
				if !strings.HasPrefix(string(buf[:n]), "* OK") {
					t.Errorf("greeting over TLS = %q", buf[:n])
				}
				conn.Close()
			}
			if !tt.check(err) {
				t.Errorf("handshake error = %v (%T)", err, err)
			}
		})
	}
}

// TestPlaintextTransportAllowsLogin: with tls = "none" LOGIN works without
// TLS and nothing mentions STARTTLS.
func TestPlaintextTransportAllowsLogin(t *testing.T) {
	srv := NewTest(t, tlsScenario(t, "none", "valid"))
	w := dialWire(t, srv.Addr())
	if g := w.line(); strings.Contains(g, "STARTTLS") || strings.Contains(g, "LOGINDISABLED") {
		t.Errorf("greeting = %q", g)
	}
	w.send("a LOGIN alice pw")
	if got := w.until("a "); !strings.HasPrefix(got[len(got)-1], "a OK") {
		t.Errorf("LOGIN = %q", got)
	}
}

// TestStartTLSDiscardsInjectedCommands: bytes pipelined after STARTTLS in
// plaintext must not be executed after the handshake.
func TestStartTLSDiscardsInjectedCommands(t *testing.T) {
	srv := NewTest(t, tlsScenario(t, "starttls", "valid"))
	w := dialWire(t, srv.Addr())
	w.line()
	w.conn.Write([]byte("s1 STARTTLS\r\nx1 LOGIN alice pw\r\n"))
	if got := w.line(); !strings.HasPrefix(got, "s1 OK") {
		t.Fatalf("STARTTLS = %q", got)
	}
	tc := tls.Client(w.conn, srv.ClientTLSConfig())
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	tc.Write([]byte("n1 NOOP\r\n"))
	tc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	n, _ := tc.Read(buf)
	if got := string(buf[:n]); strings.Contains(got, "x1") || !strings.HasPrefix(got, "n1 OK") {
		t.Errorf("after the handshake: %q, want only n1's reply", got)
	}
}
