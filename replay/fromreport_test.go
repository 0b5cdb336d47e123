package replay

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/scenarios"
)

func ev(ms int, dir, text string) client.Event {
	return client.Event{Elapsed: time.Duration(ms) * time.Millisecond, Session: 1, Dir: dir, Text: text}
}

// TestFromReport reads transcripts into replays: what is scripted, what
// is left to the server, the delays kept, and the end at the failing
// step. Each result must load as a scenario.
func TestFromReport(t *testing.T) {
	greeting := []client.Event{ev(0, "==", "connected to 127.0.0.1:143 (IPv4)"), ev(1500, "<-", "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Acme ready")}
	tests := []struct {
		name      string
		code, ph  string
		evidence  string
		steps     []client.Step
		events    []client.Event
		want      *Replay
		faults    []map[string]any
		timeouts  map[string]string
		clientTLS string
	}{
		{
			name: "slow greeting, scripted NO, LOGIN OK left to the server",
			code: "auth.failed", ph: "auth",
			events: append(greeting,
				ev(1501, "->", "a1 CAPABILITY"), ev(1502, "<-", "* CAPABILITY IMAP4rev1 AUTH=PLAIN"), ev(1502, "<-", "a1 OK done"),
				ev(1503, "->", "a2 LOGIN alice ********"), ev(2503, "<-", "a2 OK logged in"),
				ev(2504, "->", "a3 LOGIN alice ********"), ev(2505, "<-", "a3 NO [AUTHENTICATIONFAILED] bad"),
			),
			want: &Replay{Greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Acme ready", Delay: "1.5s", Steps: []Step{
				{Command: "CAPABILITY", Nth: 1, Untagged: []string{"* CAPABILITY IMAP4rev1 AUTH=PLAIN"}, Status: "OK done"},
				{Command: "LOGIN", Nth: 1, Delay: "1s"},
				{Command: "LOGIN", Nth: 2, Status: "NO [AUTHENTICATIONFAILED] bad"},
			}},
		},
		{
			name: "silence at IDLE, DONE and literals not commands",
			code: "idle.no_continuation", ph: "idle",
			steps: []client.Step{{Phase: "idle", Duration: 2 * time.Second}},
			events: append(greeting,
				ev(1501, "~>", "a1 UID FETCH 1:* (BODY.PEEK[HEADER])"), ev(1502, "<~", "* 1 FETCH (UID 1 BODY[HEADER] {12}"),
				ev(1502, "<~", "{literal: 12 bytes}"), ev(1502, "<~", ")"), ev(1502, "<~", "a1 OK done"),
				ev(1503, "~>", "a2 IDLE"),
			),
			want:     &Replay{Greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Acme ready", Delay: "1.5s", Steps: []Step{{Command: "IDLE", Nth: 1, End: "silence"}}},
			timeouts: map[string]string{"idle": "2s"},
		},
		{
			name: "BYE then EOF at SELECT",
			code: "conn.bye", ph: "select",
			events: append(greeting, ev(1501, "->", "a1 SELECT INBOX"), ev(1502, "<-", "* BYE shutting down")),
			want: &Replay{Greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Acme ready", Delay: "1.5s", Steps: []Step{
				{Command: "SELECT", Nth: 1, Untagged: []string{"* BYE shutting down"}, End: "eof"},
			}},
		},
		{
			name: "STARTTLS's OK, a line injected after it, then EOF",
			code: "starttls.dropped", ph: "starttls",
			events: append(greeting,
				ev(1501, "->", "a1 STARTTLS"), ev(1502, "<-", "a1 OK Begin TLS"), ev(1503, "<-", "* OK [ALERT] injected"),
			),
			want: &Replay{Greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Acme ready", Delay: "1.5s", Steps: []Step{
				{Command: "STARTTLS", Nth: 1, AfterOK: &AfterOK{Untagged: []string{"* OK [ALERT] injected"}, End: "eof"}},
			}},
		},
		{
			name: "two sessions, each on its connection",
			code: "store.failed", ph: "flags",
			events: append(greeting,
				ev(1501, "->", "a1 NOOP"), ev(1502, "<-", "a1 NO not now"),
				client.Event{Session: 2, Dir: "<-", Text: "* OK again"},
				client.Event{Session: 2, Dir: "->", Text: "b1 UID STORE 5 +FLAGS (x)"}, client.Event{Session: 2, Dir: "<-", Text: "b1 NO Permission denied"},
				client.Event{Session: 2, Dir: "->", Text: "b2 LOGOUT"}, client.Event{Session: 2, Dir: "<-", Text: "b2 OK bye"},
			),
			want: &Replay{Greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Acme ready", Delay: "1.5s", Steps: []Step{
				{Command: "NOOP", Nth: 1, Connection: 1, Status: "NO not now"},
				{Command: "UID STORE", Nth: 1, Connection: 2, Status: "NO Permission denied"},
			}},
		},
		{
			name: "silent server",
			code: "greeting.timeout", ph: "greeting",
			steps:    []client.Step{{Phase: "greeting", Duration: 3 * time.Second}},
			events:   greeting[:1],
			want:     &Replay{End: "silence"},
			timeouts: map[string]string{"greeting": "3s"},
		},
		{
			name: "not IMAP, delivered late by a loaded machine: no timeout",
			code: "greeting.not_imap", ph: "greeting",
			evidence: "220 mail.example.com ESMTP",
			steps:    []client.Step{{Phase: "greeting", Duration: 1200 * time.Millisecond}},
			events:   []client.Event{greeting[0], ev(5, "<-", "220 mail.example.com ESMTP")},
			want:     &Replay{Greeting: "220 mail.example.com ESMTP", End: "silence"},
		},
		{
			name: "TLS spoken to a plaintext port",
			code: "tls.protocol_mismatch", ph: "tls", clientTLS: "implicit",
			events: greeting[:1],
		},
		{
			name: "handshake stalls",
			code: "tls.handshake_failed", ph: "tls", clientTLS: "implicit",
			steps:    []client.Step{{Phase: "tls", Duration: time.Second}},
			events:   greeting[:1],
			faults:   []map[string]any{{"tls": map[string]any{"handshake": "stall"}}},
			timeouts: map[string]string{"tls": "1s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tls := client.TLSNone
			if tt.clientTLS != "" {
				tls = client.TLSMode(tt.clientTLS)
			}
			r := &client.Report{Target: "imap.acme.example:143", User: "alice", TLSMode: tls, Steps: tt.steps,
				Diagnosis: client.Diagnosis{Code: tt.code, Phase: tt.ph, Evidence: tt.evidence}, Transcript: tt.events}
			f, err := build(r)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, f.Replay); diff != "" {
				t.Errorf("replay (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.faults, f.Faults); diff != "" {
				t.Errorf("faults (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.timeouts, f.Client.Timeouts); diff != "" {
				t.Errorf("client timeouts (-want +got):\n%s", diff)
			}
			src, err := FromReport(r)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := scenarios.Parse("replay.toml", src, nil)
			if err != nil {
				t.Fatalf("the scenario does not load: %v\n%s", err, src)
			}
			if sc.Name != "imap-acme-example-143" || sc.Expect.Diagnosis != tt.code {
				t.Errorf("name %q, diagnosis %q", sc.Name, sc.Expect.Diagnosis)
			}
			if tt.code == "tls.protocol_mismatch" && sc.Server.TLS != "none" {
				t.Errorf("server tls %q; want none: the customer spoke TLS to a plaintext port", sc.Server.TLS)
			}
		})
	}
}

func TestFromReportNotAReport(t *testing.T) {
	if _, err := FromReport(&client.Report{}); err == nil || !strings.Contains(err.Error(), "check --json") {
		t.Errorf("FromReport(empty) = %v; want an error naming check --json", err)
	}
}

// FuzzFromReport: whatever a transcript holds (a hostile server's lines,
// a hand-edited report), FromReport writes a scenario that loads.
func FuzzFromReport(f *testing.F) {
	f.Add("* OK ready", "a1 LOGIN x y", "a1 NO [ALERT] no", "auth.failed", "auth")
	f.Add("* BYE go away", "", "", "greeting.bye", "greeting")
	f.Add("", "a1 IDLE", "+ idling", "idle.dropped", "idle")
	f.Add("\\x00garbage", "a1 UID FETCH 1 BODY[]", "a1 BYE oops", "conn.bye", "fetch")
	f.Add("* OK", "a1 X\"y", "ZZZ OK", "protocol.parse_error", "bogus-phase")
	f.Fuzz(func(t *testing.T, greeting, sent, reply, code, ph string) {
		for _, s := range []string{greeting, sent, reply, code, ph} {
			if !utf8.ValidString(s) {
				return // a report read from JSON never holds invalid UTF-8
			}
		}
		r := &client.Report{Target: "h:1", TLSMode: client.TLSStartTLS, Diagnosis: client.Diagnosis{Code: code, Phase: ph, Evidence: greeting},
			Steps: []client.Step{{Phase: ph, Duration: time.Second}}}
		r.Transcript = []client.Event{ev(0, "==", "connected to h:1")}
		if greeting != "" {
			r.Transcript = append(r.Transcript, ev(1, "<-", greeting))
		}
		r.Transcript = append(r.Transcript, ev(2, "->", sent), ev(300, "<-", reply))
		src, err := FromReport(r)
		if err != nil {
			return // no diagnosis: refused, with a message
		}
		if _, err := scenarios.Parse("fuzz.toml", src, nil); err != nil && !strings.Contains(err.Error(), "expect.") && !strings.Contains(err.Error(), "client.timeouts") {
			t.Fatalf("the scenario does not load: %v\n%s", err, src)
		}
	})
}
