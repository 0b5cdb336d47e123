package recorder

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/relay"
	"github.com/imapfault/imapfault/replay"
	"github.com/imapfault/imapfault/scenarios"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// ev is one call to an Observer, ms after the connection opened.
type ev struct {
	ms   int
	from relay.Side // 0: the TLS call; with close set, Closed
	data string
	// close, with from, is Closed(by = from, err).
	close bool
	err   error
}

func c(ms int, s string) ev { return ev{ms: ms, from: relay.Client, data: s} }
func u(ms int, s string) ev { return ev{ms: ms, from: relay.Upstream, data: s} }
func tlsUp(ms int) ev       { return ev{ms: ms} }
func closedBy(ms int, by relay.Side, err error) ev {
	return ev{ms: ms, from: by, close: true, err: err}
}

// record plays each connection's events into a Recording; split feeds
// every byte in its own call, as a slow network would.
func record(opts Options, split bool, conns ...[]ev) *Recording {
	opts.Now = func() time.Time { return t0 }
	r := New(opts)
	for _, evs := range conns {
		o := r.Observer(r.Connections() + 1)
		for _, e := range evs {
			at := t0.Add(time.Duration(e.ms) * time.Millisecond)
			switch {
			case e.close:
				o.Closed(at, e.from, e.err)
			case e.from == 0:
				o.TLS(at)
			case split:
				for i := range len(e.data) {
					o.Bytes(at, e.from, []byte{e.data[i]})
				}
			default:
				o.Bytes(at, e.from, []byte(e.data))
			}
		}
	}
	return r
}

func fileOf(t *testing.T, r *Recording) *replay.File {
	t.Helper()
	r.mu.Lock()
	conns := r.conns
	r.mu.Unlock()
	snaps := make([]*Conn, len(conns))
	for i, c := range conns {
		snaps[i] = c.snapshot()
	}
	return r.file(snaps)
}

// loads checks that the recording writes a scenario that loads.
func loads(t *testing.T, r *Recording) []byte {
	t.Helper()
	src, err := r.Scenario()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scenarios.Parse("recorded.toml", src, nil); err != nil {
		t.Fatalf("the recorded scenario does not load: %v\n%s", err, src)
	}
	return src
}

const greeting = "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.\r\n"

func TestRecording(t *testing.T) {
	tests := []struct {
		name      string
		conns     [][]ev
		want      *replay.Replay
		users     []string
		mailboxes []replay.Mailbox
		tls       string
	}{
		{
			name: "a session: scripted answers, state left to the server, literals inline",
			conns: [][]ev{{
				u(1500, greeting),
				c(1600, "a1 CAPABILITY\r\n"), u(1601, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK done\r\n"),
				c(1700, "a2 LOGIN alice \"s3cret\"\r\n"), u(2700, "a2 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"),
				c(2800, "a3 LIST \"\" \"*\"\r\n"), u(2801, "* LIST (\\HasNoChildren) \".\" INBOX\r\n* LIST (\\HasNoChildren) \".\" \"Sent Items\"\r\na3 OK List done\r\n"),
				c(2900, "a4 SELECT inbox\r\n"), u(2901, "* 3 EXISTS\r\n* OK [UIDVALIDITY 5] ok\r\na4 OK [READ-WRITE] Select done\r\n"),
				c(3000, "a5 UID FETCH 1 (BODY.PEEK[HEADER])\r\n"), u(3200, "* 1 FETCH (UID 1 BODY[HEADER] {13}\r\nSubject: hi\r\n)\r\n"), u(3201, "a5 OK Fetch done\r\n"),
				c(3300, "a6 LOGOUT\r\n"), u(3301, "* BYE bye\r\na6 OK Logout done\r\n"), closedBy(3302, relay.Upstream, nil),
			}},
			want: &replay.Replay{Greeting: "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.", Delay: "1.5s", Steps: []replay.Step{
				{Command: "CAPABILITY", Nth: 1, Untagged: []string{"* CAPABILITY IMAP4rev1 AUTH=PLAIN"}, Status: "OK done"},
				{Command: "LOGIN", Nth: 1, Delay: "1s"},
				{Command: "LIST", Nth: 1, Untagged: []string{`* LIST (\HasNoChildren) "." INBOX`, `* LIST (\HasNoChildren) "." "Sent Items"`}, Status: "OK List done"},
				{Command: "UID FETCH", Nth: 1, Delay: "200ms", Untagged: []string{"* 1 FETCH (UID 1 BODY[HEADER] {13}\r\nSubject: hi\r\n)"}, Status: "OK Fetch done"},
			}},
			users:     []string{"alice"},
			mailboxes: []replay.Mailbox{{Name: "INBOX", Generate: &replay.Generate{Count: 3}}, {Name: "Sent Items"}},
			tls:       "none",
		},
		{
			name: "a refused login with literals, a BYE and EOF at SELECT",
			conns: [][]ev{{
				u(0, greeting),
				c(1, "a1 LOGIN {5}\r\n"), u(2, "+ OK\r\n"), c(3, "alice {6}\r\n"), u(4, "+ OK\r\n"), c(5, "s3cret\r\n"),
				u(6, "a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
				c(7, "a2 LOGIN alice s3cret\r\n"), u(8, "a2 OK in\r\n"),
				c(9, "a3 SELECT INBOX\r\n"), u(10, "* BYE shutting down\r\n"), closedBy(11, relay.Upstream, nil),
			}},
			want: &replay.Replay{Greeting: "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.", Steps: []replay.Step{
				{Command: "LOGIN", Nth: 1, Status: "NO [AUTHENTICATIONFAILED] Authentication failed."},
				{Command: "SELECT", Nth: 1, Untagged: []string{"* BYE shutting down"}, End: "eof"},
			}},
			users:     []string{"alice"},
			mailboxes: []replay.Mailbox{{Name: "INBOX"}},
			tls:       "none",
		},
		{
			name: "STARTTLS, SASL exchanges, IDLE, a reset at the end",
			conns: [][]ev{{
				u(0, greeting),
				c(1, "a1 STARTTLS\r\n"), u(2, "a1 OK Begin TLS\r\n"), tlsUp(3),
				c(4, "a2 AUTHENTICATE PLAIN\r\n"), u(5, "+ \r\n"), c(6, "AGJvYgBzM2NyZXQ=\r\n"), u(7, "a2 NO [AUTHENTICATIONFAILED] no\r\n"),
				c(8, "a3 AUTHENTICATE XOAUTH2 dXNlcj1jYXJvbAFhdXRoPUJlYXJlciB0b2sxMjMBAQ==\r\n"), u(9, "a3 OK in\r\n"),
				c(10, "a4 IDLE\r\n"), u(11, "+ idling\r\n"), u(12, "* 4 EXISTS\r\n"), c(13, "DONE\r\n"), u(14, "a4 OK Idle done\r\n"),
				c(15, "a5 NOOP\r\n"), closedBy(16, relay.Upstream, syscall.ECONNRESET),
			}},
			want: &replay.Replay{Greeting: "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.", Steps: []replay.Step{
				{Command: "AUTHENTICATE", Nth: 1, Status: "NO [AUTHENTICATIONFAILED] no"},
				{Command: "NOOP", Nth: 1, End: "rst"},
			}},
			users:     []string{"bob", "carol"},
			mailboxes: []replay.Mailbox{{Name: "INBOX"}},
			tls:       "starttls",
		},
		{
			name:  "silent greeting, the client gives up",
			conns: [][]ev{{closedBy(5000, relay.Client, nil)}},
			want:  &replay.Replay{End: "silence"},
			users: []string{"user"}, mailboxes: []replay.Mailbox{{Name: "INBOX"}}, tls: "none",
		},
		{
			name: "implicit TLS, two connections, the second silent at FETCH",
			conns: [][]ev{
				{tlsUp(0), u(1, greeting), c(2, "a1 NOOP\r\n"), u(3, "a1 NO busy\r\n"), c(4, "a2 LOGOUT\r\n"), u(5, "a2 OK bye\r\n"), closedBy(6, relay.Client, nil)},
				{tlsUp(0), u(1, greeting), c(2, "b1 FETCH 1 BODY[]\r\n"), closedBy(9000, relay.Client, nil)},
			},
			want: &replay.Replay{Greeting: "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.", Steps: []replay.Step{
				{Command: "NOOP", Nth: 1, Connection: 1, Status: "NO busy"},
				{Command: "FETCH", Nth: 1, Connection: 2, End: "silence"},
			}},
			users: []string{"user"}, mailboxes: []replay.Mailbox{{Name: "INBOX"}}, tls: "implicit",
		},
		{
			name: "stopped mid-literal: the part that came, then silence",
			conns: [][]ev{{
				u(0, greeting), c(1, "a1 FETCH 1 BODY[]\r\n"), u(2, "* 1 FETCH (BODY[] {100}\r\nonly part"),
			}},
			want: &replay.Replay{Greeting: "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.", Steps: []replay.Step{
				{Command: "FETCH", Nth: 1, Untagged: []string{"* 1 FETCH (BODY[] {100}\r\nonly part"}, End: "silence"},
			}},
			users: []string{"user"}, mailboxes: []replay.Mailbox{{Name: "INBOX"}}, tls: "none",
		},
		{
			name: "pipelined commands, answered in order",
			conns: [][]ev{{
				u(0, greeting),
				c(1, "a1 NOOP\r\na2 CAPABILITY\r\n"), u(2, "a1 BAD no\r\n* CAPABILITY IMAP4rev1\r\na2 OK done\r\n"),
			}},
			want: &replay.Replay{Greeting: "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.", Steps: []replay.Step{
				{Command: "NOOP", Nth: 1, Status: "BAD no"},
				{Command: "CAPABILITY", Nth: 1, Untagged: []string{"* CAPABILITY IMAP4rev1"}, Status: "OK done"},
			}},
			users: []string{"user"}, mailboxes: []replay.Mailbox{{Name: "INBOX"}}, tls: "none",
		},
	}
	for _, tt := range tests {
		for _, split := range []bool{false, true} {
			name := tt.name
			if split {
				name += " (byte by byte)"
			}
			t.Run(name, func(t *testing.T) {
				r := record(Options{Upstream: "imap.acme.example:993"}, split, tt.conns...)
				f := fileOf(t, r)
				if diff := cmp.Diff(tt.want, f.Replay); diff != "" {
					t.Errorf("replay (-want +got):\n%s", diff)
				}
				var users []string
				for _, u := range f.Users {
					users = append(users, u.Name)
					if !u.AnyPassword || u.Password != "" {
						t.Errorf("user %q: any_password %v, password %q; want any password", u.Name, u.AnyPassword, u.Password)
					}
					if diff := cmp.Diff(tt.mailboxes, u.Mailboxes); diff != "" {
						t.Errorf("mailboxes (-want +got):\n%s", diff)
					}
				}
				if diff := cmp.Diff(tt.users, users); diff != "" {
					t.Errorf("users (-want +got):\n%s", diff)
				}
				if f.Server.TLS != tt.tls {
					t.Errorf("server tls %q; want %q", f.Server.TLS, tt.tls)
				}
				loads(t, r)
			})
		}
	}
}

// TestRedaction: whatever way a client sends its secrets, none reaches
// the file, nor the recording's memory.
func TestRedaction(t *testing.T) {
	const password, token = "Tr0ub4dor&3", "ya29.SECRETTOKEN"
	b64 := func(s string) string { return base64Std(s) }
	secrets := []string{password, token,
		b64("\x00alice\x00" + password), b64("alice\x00alice\x00" + password), b64(password),
		b64("user=alice\x01auth=Bearer " + token + "\x01\x01"), b64("n,a=alice,\x01auth=Bearer " + token + "\x01\x01")}
	conn := []ev{
		u(0, greeting),
		c(1, "a1 LOGIN alice "+password+"\r\n"), u(2, "a1 NO [AUTHENTICATIONFAILED] x\r\n"),
		c(3, "a2 LOGIN \"alice\" \""+password+"\"\r\n"), u(4, "a2 NO x\r\n"),
		c(5, "a3 LOGIN {5}\r\n"), u(6, "+ go\r\n"), c(7, "alice {11}\r\n"), u(8, "+ go\r\n"), c(9, password+"\r\n"), u(10, "a3 NO x\r\n"),
		c(11, "a4 LOGIN alice {11+}\r\n"+password+"\r\n"), u(12, "a4 NO x\r\n"),
		c(13, "a5 AUTHENTICATE PLAIN "+secrets[2]+"\r\n"), u(14, "a5 NO x\r\n"),
		c(15, "a6 AUTHENTICATE PLAIN\r\n"), u(16, "+ \r\n"), c(17, secrets[3]+"\r\n"), u(18, "a6 NO x\r\n"),
		c(19, "a7 AUTHENTICATE LOGIN\r\n"), u(20, "+ VXNlcm5hbWU6\r\n"), c(21, b64("alice")+"\r\n"), u(22, "+ UGFzc3dvcmQ6\r\n"), c(23, secrets[4]+"\r\n"), u(24, "a7 NO x\r\n"),
		c(25, "a8 AUTHENTICATE XOAUTH2 "+secrets[5]+"\r\n"), u(26, "+ eyJzdGF0dXMiOiI0MDEifQ==\r\n"), c(27, "\r\n"), u(28, "a8 NO x\r\n"),
		c(29, "a9 AUTHENTICATE OAUTHBEARER "+secrets[6]+"\r\n"), u(30, "a9 OK in\r\n"),
		closedBy(31, relay.Client, nil),
	}
	for _, split := range []bool{false, true} {
		r := record(Options{}, split, conn)
		src := loads(t, r)
		for _, s := range append(secrets, "eyJzdGF0dXMiOiI0MDEifQ") {
			if bytes.Contains(src, []byte(s)) {
				t.Errorf("the file holds %q:\n%s", s, src)
			}
		}
		if !bytes.Contains(src, []byte(`name = "alice"`)) {
			t.Errorf("the user is not in the file:\n%s", src)
		}
		c := r.conns[0]
		for _, cmd := range c.cmds {
			for _, s := range append(append([]string{}, cmd.untagged...), cmd.status, cmd.tag, cmd.name, cmd.mailbox, cmd.mech) {
				for _, sec := range secrets {
					if strings.Contains(s, sec) {
						t.Errorf("the recording keeps %q in memory", sec)
					}
				}
			}
		}
		if pending := string(c.client.pending()); pending != "" {
			t.Errorf("client bytes left pending: %q", pending)
		}
	}
}

func TestWaitClosed(t *testing.T) {
	r := New(Options{})
	a, b := r.Observer(1), r.Observer(2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	a.Closed(t0, relay.Client, nil)
	a.Closed(t0, relay.Client, nil) // counted once
	if err := r.WaitClosed(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitClosed(2) with one closed = %v; want the deadline", err)
	}
	done := make(chan error, 1)
	go func() { done <- r.WaitClosed(context.Background(), 2) }()
	b.Closed(t0, relay.Upstream, nil)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{}).Scenario(); err == nil {
		t.Error("an empty recording wrote a scenario")
	}
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
