package server

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/imapfault/imapfault/scenarios"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestAuthenticate covers every mechanism the fake server offers, on the
// wire, success and failure, after STARTTLS.
func TestAuthenticate(t *testing.T) {
	srv := NewTestBuiltin(t, "healthy")
	tests := []struct {
		name  string
		lines []string // sent in turn; "" answers a "+" challenge
		want  string   // prefix of the tagged reply
	}{
		{"plain ok", []string{"a AUTHENTICATE PLAIN " + b64("\x00alice\x00"+alicePassword)}, "a OK"},
		{"plain wrong password", []string{"a AUTHENTICATE PLAIN " + b64("\x00alice\x00nope")}, "a NO [AUTHENTICATIONFAILED]"},
		{"plain other authzid", []string{"a AUTHENTICATE PLAIN " + b64("bob\x00alice\x00"+alicePassword)}, "a NO [AUTHORIZATIONFAILED]"},
		{"plain without SASL-IR", []string{"a AUTHENTICATE PLAIN", b64("\x00alice\x00" + alicePassword)}, "a OK"},
		{"xoauth2 ok", []string{"a AUTHENTICATE XOAUTH2 " + b64("user=alice\x01auth=Bearer ya29.alice-oauth-token\x01\x01")}, "a OK"},
		{"xoauth2 bad token", []string{"a AUTHENTICATE XOAUTH2 " + b64("user=alice\x01auth=Bearer expired\x01\x01"), ""}, "a NO [AUTHENTICATIONFAILED]"},
		{"oauthbearer ok", []string{"a AUTHENTICATE OAUTHBEARER " + b64("n,a=alice,\x01host=localhost\x01port=143\x01auth=Bearer ya29.alice-oauth-token\x01\x01")}, "a OK"},
		{"oauthbearer bad token", []string{"a AUTHENTICATE OAUTHBEARER " + b64("n,a=alice,\x01auth=Bearer nope\x01\x01"), b64("\x01")}, "a NO [AUTHENTICATIONFAILED]"},
		{"oauthbearer empty ack", []string{"a AUTHENTICATE OAUTHBEARER " + b64("n,a=alice,\x01auth=Bearer nope\x01\x01"), ""}, "a NO [AUTHENTICATIONFAILED]"},
		{"unknown mechanism", []string{"a AUTHENTICATE CRAM-MD5"}, "a NO"},
		{"login ok", []string{`a LOGIN alice "` + alicePassword + `"`}, "a OK"},
		{"login unknown user", []string{`a LOGIN mallory x`}, "a NO [AUTHENTICATIONFAILED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := dialWire(t, srv.Addr())
			w.line()
			w.startTLS(srv.ClientTLSConfig())
			var got string
			for _, l := range tt.lines {
				w.send(l)
				got = w.line()
				for strings.HasPrefix(got, "* ") {
					got = w.line()
				}
			}
			if strings.HasPrefix(got, "+") {
				if strings.Contains(tt.name, "bad token") {
					t.Fatalf("no JSON challenge consumed: %q", got)
				}
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("reply = %q, want prefix %q", got, tt.want)
			}
		})
	}
}

// TestOAuthFailureChallenge checks the RFC 7628 error challenge itself.
func TestOAuthFailureChallenge(t *testing.T) {
	srv := NewTestBuiltin(t, "healthy")
	w := dialWire(t, srv.Addr())
	w.line()
	w.startTLS(srv.ClientTLSConfig())
	w.send("a AUTHENTICATE OAUTHBEARER " + b64("n,a=alice,\x01auth=Bearer nope\x01\x01"))
	ch := w.line()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(ch, "+ "))
	if err != nil || !strings.Contains(string(raw), `"status":"invalid_token"`) {
		t.Fatalf("challenge = %q (%q, %v), want the JSON error", ch, raw, err)
	}
	w.send(b64("\x01"))
	if got := w.line(); !strings.HasPrefix(got, "a NO [AUTHENTICATIONFAILED]") {
		t.Errorf("after the ack: %q", got)
	}
}

// TestPlaintextAuthRefused: before STARTTLS the server advertises
// LOGINDISABLED and refuses LOGIN with PRIVACYREQUIRED.
func TestPlaintextAuthRefused(t *testing.T) {
	srv := NewTestBuiltin(t, "healthy")
	w := dialWire(t, srv.Addr())
	greeting := w.line()
	if !strings.Contains(greeting, "STARTTLS") || !strings.Contains(greeting, "LOGINDISABLED") || strings.Contains(greeting, "AUTH=") {
		t.Errorf("greeting = %q, want STARTTLS and LOGINDISABLED and no AUTH=", greeting)
	}
	w.send(`a LOGIN alice "` + alicePassword + `"`)
	if got := w.line(); !strings.HasPrefix(got, "a NO [PRIVACYREQUIRED]") {
		t.Errorf("LOGIN before TLS = %q", got)
	}
	for _, e := range srv.Transcript() {
		if strings.Contains(e.Text, alicePassword) {
			t.Errorf("transcript leaks the password: %v", e)
		}
	}
}

// TestAnyPassword: a recorded user logs in with whatever secret the
// client has, by every mechanism; other users still do not.
func TestAnyPassword(t *testing.T) {
	sc, err := scenarios.Parse("any.toml", []byte(`name = "any"
[server]
tls = "none"
auth_mechanisms = ["PLAIN", "XOAUTH2", "OAUTHBEARER"]
[[users]]
name = "alice"
any_password = true
[client]
password = "whatever"
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewTest(t, sc)
	tests := []struct {
		name string
		line string
		want string
	}{
		{"login", `a LOGIN alice "not the password"`, "a OK"},
		{"plain", "a AUTHENTICATE PLAIN " + b64("\x00alice\x00x"), "a OK"},
		{"xoauth2", "a AUTHENTICATE XOAUTH2 " + b64("user=alice\x01auth=Bearer anything\x01\x01"), "a OK"},
		{"oauthbearer", "a AUTHENTICATE OAUTHBEARER " + b64("n,a=alice,\x01auth=Bearer anything\x01\x01"), "a OK"},
		{"other user", "a LOGIN mallory x", "a NO [AUTHENTICATIONFAILED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := dialWire(t, srv.Addr())
			w.line()
			w.send(tt.line)
			got := w.line()
			for strings.HasPrefix(got, "* ") {
				got = w.line()
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("reply = %q, want prefix %q", got, tt.want)
			}
		})
	}
}
