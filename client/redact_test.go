package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestNoSecretInOutput(t *testing.T) {
	const (
		password = "S3cret-pa55word"
		token    = "ya29.tok3n-value"
	)
	echo := func(c *fconn, tag, args string) { c.send(tag + " NO [AUTHENTICATIONFAILED] you sent " + args) }
	tests := []struct {
		name string
		auth string
		caps string
		on   map[string]func(*fconn, string, string)
	}{
		{name: "login", auth: AuthLogin},
		{name: "login echoed", auth: AuthLogin, on: map[string]func(*fconn, string, string){"LOGIN": echo}},
		{name: "plain sasl-ir", auth: AuthPlain},
		{name: "plain echoed", auth: AuthPlain, on: map[string]func(*fconn, string, string){"AUTHENTICATE": echo}},
		{name: "plain continuation", auth: AuthPlain, caps: "IMAP4rev1 AUTH=PLAIN"},
		{name: "xoauth2", auth: AuthXOAuth2, caps: "IMAP4rev1 SASL-IR AUTH=XOAUTH2"},
		{name: "xoauth2 failed", auth: AuthXOAuth2, caps: "IMAP4rev1 SASL-IR AUTH=XOAUTH2",
			on: map[string]func(*fconn, string, string){"AUTHENTICATE": oauthFail(`{"status":"401"}`, "")}},
		{name: "oauthbearer", auth: AuthOAuthBearer, caps: "IMAP4rev1 AUTH=OAUTHBEARER"},
		{name: "oauthbearer failed", auth: AuthOAuthBearer, caps: "IMAP4rev1 SASL-IR AUTH=OAUTHBEARER",
			on: map[string]func(*fconn, string, string){"AUTHENTICATE": oauthFail(`{"status":"invalid_token"}`, "AQ==")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startFake(t, fakeConfig{caps: tt.caps, on: tt.on})
			var logs bytes.Buffer
			o := Options{
				Addr: srv.addr(), TLS: TLSNone, User: "alice", Password: password, Token: token, Auth: tt.auth,
				StepTimeout: 500 * time.Millisecond,
				Logger:      slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			}
			rep, err := Check(context.Background(), o)
			if err != nil {
				t.Fatalf("Check() error = %v", err)
			}
			js, err := json.Marshal(rep)
			if err != nil {
				t.Fatalf("json.Marshal(report) error = %v", err)
			}
			var transcript strings.Builder
			for _, e := range rep.Transcript {
				fmt.Fprintf(&transcript, "%s %s\n", e.Dir, e.Text)
			}
			if logs.Len() == 0 || transcript.Len() == 0 {
				t.Fatalf("no logs (%d bytes) or transcript (%d bytes) to search", logs.Len(), transcript.Len())
			}
			if !strings.Contains(transcript.String(), mask) {
				t.Errorf("transcript shows no mask:\n%s", transcript.String())
			}
			for _, secret := range secretForms(password, token, "alice") {
				for where, text := range map[string]string{"json": string(js), "logs": logs.String(), "transcript": transcript.String()} {
					if strings.Contains(text, secret) {
						t.Errorf("%s contains secret form %q:\n%s", where, secret, text)
					}
				}
			}
		})
	}
}

// secretForms lists the secrets and the encodings they travel in.
func secretForms(password, token, user string) []string {
	enc := base64.StdEncoding.EncodeToString
	return []string{
		password, token,
		enc([]byte(password)), enc([]byte(token)),
		enc([]byte("\x00" + user + "\x00" + password)),
		enc([]byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")),
		"Bearer " + token,
	}
}

func TestRedactor(t *testing.T) {
	r := newRedactor("hunter2", "", "ab")
	for in, want := range map[string]string{
		"LOGIN bob hunter2":      "LOGIN bob " + mask,
		`LOGIN bob "hunter2"`:    "LOGIN bob " + mask,
		"blob " + b64("hunter2"): "blob " + mask,
		`quoted "ab" and abc`:    "quoted " + mask + " and abc",
		"nothing to hide":        "nothing to hide",
	} {
		if got := r.redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
