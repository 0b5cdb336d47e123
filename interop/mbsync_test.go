//go:build interop

package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// mbsyncConfig writes an mbsync configuration that syncs f's INBOX both
// ways into the Maildir maildir, expunging on both sides, and returns
// its path. mbsync checks only DNS names against the certificate, so it
// connects to "localhost", which the fake server's certificates name.
func mbsyncConfig(t *testing.T, f *fake, maildir string) string {
	t.Helper()
	sslType := map[string]string{plaintext: "None", starttls: "STARTTLS", implicit: "IMAPS"}[f.transport]
	conf := fmt.Sprintf(`IMAPAccount acct
Host localhost
Port %s
User %s
Pass "%s"
SSLType %s
Timeout %d
`, f.port(), f.user(), f.password(), sslType, int(clientTimeout.Seconds()))
	if f.ca != "" {
		conf += "CertificateFile " + f.ca + "\n"
	}
	conf += fmt.Sprintf(`
IMAPStore far
Account acct

MaildirStore near
Path %[1]s/
Inbox %[1]s/INBOX

Channel inbox
Far :far:
Near :near:
Patterns INBOX
Create Near
Expunge Both
SyncState *
`, maildir)
	path := filepath.Join(t.TempDir(), "mbsyncrc")
	write(t, path, []byte(conf), 0o600)
	return path
}

// mbsync syncs f's INBOX into maildir, a folder of t.TempDir(), which it
// makes: mbsync creates the mailbox folders but not the store's own.
func mbsync(t *testing.T, bin string, f *fake, maildir string) ran {
	t.Helper()
	if err := os.MkdirAll(maildir, 0o700); err != nil {
		t.Fatal(err)
	}
	return run(t, nil, bin, "--config", mbsyncConfig(t, f, maildir), "--all")
}

// maildirFlags maps each message's Subject to its Maildir flags (the
// letters after ":2,"). Subjects, not the ",U=" in the names, say which
// message is which: those are the Maildir's own UIDs, not the server's.
func maildirFlags(t *testing.T, inbox string) map[string]string {
	t.Helper()
	flags := regexp.MustCompile(`:2,([A-Z]*)$`)
	subject := regexp.MustCompile(`(?m)^Subject: (.*?)\r?$`)
	out := map[string]string{}
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(filepath.Join(inbox, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(inbox, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if m := subject.FindSubmatch(b); m != nil {
				out[string(m[1])] = flags.FindStringSubmatch(e.Name())[1]
			}
		}
	}
	return out
}

func TestMbsync(t *testing.T) {
	bin := need(t, "mbsync", "mbsync", "apt-get install isync")

	t.Run("healthy", func(t *testing.T) {
		for _, transport := range []string{plaintext, starttls, implicit} {
			t.Run(transport, func(t *testing.T) {
				t.Parallel()
				f := startFake(t, "healthy", transport)
				res := record(t, "mbsync", f, `INBOX to a Maildir with \Seen as :2,S; local flags, a new message and a deletion synced back`)
				if err := f.SetFlags(f.user(), "INBOX", 2, imap.FlagSeen); err != nil {
					t.Fatal(err)
				}
				maildir := filepath.Join(t.TempDir(), "mail")
				if r := mbsync(t, bin, f, maildir); r.code != 0 {
					t.Fatalf("mbsync = exit %d, want 0; output:\n%s", r.code, r.output())
				}
				inbox := filepath.Join(maildir, "INBOX")
				got := maildirFlags(t, inbox)
				if len(got) != 16 || got["Your invoice for February 2026 is ready"] != "S" || got["Lunch on Thursday?"] != "" {
					t.Fatalf("Maildir subjects and flags = %v, want 16 messages, UID 2 (the invoice) seen (S) and UID 1 not", got)
				}

				// Change the Maildir as a mail reader would: flag one
				// message, delete another, drop in a new one. The next sync
				// must carry all three to the server.
				for _, sub := range []string{"cur", "new"} {
					files, _ := filepath.Glob(filepath.Join(inbox, sub, "*"))
					for _, p := range files {
						b, _ := os.ReadFile(p)
						var err error
						switch {
						case strings.Contains(string(b), "Subject: Q1 report draft for review"):
							// Unseen, so in new/ and named "...:2,": add the flags.
							err = os.Rename(p, filepath.Join(inbox, "cur", filepath.Base(p)+"FS"))
						case strings.Contains(string(b), "Subject: New logo proposal"):
							err = os.Remove(p)
						}
						if err != nil {
							t.Fatal(err)
						}
					}
				}
				write(t, filepath.Join(inbox, "new", "1.local"), []byte("From: mbsync <mbsync@example.com>\r\nTo: alice@localhost\r\nSubject: written by mbsync\r\nMessage-ID: <mbsync-1@example.com>\r\n\r\nHello.\r\n"), 0o644)
				// mbsync sleeps a second before it reads a Maildir changed
				// in the current second ("sleeping due to recent directory
				// modification"), and its socket timeout ran out in that
				// sleep once in CI: date the changes two seconds back.
				past := time.Now().Add(-2 * time.Second)
				for _, dir := range []string{inbox, filepath.Join(inbox, "cur"), filepath.Join(inbox, "new"), filepath.Join(inbox, "tmp")} {
					if err := os.Chtimes(dir, past, past); err != nil {
						t.Fatal(err)
					}
				}
				if r := mbsync(t, bin, f, maildir); r.code != 0 {
					t.Fatalf("second mbsync = exit %d, want 0; output:\n%s", r.code, r.output())
				}

				// A fresh Maildir shows what the server now holds.
				fresh := filepath.Join(t.TempDir(), "mail")
				if r := mbsync(t, bin, f, fresh); r.code != 0 {
					t.Fatalf("mbsync into a fresh Maildir = exit %d, want 0; output:\n%s", r.code, r.output())
				}
				got = maildirFlags(t, filepath.Join(fresh, "INBOX"))
				_, kept := got["New logo proposal"]
				_, appended := got["written by mbsync"]
				if len(got) != 16 || got["Q1 report draft for review"] != "FS" || kept || !appended {
					t.Fatalf("server after the sync back = %v, want the Q1 report flagged and seen (FS), the logo proposal expunged, the new message there", got)
				}
				res.got = "16 messages, the seen one :2,S; then one :2,FS, one expunged, one appended"
			})
		}
	})

	for _, tc := range []struct {
		scenario string
		want     string
	}{
		{"login-rejected", "IMAP command 'AUTHENTICATE PLAIN <authdata>' returned an error: NO [AUTHENTICATIONFAILED] Invalid credentials"},
		{"wrong-password", "returned an error: NO [AUTHENTICATIONFAILED] Authentication failed"},
		{"expired-cert", "certificate has expired"},
		{"self-signed-cert", "self-signed certificate"},
		{"wrong-host-cert", "Error, certificate owner does not match hostname localhost"},
		{"no-starttls", "IMAP error: SSL support not available"},
		{"bye-greeting", "IMAP error: unexpected BYE response: Too many connections from your IP address"},
		{"silent-server", "timeout"},
		// mbsync sees the close below TLS, as from a killed server process.
		{"dropped-socket", "unexpected eof while reading"},
		{"truncated-literal", "unexpected eof while reading"},
		{"select-nonexistent", "far side box INBOX cannot be opened"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			f := startFake(t, tc.scenario, "")
			expectFailure(t, "mbsync", f, failure{1, tc.want}, func() ran { return mbsync(t, bin, f, filepath.Join(t.TempDir(), "mail")) })
		})
	}
}
