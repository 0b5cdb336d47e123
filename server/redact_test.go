package server

import (
	"bytes"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
)

// TestTranscriptMasksSecrets logs in every way a client can and checks
// that neither the kept transcript nor the live one (serve -v) holds the
// secret, in the clear or in base64, while the user name stays visible.
func TestTranscriptMasksSecrets(t *testing.T) {
	const secret = "Tr0ub4dor&3" // password and token alike
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name  string
		steps []string // sent in turn, each after the previous reply or "+"
	}{
		{"login atom", []string{"a LOGIN alice " + secret}},
		{"login quoted", []string{`a LOGIN alice "` + secret + ` x"`}},
		{"login literal", []string{"a LOGIN alice {11}", secret}},
		{"login literal+", []string{"a LOGIN alice {11+}\r\n" + secret}},
		{"login user literal, password inline", []string{"a LOGIN {5}", "alice " + secret}},
		{"login both literals", []string{"a LOGIN {5}", "alice {11}", secret}},
		{"plain initial response", []string{"a AUTHENTICATE PLAIN " + b64("\x00alice\x00"+secret)}},
		{"plain continuation", []string{"a AUTHENTICATE PLAIN", b64("\x00alice\x00" + secret)}},
		{"xoauth2 initial response", []string{"a AUTHENTICATE XOAUTH2 " + b64("user=alice\x01auth=Bearer "+secret+"\x01\x01")}},
		{"xoauth2 continuation", []string{"a AUTHENTICATE XOAUTH2", b64("user=alice\x01auth=Bearer " + secret + "\x01\x01")}},
		{"oauthbearer initial response", []string{"a AUTHENTICATE OAUTHBEARER " + b64("n,a=alice,\x01auth=Bearer "+secret+"\x01\x01")}},
		{"oauthbearer continuation", []string{"a AUTHENTICATE OAUTHBEARER", b64("n,a=alice,\x01auth=Bearer " + secret + "\x01\x01")}},
		{"oauthbearer rejected, then acknowledged", []string{"a AUTHENTICATE OAUTHBEARER " + b64("n,a=alice,\x01auth=Bearer x"+secret+"\x01\x01"), b64("\x01")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := plainScenario(t, "")
			sc.Users[0].Password = secret
			sc.Users[0].Tokens = []string{secret}
			sc.Server.AuthMechanisms = []string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}
			live := &syncBuffer{}
			srv, err := New(sc, Options{Transcript: live})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			w := dialWire(t, srv.Addr())
			w.line()
			for _, s := range tt.steps {
				w.send(s)
				if l := w.line(); !strings.HasPrefix(l, "+") && !strings.HasPrefix(l, "a OK") && !strings.HasPrefix(l, "a NO") {
					t.Fatalf("after %q: %q", s, l)
				}
			}
			w.send("z LOGOUT")
			w.until("z ")
			srv.Close()

			var kept strings.Builder
			for _, e := range srv.Transcript() {
				kept.WriteString(e.String() + "\n")
			}
			for where, text := range map[string]string{"Transcript()": kept.String(), "live transcript": live.String()} {
				for _, leak := range leaks(secret, tt.steps) {
					if strings.Contains(text, leak) {
						t.Errorf("%s holds %q:\n%s", where, leak, text)
					}
				}
				if strings.Contains(tt.steps[0], "alice") && !strings.Contains(text, "alice") {
					t.Errorf("%s lost the user name:\n%s", where, text)
				}
			}
		})
	}
}

// leaks lists what a transcript must not hold: the secret, and every SASL
// blob the client sent.
func leaks(secret string, steps []string) []string {
	out := []string{secret}
	for _, s := range steps {
		for _, f := range strings.Fields(s) {
			if _, err := base64.StdEncoding.DecodeString(f); err == nil && len(f) >= 16 {
				out = append(out, f)
			}
		}
	}
	return out
}

// syncBuffer is a bytes.Buffer the server's connections may write to at
// once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
