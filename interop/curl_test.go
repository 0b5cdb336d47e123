//go:build interop

package interop

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// curlURL is the imap:// or imaps:// URL of path on f. curl checks IP
// addresses against the certificate's IP names, which the fake server's
// certificates carry, so 127.0.0.1 serves for every transport.
func curlURL(f *fake, path string) string {
	scheme := "imap"
	if f.transport == implicit {
		scheme = "imaps"
	}
	return fmt.Sprintf("%s://%s/%s", scheme, f.Addr(), path)
}

// curl runs curl against f with its own timeout, the CA trusted and, for
// STARTTLS, TLS required (--ssl-reqd: a customer who asked for TLS must
// not fall back to plaintext).
func curl(t *testing.T, bin string, f *fake, path string, args ...string) ran {
	t.Helper()
	base := []string{"--silent", "--show-error", "--max-time", fmt.Sprint(clientTimeout.Seconds()), "--user", f.user() + ":" + f.password()}
	if f.ca != "" {
		base = append(base, "--cacert", f.ca)
	}
	if f.transport == starttls {
		base = append(base, "--ssl-reqd")
	}
	return run(t, nil, bin, append(append(base, args...), curlURL(f, path))...)
}

func TestCurl(t *testing.T) {
	bin := need(t, "curl", "curl", "apt-get install curl")

	// full runs a script's session, one curl per step; the server keeps
	// the state between them. delim is the server's hierarchy delimiter.
	full := func(t *testing.T, f *fake, delim string) {
		res := record(t, "curl", f, "list, fetch, flags set and cleared, append, expunge")
		msg := filepath.Join(f.dir, "append.eml")
		write(t, msg, []byte("From: curl <curl@example.com>\r\nTo: alice@localhost\r\nSubject: appended by curl\r\n\r\nHello.\r\n"), 0o644)
		steps := []struct {
			name, path string
			args       []string
			want       string
		}{
			{"list", "", nil, `"` + delim + `" INBOX`},
			{"fetch", "INBOX;UID=1", nil, "Subject: Lunch on Thursday?"},
			{"flag", "INBOX", []string{"--request", `UID STORE 1 +FLAGS (\Flagged)`}, `\Flagged`},
			{"unflag", "INBOX", []string{"--request", `UID STORE 1 -FLAGS (\Flagged)`}, `FLAGS (\Seen)`},
			{"append", "INBOX", []string{"--upload-file", msg}, ""},
			{"search", "INBOX", []string{"--request", `UID SEARCH SUBJECT "appended by curl"`}, "* SEARCH 17"},
			{"delete", "INBOX", []string{"--request", `UID STORE 17 +FLAGS (\Deleted)`}, `\Deleted`},
			{"expunge", "INBOX", []string{"--request", "EXPUNGE"}, "* 17 EXPUNGE"},
		}
		var done []string
		for _, st := range steps {
			r := curl(t, bin, f, st.path, st.args...)
			if r.code != 0 || !strings.Contains(r.stdout, st.want) {
				t.Fatalf("curl %s = exit %d, want 0 and %q; output:\n%s", st.name, r.code, st.want, r.output())
			}
			done = append(done, st.name)
		}
		res.got = strings.Join(done, ", ")
	}
	t.Run("healthy", func(t *testing.T) {
		for _, transport := range []string{plaintext, starttls, implicit} {
			t.Run(transport, func(t *testing.T) {
				t.Parallel()
				full(t, startFake(t, "healthy", transport), "/")
			})
		}
	})
	t.Run("flavours", func(t *testing.T) {
		for _, fl := range flavours {
			t.Run(fl.name, func(t *testing.T) {
				t.Parallel()
				delim := "/"
				if fl.name == "courier" {
					delim = "."
				}
				full(t, startFlavour(t, fl.name, fl.transport), delim)
			})
		}
	})

	for _, tc := range []struct {
		scenario string
		path     string
		want     failure
	}{
		// 67 CURLE_LOGIN_DENIED
		{"login-rejected", "INBOX;UID=1", failure{67, "Login denied"}},
		{"wrong-password", "INBOX;UID=1", failure{67, "Login denied"}},
		// 60 CURLE_PEER_FAILED_VERIFICATION, with OpenSSL's reason
		{"expired-cert", "", failure{60, "certificate has expired"}},
		{"self-signed-cert", "", failure{60, "self-signed certificate"}},
		{"wrong-host-cert", "", failure{60, "no alternative certificate subject name matches target host name '127.0.0.1'"}},
		{"untrusted-ca-cert", "", failure{60, "unable to get local issuer certificate"}},
		// 64 CURLE_USE_SSL_FAILED: --ssl-reqd and no way to TLS
		{"no-starttls", "", failure{64, "STARTTLS not available"}},
		{"starttls-refused", "", failure{64, "STARTTLS denied"}},
		// 8 CURLE_WEIRD_SERVER_REPLY
		{"bye-greeting", "", failure{8, "Got unexpected imap-server response"}},
		// 28 CURLE_OPERATION_TIMEDOUT from --max-time
		{"silent-server", "", failure{28, "Operation timed out"}},
		// 56 CURLE_RECV_ERROR; 18 CURLE_PARTIAL_FILE
		{"dropped-socket", "INBOX;UID=1", failure{56, "response reading failed"}},
		{"truncated-literal", "INBOX;UID=1", failure{18, "transfer closed with"}},
		// 67 again: curl maps a refused SELECT to CURLE_LOGIN_DENIED
		{"select-nonexistent", "INBOX;UID=1", failure{67, "Select failed"}},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			f := startFake(t, tc.scenario, "")
			expectFailure(t, "curl", f, tc.want, func() ran { return curl(t, bin, f, tc.path) })
		})
	}
}
