package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imapfault/imapfault/scenarios"
)

// plainScenario is a minimal plaintext scenario with the given faults,
// written as a user would write the file.
func plainScenario(t testing.TB, faultsTOML string) *scenarios.Scenario {
	t.Helper()
	src := `
name = "test"
[[users]]
name = "alice"
password = "pw"
  [[users.mailboxes]]
  name = "INBOX"
    [[users.mailboxes.messages]]
    subject = "hello"
    body = "` + strings.Repeat("x", 500) + `"
` + faultsTOML
	sc, err := scenarios.Parse("test.toml", []byte(src), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return sc
}

// readAll reads what the server sends until it closes or goes quiet, and
// says which.
func readAll(t *testing.T, conn net.Conn, quiet time.Duration) (string, error) {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, 4096)
	for i := 0; i < 10000; i++ {
		conn.SetReadDeadline(time.Now().Add(quiet))
		n, err := conn.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String(), err
		}
	}
	return b.String(), nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestFaultsOnTheWire plays each action against a real connection and
// checks what a client sees.
func TestFaultsOnTheWire(t *testing.T) {
	tests := []struct {
		name   string
		faults string
		// script is sent line by line after the greeting was read (when
		// readGreeting is set).
		readGreeting bool
		script       []string
		check        func(t *testing.T, out string, err error, took time.Duration)
	}{
		{
			name:         "respond to LOGIN",
			faults:       "[[faults]]\nwhen = { command = \"LOGIN\" }\nrespond = \"NO [AUTHENTICATIONFAILED] Invalid credentials\"",
			readGreeting: true, script: []string{"a LOGIN alice pw"},
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				if !strings.Contains(out, "a NO [AUTHENTICATIONFAILED] Invalid credentials\r\n") {
					t.Errorf("got %q", out)
				}
			},
		},
		{
			name:         "second LOGIN only",
			faults:       "[[faults]]\nwhen = { command = \"LOGIN\", nth = 2 }\nrespond = \"NO [UNAVAILABLE] Try later\"",
			readGreeting: true, script: []string{"a LOGIN alice wrong", "b LOGIN alice pw"},
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				if !strings.Contains(out, "a NO [AUTHENTICATIONFAILED]") || !strings.Contains(out, "b NO [UNAVAILABLE] Try later") {
					t.Errorf("got %q", out)
				}
			},
		},
		{
			name:   "delay greeting",
			faults: "[[faults]]\nwhen = { phase = \"greeting\" }\ndelay = \"300ms\"",
			check: func(t *testing.T, out string, err error, took time.Duration) {
				if !strings.HasPrefix(out, "* OK") || took < 300*time.Millisecond {
					t.Errorf("greeting %q after %v, want it after >= 300ms", out, took)
				}
			},
		},
		{
			name:   "close at accept",
			faults: "[[faults]]\ndrop = \"fin\"",
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				if out != "" || !errors.Is(err, io.EOF) {
					t.Errorf("got %q, %v; want EOF and no bytes", out, err)
				}
			},
		},
		{
			name:   "reset at accept",
			faults: "[[faults]]\ndrop = \"rst\"",
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				if !errors.Is(err, syscall.ECONNRESET) {
					t.Errorf("got %q, %v; want a reset", out, err)
				}
			},
		},
		{
			name:   "silent after accept",
			faults: "[[faults]]\nstall = true",
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				if out != "" || !isTimeout(err) {
					t.Errorf("got %q, %v; want silence", out, err)
				}
			},
		},
		{
			name:   "smtp banner",
			faults: "[[faults]]\nwrite = \"220 mail.example.com ESMTP Postfix\\r\\n\"\n[[faults]]\ndrop = \"fin\"",
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				if out != "220 mail.example.com ESMTP Postfix\r\n" {
					t.Errorf("got %q", out)
				}
			},
		},
		{
			name:   "bye greeting",
			faults: "[[faults]]\ngreeting = \"Too many connections from your address\"\nstatus = \"BYE\"",
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				if out != "* BYE Too many connections from your address\r\n" || !errors.Is(err, io.EOF) {
					t.Errorf("got %q, %v", out, err)
				}
			},
		},
		{
			name:         "no IDLE advertised",
			faults:       "[[faults]]\ncapabilities = { remove = [\"IDLE\"] }",
			readGreeting: true, script: []string{"a LOGIN alice pw", "b CAPABILITY"},
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				if strings.Contains(out, "IDLE") || !strings.Contains(out, "* CAPABILITY IMAP4rev1") {
					t.Errorf("got %q", out)
				}
			},
		},
		{
			name:         "truncated literal",
			faults:       "[[faults]]\nwhen = { command = \"FETCH\" }\ntruncate = 10",
			readGreeting: true, script: []string{"a LOGIN alice pw", "b SELECT INBOX", "c FETCH 1 BODY.PEEK[TEXT]"},
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				i := strings.Index(out, "BODY[TEXT] {")
				if i < 0 || !errors.Is(err, io.EOF) {
					t.Fatalf("got %q, %v", out, err)
				}
				if rest := out[strings.Index(out[i:], "}\r\n")+i+3:]; len(rest) != 10 {
					t.Errorf("literal carried %d bytes, want 10: %q", len(rest), rest)
				}
			},
		},
		{
			name:   "lf line endings",
			faults: "[[faults]]\nline_endings = \"lf\"",
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				if !strings.HasSuffix(out, "ready\n") || strings.Contains(out, "\r") {
					t.Errorf("got %q", out)
				}
			},
		},
		{
			name:         "bye after login",
			faults:       "[[faults]]\nwhen = { command = \"LOGIN\", reply = \"OK\" }\nrespond = \"BYE Server shutting down\"",
			readGreeting: true, script: []string{"a LOGIN alice pw"},
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				if !strings.Contains(out, "a OK") || !strings.HasSuffix(out, "* BYE Server shutting down\r\n") || !errors.Is(err, io.EOF) {
					t.Errorf("got %q, %v", out, err)
				}
			},
		},
		{
			name:   "drop after bytes",
			faults: "[[faults]]\nwhen = { after_bytes = 20 }\ndrop = \"fin\"",
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				if len(out) != 20 || !errors.Is(err, io.EOF) {
					t.Errorf("got %d bytes %q, %v; want 20 then EOF", len(out), out, err)
				}
			},
		},
		{
			name:         "permanentflags emptied",
			faults:       "[[faults]]\nrewrite = { match = 'PERMANENTFLAGS \\([^)]*\\)', replace = 'PERMANENTFLAGS ()' }",
			readGreeting: true, script: []string{"a LOGIN alice pw", "b SELECT INBOX"},
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				if !strings.Contains(out, "[PERMANENTFLAGS ()]") {
					t.Errorf("got %q", out)
				}
			},
		},
		{
			name:   "fail first connection only",
			faults: "[[faults]]\nwhen = { first = 1 }\ndrop = \"fin\"",
			check: func(t *testing.T, out string, err error, _ time.Duration) {
				if out != "" {
					t.Errorf("first connection got %q, want nothing", out)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := NewTest(t, plainScenario(t, tt.faults))
			start := time.Now()
			conn, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
			if err != nil {
				// A reset can beat the dialer's return on loopback.
				tt.check(t, "", err, time.Since(start))
				return
			}
			t.Cleanup(func() { conn.Close() })
			w := &wire{t: t, conn: conn, r: bufio.NewReader(conn)}
			if tt.readGreeting {
				w.line()
			}
			for _, l := range tt.script {
				w.send(l)
			}
			out, err := readAll(t, w.conn, 700*time.Millisecond)
			if w.r.Buffered() > 0 {
				t.Fatalf("test bug: bytes left in the reader")
			}
			tt.check(t, out, err, time.Since(start))
		})
	}
}
