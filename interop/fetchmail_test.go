//go:build interop

package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// fetchmail's exit codes (fetchmail(1), "EXIT CODES").
const (
	fetchmailNoMail   = 1
	fetchmailSocket   = 2
	fetchmailAuthFail = 3
	fetchmailError    = 7
)

// fetchmail polls f once, keeping the messages on the server and handing
// each one to an MDA that appends it to mbox. fetchmail checks the
// certificate against the name it polls, so it polls "localhost" but
// connects to 127.0.0.1 (via), and is told the name to expect
// (sslcommonname).
func fetchmail(t *testing.T, bin string, f *fake, mbox string) ran {
	t.Helper()
	dir := t.TempDir()
	tlsOpts := map[string]string{
		// An empty sslproto turns off fetchmail's opportunistic STARTTLS.
		plaintext: `sslproto ''`,
		starttls:  `sslproto 'tls1.2+' sslcertck sslcertfile "` + f.ca + `" sslcommonname localhost`,
		implicit:  `ssl sslcertck sslcertfile "` + f.ca + `" sslcommonname localhost`,
	}[f.transport]
	rc := fmt.Sprintf(`set no bouncemail
set no syslog
poll localhost via 127.0.0.1 protocol IMAP port %s timeout %d
  user "%s" password "%s"
  %s
  keep
  mda "cat >> %s"
`, f.port(), int(clientTimeout.Seconds()), f.user(), f.password(), tlsOpts, mbox)
	path := filepath.Join(dir, "fetchmailrc")
	// fetchmail refuses a run control file others can read.
	write(t, path, []byte(rc), 0o600)
	return run(t, []string{"HOME=" + dir}, bin, "--fetchmailrc", path, "--idfile", filepath.Join(dir, "fetchids"), "--pidfile", filepath.Join(dir, "pid"), "--nosyslog")
}

func TestFetchmail(t *testing.T) {
	bin := need(t, "fetchmail", "fetchmail", "apt-get install fetchmail")

	t.Run("healthy", func(t *testing.T) {
		for _, transport := range []string{plaintext, starttls, implicit} {
			t.Run(transport, func(t *testing.T) {
				t.Parallel()
				f := startFake(t, "healthy", transport)
				res := record(t, "fetchmail", f, "the 13 unseen of 16 messages, once")
				for uid := imap.UID(1); uid <= 3; uid++ {
					if err := f.SetFlags(f.user(), "INBOX", uid, imap.FlagSeen); err != nil {
						t.Fatal(err)
					}
				}
				mbox := filepath.Join(f.dir, "mbox")
				if r := fetchmail(t, bin, f, mbox); r.code != 0 {
					t.Fatalf("fetchmail = exit %d, want 0; output:\n%s", r.code, r.output())
				}
				b, err := os.ReadFile(mbox)
				if err != nil {
					t.Fatal(err)
				}
				// fetchmail adds one Received line of its own to each message.
				if n := strings.Count(string(b), "with IMAP (fetchmail-"); n != 13 || strings.Contains(string(b), "Subject: Lunch on Thursday?") {
					t.Fatalf("fetchmail delivered %d messages, want the 13 unseen and not UID 1", n)
				}
				// It marked them seen: a second poll finds nothing new.
				if r := fetchmail(t, bin, f, mbox); r.code != fetchmailNoMail {
					t.Fatalf("second fetchmail = exit %d, want %d (no mail); output:\n%s", r.code, fetchmailNoMail, r.output())
				}
				res.got = "13 delivered to the MDA; the second poll: exit 1, no mail"
			})
		}
	})

	for _, tc := range []struct {
		scenario string
		want     failure
	}{
		{"login-rejected", failure{fetchmailAuthFail, "Authorization failure on alice@127.0.0.1"}},
		{"wrong-password", failure{fetchmailAuthFail, "Authorization failure on alice@127.0.0.1"}},
		{"auth-expired", failure{fetchmailAuthFail, "Authorization failure on alice@127.0.0.1"}},
		// fetchmail honours LOGINDISABLED and has no other method left.
		{"login-disabled", failure{fetchmailAuthFail, "we've run out of authentication methods and cannot log in"}},
		{"expired-cert", failure{fetchmailSocket, "Server certificate verification error: certificate has expired"}},
		{"self-signed-cert", failure{fetchmailSocket, "Server certificate verification error: self-signed certificate"}},
		{"wrong-host-cert", failure{fetchmailSocket, "Server CommonName mismatch: mail.example.net != localhost"}},
		// TLS is required (sslproto), so no STARTTLS is fatal.
		{"no-starttls", failure{fetchmailSocket, "upgrade to TLS failed"}},
		{"bye-greeting", failure{fetchmailSocket, "Received BYE response from IMAP server"}},
		{"silent-server", failure{fetchmailSocket, "timeout after 2 seconds waiting for server localhost"}},
		{"dropped-socket", failure{fetchmailSocket, "socket error while fetching from alice@localhost"}},
		{"truncated-literal", failure{fetchmailSocket, "socket error while fetching from alice@localhost"}},
		{"select-nonexistent", failure{fetchmailError, "mailbox selection failed"}},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			f := startFake(t, tc.scenario, "")
			expectFailure(t, "fetchmail", f, tc.want, func() ran { return fetchmail(t, bin, f, filepath.Join(f.dir, "mbox")) })
		})
	}
}
