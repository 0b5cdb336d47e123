//go:build interop

package interop

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/internal/dovecot"
)

const (
	testUser     = "alice"
	testPassword = "correct horse battery"
	stepTimeout  = 5 * time.Second
)

func startDovecot(t *testing.T, o dovecot.Options) *dovecot.Dovecot {
	t.Helper()
	o.User, o.Password = testUser, testPassword
	o.Messages = [][]byte{[]byte("From: Bob Example <bob@example.com>\r\nTo: alice@localhost\r\nSubject: interop hello\r\n" +
		"Date: " + time.Now().Add(-2*time.Hour).Format(time.RFC1123Z) + "\r\nMessage-ID: <interop-1@example.com>\r\n\r\nHello Alice.\r\n")}
	d, err := dovecot.Start(t.Context(), t.TempDir(), o)
	if errors.Is(err, dovecot.ErrUnavailable) {
		missing(t, fmt.Sprintf("%v (or run make interop as root)", err))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("dovecot output:\n%s", d.Logs())
		}
	})
	return d
}

func freeAddr(t *testing.T) string {
	addr, err := dovecot.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// check runs the tester and compares the diagnosis.
func check(t *testing.T, o client.Options, code, phase string) *client.Report {
	t.Helper()
	if o.StepTimeout == 0 {
		o.StepTimeout = stepTimeout
	}
	if o.ServerName == "" {
		o.ServerName = "localhost"
	}
	name := strings.ReplaceAll(t.Name()[strings.LastIndex(t.Name(), "/")+1:], "_", " ")
	r := recordCase(t, "imapfault check", "dovecot: "+name, map[client.TLSMode]string{client.TLSNone: plaintext, client.TLSStartTLS: starttls, client.TLSImplicit: implicit}[o.TLS], code+" ("+phase+")")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := client.Check(ctx, o)
	if err != nil {
		t.Fatalf("Check() error = %v", err)
	}
	// Ports change from run to run; the committed table must not.
	_, port, _ := net.SplitHostPort(o.Addr)
	r.got = rep.Diagnosis.Code + " (" + rep.Diagnosis.Phase + "): " + strings.ReplaceAll(rep.Diagnosis.Evidence, port, "PORT")
	if rep.Diagnosis.Code != code || rep.Diagnosis.Phase != phase {
		var b strings.Builder
		for _, e := range rep.Transcript {
			fmt.Fprintf(&b, "  %s %s\n", e.Dir, e.Text)
		}
		t.Errorf("diagnosis = %s in %s (%s), want %s in %s\n%s", rep.Diagnosis.Code, rep.Diagnosis.Phase, rep.Diagnosis.Evidence, code, phase, b.String())
	}
	return rep
}

func warnings(rep *client.Report) []string {
	var out []string
	for _, w := range rep.Warnings {
		out = append(out, w.Code)
	}
	return out
}

func TestDovecot(t *testing.T) {
	d := startDovecot(t, dovecot.Options{})
	login := func(addr string, mode client.TLSMode) client.Options {
		return client.Options{Addr: addr, TLS: mode, RootCAs: d.Roots, User: testUser, Password: testPassword}
	}

	t.Run("healthy plaintext", func(t *testing.T) {
		rep := check(t, login(d.Plain, client.TLSNone), client.CodeOK, "logout")
		if got := warnings(rep); len(got) != 1 || got[0] != client.CodeSecurityPlaintextLogin {
			t.Errorf("warnings = %v, want [%s]", got, client.CodeSecurityPlaintextLogin)
		}
		if len(rep.Newest) == 0 || rep.Newest[0].Subject != "interop hello" {
			t.Errorf("newest = %+v, want the delivered message", rep.Newest)
		}
	})
	t.Run("healthy starttls", func(t *testing.T) {
		rep := check(t, login(d.Plain, client.TLSStartTLS), client.CodeOK, "logout")
		if rep.TLS == nil || !rep.TLS.Verified || len(rep.Warnings) != 0 {
			t.Errorf("TLS = %+v, warnings %v; want a verified session without warnings", rep.TLS, warnings(rep))
		}
	})
	t.Run("healthy implicit TLS", func(t *testing.T) {
		rep := check(t, login(d.TLS, client.TLSImplicit), client.CodeOK, "logout")
		// The real thing is recognised from its greeting, and answers ID.
		if rep.Server.Product != "dovecot" || len(rep.Server.ID) == 0 || rep.Server.ID[0] != (client.IDField{Name: "name", Value: "Dovecot"}) {
			t.Errorf("server = %+v, want product dovecot and ID name Dovecot", rep.Server)
		}
	})
	t.Run("idle", func(t *testing.T) {
		rep := check(t, login(d.TLS, client.TLSImplicit), client.CodeOK, "logout")
		for _, st := range rep.Steps {
			if st.Phase == "idle" && (!st.OK || !strings.Contains(st.Detail, "DONE acknowledged")) {
				t.Errorf("idle step = %+v, want it acknowledged", st)
			}
		}
	})
	t.Run("write round-trip", func(t *testing.T) {
		o := login(d.TLS, client.TLSImplicit)
		o.Write = true
		rep := check(t, o, client.CodeOK, "logout")
		if rep.FlagLatency <= 0 {
			t.Errorf("FlagLatency = %v, want the time the flag took to show", rep.FlagLatency)
		}
		var phases []string
		for _, st := range rep.Steps {
			phases = append(phases, st.Phase)
		}
		if got := strings.Join(phases, " "); !strings.Contains(got, "append flags delete") {
			t.Errorf("phases = %s, want append, flags and delete", got)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		o := login(d.TLS, client.TLSImplicit)
		o.Password = "wrong"
		check(t, o, client.CodeAuthFailed, "auth")
	})
	t.Run("missing mailbox", func(t *testing.T) {
		o := login(d.TLS, client.TLSImplicit)
		o.Mailbox = "Does/Not/Exist"
		check(t, o, client.CodeMailboxSelectFailed, "select")
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		o := login(d.TLS, client.TLSImplicit)
		o.RootCAs = x509.NewCertPool()
		check(t, o, client.CodeTLSCertUntrusted, "tls")
	})
	t.Run("TLS to the plaintext port", func(t *testing.T) {
		check(t, login(d.Plain, client.TLSImplicit), client.CodeTLSProtocolMismatch, "tls")
	})
	t.Run("plaintext to the TLS port", func(t *testing.T) {
		o := login(d.TLS, client.TLSNone)
		o.StepTimeout = time.Second
		check(t, o, client.CodeTLSProtocolMismatch, "greeting")
	})
	t.Run("nothing listening", func(t *testing.T) {
		check(t, login(freeAddr(t), client.TLSNone), client.CodeTCPRefused, "connect")
	})
}

func TestDovecotLoginDisabledSelfSigned(t *testing.T) {
	d := startDovecot(t, dovecot.Options{SelfSigned: true, DisablePlaintext: true})
	t.Run("LOGINDISABLED", func(t *testing.T) {
		check(t, client.Options{Addr: d.Plain, TLS: client.TLSNone, User: testUser, Password: testPassword}, client.CodeAuthLoginDisabled, "auth")
	})
	t.Run("self-signed", func(t *testing.T) {
		check(t, client.Options{Addr: d.TLS, TLS: client.TLSImplicit, User: testUser, Password: testPassword}, client.CodeTLSCertSelfSigned, "tls")
	})
	t.Run("self-signed insecure", func(t *testing.T) {
		rep := check(t, client.Options{Addr: d.TLS, TLS: client.TLSImplicit, Insecure: true, User: testUser, Password: testPassword}, client.CodeOK, "logout")
		if got := warnings(rep); len(got) != 1 || got[0] != client.CodeTLSCertSelfSigned {
			t.Errorf("warnings = %v, want [%s]", got, client.CodeTLSCertSelfSigned)
		}
	})
}
