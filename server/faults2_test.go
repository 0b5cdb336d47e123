package server

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// TestTLSFaults drives the TLS-layer actions with a real TLS client.
func TestTLSFaults(t *testing.T) {
	certs, err := NewCerts()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		faults string
		client func(*tls.Config)
		check  func(t *testing.T, st tls.ConnectionState, err error, took time.Duration)
	}{
		{
			name:   "legacy versions refused by a current client",
			faults: `tls = { min_version = "1.0", max_version = "1.1" }`,
			client: func(c *tls.Config) { c.MinVersion = tls.VersionTLS12 },
			check: func(t *testing.T, _ tls.ConnectionState, err error, _ time.Duration) {
				var alert tls.AlertError
				if !errors.As(err, &alert) && (err == nil || !strings.Contains(err.Error(), "protocol version")) {
					t.Errorf("handshake = %v, want a protocol version failure", err)
				}
			},
		},
		{
			name:   "legacy versions negotiated by an old client",
			faults: `tls = { min_version = "1.0", max_version = "1.1" }`,
			client: func(c *tls.Config) { c.MinVersion = tls.VersionTLS10 },
			check: func(t *testing.T, st tls.ConnectionState, err error, _ time.Duration) {
				if err != nil || st.Version != tls.VersionTLS11 {
					t.Errorf("handshake = %v, version %x; want TLS 1.1", err, st.Version)
				}
			},
		},
		{
			name:   "handshake refused with an alert",
			faults: `tls = { handshake = "abort" }`,
			check: func(t *testing.T, _ tls.ConnectionState, err error, _ time.Duration) {
				// crypto/tls reports a received alert as text only.
				if err == nil || !strings.Contains(err.Error(), "remote error: tls: handshake failure") {
					t.Errorf("handshake = %v, want the handshake_failure alert", err)
				}
			},
		},
		{
			name:   "handshake stalled",
			faults: `tls = { handshake = "stall" }`,
			check: func(t *testing.T, _ tls.ConnectionState, err error, took time.Duration) {
				if !isTimeout(err) || took < 400*time.Millisecond {
					t.Errorf("handshake = %v after %v, want a timeout", err, took)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc := tlsScenario(t, "implicit", "valid")
			withFault := plainScenario(t, "[[faults]]\n"+tt.faults)
			sc.Faults = withFault.Faults
			srv, err := New(sc, Options{Certs: certs})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			cfg := srv.ClientTLSConfig()
			if tt.client != nil {
				tt.client(cfg)
			}
			conn := dialWire(t, srv.Addr())
			conn.conn.SetDeadline(time.Now().Add(500 * time.Millisecond))
			tc := tls.Client(conn.conn, cfg)
			start := time.Now()
			err = tc.Handshake()
			tt.check(t, tc.ConnectionState(), err, time.Since(start))
		})
	}
}

// TestMoreFaultsOnTheWire covers the actions and triggers the first table
// does not: ignore, every, PREAUTH, added capabilities, repeated writes,
// per-connection rewrites and run-wide counting across connections.
func TestMoreFaultsOnTheWire(t *testing.T) {
	t.Run("ignore leaves IDLE unanswered", func(t *testing.T) {
		t.Parallel()
		srv := NewTest(t, plainScenario(t, "[[faults]]\nwhen = { command = \"IDLE\" }\nignore = true"))
		w := dialWire(t, srv.Addr())
		w.line()
		w.send("a LOGIN alice pw")
		w.until("a ")
		w.send("b IDLE")
		out, err := readAll(t, w.conn, 300*time.Millisecond)
		if out != "" || !isTimeout(err) {
			t.Errorf("after IDLE: %q, %v; want silence", out, err)
		}
	})
	t.Run("keepalives every interval while idling", func(t *testing.T) {
		t.Parallel()
		srv := NewTest(t, plainScenario(t, "[[faults]]\nwhen = { phase = \"idle\", every = \"50ms\" }\nrespond = \"OK Still here\""))
		w := dialWire(t, srv.Addr())
		w.line()
		w.send("a LOGIN alice pw")
		w.until("a ")
		w.send("b SELECT INBOX")
		w.until("b ")
		w.send("c IDLE")
		if got := w.line(); got != "+ idling" {
			t.Fatalf("IDLE = %q", got)
		}
		// The keepalive repeats: wait for three of them (bounded, not timed:
		// a loaded machine may fire the 50ms timer late, but fires it).
		w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		var b strings.Builder
		buf := make([]byte, 512)
		for strings.Count(b.String(), "* OK Still here\r\n") < 3 {
			n, err := w.conn.Read(buf)
			b.WriteString(string(buf[:n]))
			if err != nil {
				t.Fatalf("after %q: %v; want three keepalives", b.String(), err)
			}
		}
		if out := strings.ReplaceAll(b.String(), "* OK Still here\r\n", ""); out != "" {
			t.Errorf("besides the keepalives: %q", out)
		}
	})
	t.Run("PREAUTH greeting", func(t *testing.T) {
		t.Parallel()
		srv := NewTest(t, plainScenario(t, "[[faults]]\ngreeting = \"alice logged in\"\nstatus = \"PREAUTH\""))
		w := dialWire(t, srv.Addr())
		if g := w.line(); !strings.HasPrefix(g, "* PREAUTH [CAPABILITY ") || !strings.HasSuffix(g, "alice logged in") {
			t.Errorf("greeting = %q", g)
		}
		w.send("a SELECT INBOX")
		if got := w.until("a "); !strings.HasPrefix(got[len(got)-1], "a OK") {
			t.Errorf("SELECT without LOGIN after PREAUTH: %q", got)
		}
	})
	t.Run("capability added", func(t *testing.T) {
		t.Parallel()
		srv := NewTest(t, plainScenario(t, "[[faults]]\ncapabilities = { add = [\"LOGINDISABLED\"] }"))
		w := dialWire(t, srv.Addr())
		if g := w.line(); !strings.Contains(g, " LOGINDISABLED]") {
			t.Errorf("greeting = %q", g)
		}
	})
	t.Run("overlong line by repeat", func(t *testing.T) {
		t.Parallel()
		srv := NewTest(t, plainScenario(t, "[[faults]]\nwhen = { phase = \"greeting\" }\nwrite = \"xxxxxxxxxx\"\nrepeat = 10000"))
		w := dialWire(t, srv.Addr())
		out, _ := readAll(t, w.conn, 300*time.Millisecond)
		if !strings.HasPrefix(out, strings.Repeat("x", 100000)+"* OK") {
			t.Errorf("got %d bytes starting %.20q, want 100000 x then the greeting", len(out), out)
		}
	})
	t.Run("rewrite with the connection number", func(t *testing.T) {
		t.Parallel()
		srv := NewTest(t, plainScenario(t, "[[faults]]\nrewrite = { match = 'UIDVALIDITY \\d+', replace = 'UIDVALIDITY 10${connection}' }"))
		for conn := 1; conn <= 2; conn++ {
			w := dialWire(t, srv.Addr())
			w.line()
			w.send("a LOGIN alice pw")
			w.until("a ")
			w.send("b SELECT INBOX")
			got := strings.Join(w.until("b "), "\n")
			if want := "[UIDVALIDITY 10" + string(rune('0'+conn)) + "]"; !strings.Contains(got, want) {
				t.Errorf("connection %d: %q lacks %s", conn, got, want)
			}
		}
	})
	t.Run("first counts LOGIN attempts across connections", func(t *testing.T) {
		t.Parallel()
		srv := NewTest(t, plainScenario(t, "[[faults]]\nwhen = { command = \"LOGIN\", first = 2 }\nrespond = \"NO [UNAVAILABLE] try again\""))
		var got []string
		for i := 0; i < 3; i++ {
			w := dialWire(t, srv.Addr())
			w.line()
			w.send("a LOGIN alice pw")
			lines := w.until("a ")
			got = append(got, lines[len(lines)-1][:4])
		}
		if strings.Join(got, ",") != "a NO,a NO,a OK" {
			t.Errorf("three attempts answered %v, want NO, NO, OK", got)
		}
	})
}

// TestSlowSetupHoldsNoOne: a connection whose set-up waits (a fault at
// connect, an implicit TLS handshake the client never starts) must not
// hold up the next client's greeting. The set-up of the other runs
// happens in the accept loop, so this is what keeps those apart.
func TestSlowSetupHoldsNoOne(t *testing.T) {
	tests := []struct {
		name string
		toml string
		dial func(addr string, cfg *tls.Config) (net.Conn, error)
	}{
		{
			name: "fault at connect",
			toml: "[[faults]]\nwhen = { connection = 1 }\ndelay = \"10s\"\n",
			dial: func(addr string, _ *tls.Config) (net.Conn, error) { return net.Dial("tcp", addr) },
		},
		{
			name: "implicit TLS",
			toml: "[server]\ntls = \"implicit\"\n",
			dial: func(addr string, cfg *tls.Config) (net.Conn, error) {
				return tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, cfg)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := NewTest(t, plainScenario(t, tt.toml))
			first, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer first.Close()
			start := time.Now()
			second, err := tt.dial(srv.Addr(), srv.ClientTLSConfig())
			if err != nil {
				t.Fatal(err)
			}
			defer second.Close()
			second.SetReadDeadline(time.Now().Add(2 * time.Second))
			line, err := bufio.NewReader(second).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "* OK") {
				t.Fatalf("second client's greeting after %v: %q, %v; want one while the first waits", time.Since(start), line, err)
			}
		})
	}
}
