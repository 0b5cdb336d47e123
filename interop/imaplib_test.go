//go:build interop

package interop

import (
	"fmt"
	"strings"
	"testing"
)

// imaplib runs interop/testdata/imaplib_client.py against f; what is
// "read" or "full" (see the script).
func imaplib(t *testing.T, python string, f *fake, what string) ran {
	t.Helper()
	return run(t, []string{"IMAP_USER=" + f.user(), "IMAP_PASSWORD=" + f.password()},
		python, "testdata/imaplib_client.py", "127.0.0.1", f.port(), f.sc.Server.TLS, f.ca, fmt.Sprint(clientTimeout.Seconds()), what)
}

func TestImaplib(t *testing.T) {
	python := need(t, "imaplib", "python3", "apt-get install python3")

	full := func(t *testing.T, f *fake) {
		res := record(t, "imaplib", f, "list, fetch, flags set and cleared, append, expunge")
		r := imaplib(t, python, f, "full")
		if r.code != 0 {
			t.Fatalf("imaplib = exit %d, want 0; output:\n%s", r.code, r.output())
		}
		var steps []string
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			steps = append(steps, strings.Fields(l)[0])
		}
		res.got = strings.Join(steps, ", ")
	}
	t.Run("healthy", func(t *testing.T) {
		for _, transport := range []string{plaintext, starttls, implicit} {
			t.Run(transport, func(t *testing.T) {
				t.Parallel()
				full(t, startFake(t, "healthy", transport))
			})
		}
	})
	// Each flavour's quirks (greeting, capability lists, delimiter,
	// folders) must not confuse the client.
	t.Run("flavours", func(t *testing.T) {
		for _, fl := range flavours {
			t.Run(fl.name, func(t *testing.T) {
				t.Parallel()
				full(t, startFlavour(t, fl.name, fl.transport))
			})
		}
	})

	// imaplib raises IMAP4.error with the server's text, response code
	// included, for a NO to LOGIN; IMAP4.abort for a lost connection; ssl's
	// and socket's own exceptions below IMAP. A NO to SELECT is returned,
	// and the script raises it as a caller checking the status would.
	for _, tc := range []struct {
		scenario string
		want     string
	}{
		{"login-rejected", "imaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Invalid credentials'"},
		{"wrong-password", "imaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Authentication failed'"},
		{"auth-expired", "imaplib.IMAP4.error: b'[EXPIRED] Password expired'"},
		{"login-disabled", "imaplib.IMAP4.error: b'[CANNOT] LOGIN is disabled on this server'"},
		{"expired-cert", "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired"},
		{"self-signed-cert", "certificate verify failed: self-signed certificate"},
		{"wrong-host-cert", "certificate verify failed: IP address mismatch, certificate is not valid for '127.0.0.1'"},
		{"bye-greeting", "imaplib.IMAP4.error: b'* BYE Too many connections from your IP address'"},
		{"no-starttls", "imaplib.IMAP4.abort: TLS not supported by server"},
		{"silent-server", "TimeoutError: timed out"},
		{"dropped-socket", "imaplib.IMAP4.abort: command: FETCH => socket error: EOF"},
		{"truncated-literal", "imaplib.IMAP4.abort: command: FETCH => socket error: EOF"},
		{"select-nonexistent", "imaplib.IMAP4.error: select: NO [b'[NONEXISTENT] Mailbox does not exist']"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			f := startFake(t, tc.scenario, "")
			expectFailure(t, "imaplib", f, failure{1, tc.want}, func() ran { return imaplib(t, python, f, "read") })
		})
	}
}
