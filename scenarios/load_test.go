package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/imapfault/imapfault/client/phase"
	"github.com/imapfault/imapfault/faults"
)

var testFiles = fstest.MapFS{
	"messages/a.eml": {Data: []byte("From: a@example.com\nSubject: a\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n\nbody\n")},
}

// TestParseErrors feeds one broken file per kind of error and checks that
// the message names the file, the line and the key.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // each error's text, in order
	}{
		{
			name: "syntax",
			src:  "name = \"x\"\n[server\ntls = \"none\"\n",
			// The toml library reports the line where it noticed.
			want: []string{"bad.toml:3: expected '.' or ']' to end table name, but got '\\n' instead"},
		},
		{
			name: "unknown top-level key",
			src:  "name = \"x\"\ndescrption = \"typo\"\n",
			want: []string{`bad.toml:2: descrption: unknown key "descrption" (allowed: name, description, layer, flavor, server, users, replay, client, expect, faults)`},
		},
		{
			name: "unknown nested key",
			src:  "name = \"x\"\n[server]\ntls = \"none\"\ncertificat = \"valid\"\n",
			want: []string{`bad.toml:4: server.certificat: unknown key "certificat" (allowed: tls, certificate, hostnames, capabilities, auth_mechanisms, plaintext_auth, limits)`},
		},
		{
			name: "replay",
			src: "name = \"x\"\n[replay]\ngreeting = \"* OK a\\r\\nb\"\nend = \"hang\"\n" +
				"[[replay.steps]]\ncommand = \"LOG IN\"\nstatus = \"BYE gone\"\n" +
				"[[replay.steps]]\ncommand = \"FETCH\"\nuntagged = [\"1 FETCH (FLAGS ())\"]\nstatus = \"OK\"\nend = \"eof\"\n" +
				"[[replay.steps]]\ncommand = \"FETCH\"\nnth = 1\ndelay = \"1s\"\n" +
				"[[replay.steps]]\ncommand = \"NOOP\"\nuntagged = []\n" +
				"[[replay.steps]]\ncommand = \"NOOP\"\nstatsu = \"OK\"\n" +
				"[[replay.steps]]\ncommand = \"LOGIN\"\nstatus = \"NO\"\nafter_ok = { end = \"eof\" }\n" +
				"[[replay.steps]]\ncommand = \"STARTTLS\"\nafter_ok = { end = \"hang\" }\n",
			want: []string{
				`bad.toml:3: replay.greeting: must be one line, without CR LF (it is added)`,
				`bad.toml:4: replay.end: "hang" is not allowed (allowed: eof, rst, silence)`,
				`bad.toml:6: replay.steps[0].command: "LOG IN" is not a command name such as LOGIN or "UID FETCH"`,
				`bad.toml:7: replay.steps[0].status: "BYE gone" must start with OK, NO or BAD and leave out the tag (a BYE is an untagged line followed by end = "eof")`,
				`bad.toml:12: replay.steps[1].end: a step ends with status or with end, not both: end replaces the tagged reply`,
				`bad.toml:14: replay.steps[2].command: steps[1] answers FETCH number 1 already: give this step another nth`,
				`bad.toml:18: replay.steps[3].command: the step does nothing: give it delay, untagged, status, end or after_ok`,
				`bad.toml:21: replay.steps[4].command: the step does nothing: give it delay, untagged, status, end or after_ok`,
				`bad.toml:22: replay.steps[4].statsu: unknown key "statsu" (allowed: command, nth, connection, delay, untagged, status, end, after_ok)`,
				`bad.toml:26: replay.steps[5].after_ok: follows the server's own OK: leave out status and end, which answer in its place`,
				`bad.toml:29: replay.steps[6].after_ok.end: "hang" is not allowed (allowed: eof, rst, silence)`,
			},
		},
		{
			name: "wrong type",
			src:  "name = \"x\"\n[server]\ntls = 3\n",
			want: []string{`bad.toml:3: server.tls: want a string, got the integer 3`},
		},
		{
			name: "bad enum",
			src:  "name = \"x\"\n\n[server]\ntls = \"ssl\"\n",
			want: []string{`bad.toml:4: server.tls: "ssl" is not allowed (allowed: none, starttls, implicit)`},
		},
		{
			name: "bad duration",
			src:  "name = \"x\"\n[client]\ntimeout = \"5 parsecs\"\n",
			want: []string{`bad.toml:3: client.timeout: "5 parsecs" is not a duration (a number and a unit, no space: 500ms, 3s, 1m30s, 2h)`},
		},
		{
			name: "client user that does not exist",
			src:  "name = \"x\"\n[[users]]\nname = \"alice\"\npassword = \"p\"\n[client]\nuser = \"bob\"\n",
			want: []string{`bad.toml:6: client.user: no user "bob" in [[users]]`},
		},
		{
			name: "client user with no password",
			src:  "name = \"x\"\n[[users]]\nname = \"alice\"\ntokens = [\"t\"]\n[client]\nuser = \"alice\"\n",
			want: []string{`bad.toml:5: client.password: user "alice" has no password: set [client] password, or auth = "xoauth2" with a token`},
		},
		{
			name: "client user with no token",
			src:  "name = \"x\"\n[[users]]\nname = \"alice\"\npassword = \"p\"\n[client]\nuser = \"alice\"\nauth = \"xoauth2\"\n",
			want: []string{`bad.toml:5: client.token: user "alice" has no token to log in with xoauth2: set [client] token or give the user tokens`},
		},
		{
			name: "client mailbox that does not exist",
			src:  "name = \"x\"\n[[users]]\nname = \"alice\"\npassword = \"p\"\n[client]\nmailbox = \"Archive\"\n",
			want: []string{`bad.toml:6: client.mailbox: user "alice" has no mailbox "Archive"`},
		},
		{
			name: "second user's mailbox",
			src: "name = \"x\"\n[[users]]\nname = \"a\"\npassword = \"p\"\n[[users]]\nname = \"b\"\npassword = \"p\"\n" +
				"  [[users.mailboxes]]\n  name = \"INBOX\"\n  [[users.mailboxes]]\n  name = \"Junk\"\n  special_use = \"\\\\Spam\"\n",
			want: []string{`bad.toml:12: users[1].mailboxes[1].special_use: "\\Spam" is not allowed (allowed: \All, \Archive, \Drafts, \Flagged, \Junk, \Sent, \Trash)`},
		},
		{
			name: "path traversal",
			src:  "name = \"x\"\n[[users]]\nname = \"a\"\npassword = \"p\"\nmailboxes = [{ name = \"INBOX\", files = [\"../../etc/*\"] }]\n",
			want: []string{`bad.toml:5: users[0].mailboxes[0].files[0]: "../../etc/*" leaves the scenario's folder: name files below it with forward slashes`},
		},
		{
			name: "glob matching nothing",
			src:  "name = \"x\"\n[[users]]\nname = \"a\"\npassword = \"p\"\nmailboxes = [{ name = \"INBOX\", files = [\"messages/*.msg\"] }]\n",
			want: []string{`bad.toml:5: users[0].mailboxes[0].files[0]: "messages/*.msg" matches no file in the scenario's folder`},
		},
		{
			name: "any password beside a password",
			src:  "name = \"x\"\n[[users]]\nname = \"a\"\npassword = \"p\"\nany_password = true\n",
			want: []string{`bad.toml:5: users[0].any_password: user "a" logs in with any password or token: leave out password, tokens and token_errors, or any_password`},
		},
		{
			name: "any password without a client password",
			src:  "name = \"x\"\n[[users]]\nname = \"a\"\nany_password = true\n",
			want: []string{`bad.toml: client.password: user "a" has no password: set [client] password, or auth = "xoauth2" with a token`},
		},
		{
			name: "generate past the cap",
			src:  "name = \"x\"\n[[users]]\nname = \"a\"\npassword = \"p\"\n[[users.mailboxes]]\nname = \"INBOX\"\ngenerate = { count = 1000001 }\n",
			want: []string{`bad.toml:7: users[0].mailboxes[0].generate.count: 1000001 is outside 1..1000000`},
		},
		{
			name: "unknown limit",
			src:  "name = \"x\"\n[server.limits]\nmax_lines = 10\n",
			want: []string{`bad.toml:3: server.limits.max_lines: unknown key "max_lines" (allowed: max_line, max_literal, max_connections, max_connections_per_user, commands_per_second)`},
		},
		{
			name: "negative limit",
			src:  "name = \"x\"\n[server.limits]\nmax_line = 100\ncommands_per_second = -1\n",
			want: []string{`bad.toml:4: server.limits.commands_per_second: -1 is negative (allowed: 1 to 1000000 commands; 0 or absent: the default)`},
		},
		{
			name: "line limit above go-imap's",
			src:  "name = \"x\"\n[server.limits]\nmax_line = 100000\n",
			want: []string{`bad.toml:3: server.limits.max_line: 100000 is above 51200, go-imap's own bound on a command (allowed: 1 to 51200 bytes; 0 or absent: the default)`},
		},
		{
			name: "unknown fault",
			src:  "name = \"x\"\n[[faults]]\nwhen = { command = \"LOGIN\" }\nrespnd = \"NO\"\n",
			want: []string{`bad.toml:2: faults[0]: no action: a fault needs one of: ` + faults.KindNames() + ", known"},
		},
		{
			name: "two actions in one fault",
			src:  "name = \"x\"\n[[faults]]\ndelay = \"1s\"\ndrop = \"fin\"\n",
			want: []string{`bad.toml:2: faults[0]: delay and drop are two actions: give each its own [[faults]] table`},
		},
		{
			name: "bad fault value",
			src:  "name = \"x\"\n[[faults]]\ndrop = \"fin\"\n[[faults]]\nwhen = { phase = \"greeting\" }\ndrop = \"crash\"\n",
			want: []string{`bad.toml:6: faults[1].drop: drop: "crash" is not a way to close (allowed: fin, rst)`},
		},
		{
			name: "unknown key in when",
			src:  "name = \"x\"\n[[faults]]\nwhen = { comand = \"LOGIN\" }\ndrop = \"fin\"\n",
			want: []string{`bad.toml:3: faults[0].when.comand: unknown key "comand" (allowed: command, nth, reply, connection, first, phase, after_bytes, after, every, probability, seed)`},
		},
		{
			name: "unknown key beside an action",
			src:  "name = \"x\"\n[[faults]]\ndrop = \"fin\"\nmode = \"rst\"\n",
			want: []string{`bad.toml:4: faults[0].mode: unknown key "mode"`},
		},
		{
			name: "unknown key beside known",
			src:  "name = \"x\"\n[[faults]]\nknown = \"dovecot-authentication-failed\"\nreplly = \"NO\"\n",
			want: []string{`bad.toml:4: faults[0].replly: unknown key "replly"`},
		},
		{
			name: "faults not tables",
			src:  "name = \"x\"\nfaults = 3\n",
			want: []string{`bad.toml:2: faults: want an array of tables, got the integer 3`},
		},
		{
			name: "negative seed",
			src:  "name = \"x\"\n[[faults]]\nwhen = { probability = 0.5, seed = -1 }\ndrop = \"fin\"\n",
			want: []string{`bad.toml:3: faults[0].when.seed: -1 is out of range: want an integer from 0 to 18446744073709551615`},
		},
		{
			name: "type errors hide nothing",
			src: "name = \"x\"\n[server]\ntls = 3\ncertificate = true\n[[users]]\nname = \"a\"\npassword = 5\n" +
				"[client]\ntimeout = \"3 seconds\"\nidle_hold = \"1 minute\"\n[[faults]]\nwhen = { nth = \"2\" }\ndelay = 5\n[expect]\nphase = \"login\"\n",
			want: []string{
				`bad.toml:3: server.tls: want a string, got the integer 3`,
				`bad.toml:4: server.certificate: want a string, got true`,
				`bad.toml:7: users[0].password: want a string, got the integer 5`,
				`bad.toml:9: client.timeout: "3 seconds" is not a duration: write "3s" (a number and a unit, no space: 500ms, 3s, 1m30s, 2h)`,
				`bad.toml:10: client.idle_hold: "1 minute" is not a duration: write "1m" (a number and a unit, no space: 500ms, 3s, 1m30s, 2h)`,
				`bad.toml:12: faults[0].when.nth: want an integer, got the string "2"`,
				`bad.toml:13: faults[0].delay: want a duration such as "3s" or "500ms", got the integer 5 (write "5s" for seconds: a bare number would be nanoseconds)`,
				`bad.toml:15: expect.phase: "login" is not allowed (allowed: ` + strings.Join(phase.Names(), ", ") + `)`,
			},
		},
		{
			name: "empty file",
			src:  "# nothing yet\n\n",
			want: []string{`bad.toml: the file is empty: a scenario needs at least [[users]] or [[faults]] (start from "imapfault scenarios show healthy")`},
		},
		{
			name: "two triggers in one when",
			src:  "name = \"x\"\n[[faults]]\nwhen = { command = \"LOGIN\", after = \"5s\", after_bytes = 10 }\ndrop = \"fin\"\n",
			want: []string{`bad.toml:3: faults[0].when: command and after_bytes are two triggers, and a fault fires at one: at a command (nth, reply and phase narrow it); or once the server has sent after_bytes bytes; or on a timer (after, every), from the connection or from entering phase; or on entering phase`},
		},
		{
			name: "a timer on a filter",
			src:  "name = \"x\"\n[[faults]]\nwhen = { after = \"5s\" }\nline_endings = \"lf\"\n",
			want: []string{`bad.toml:3: faults[0].when: when.after: has no effect on line_endings, which applies while its when holds (it takes command, nth, phase, connection, first, probability, seed)`},
		},
		{
			name: "a command that is no IMAP command",
			src:  "name = \"x\"\n[[faults]]\nwhen = { command = \"FECTH\" }\ndrop = \"fin\"\n",
			want: []string{`bad.toml:3: faults[0].when: when.command: "FECTH" is not an IMAP command: did you mean FETCH? (allowed: APPEND AUTHENTICATE CAPABILITY CHECK CLOSE COMPRESS COPY CREATE DELETE ENABLE EXAMINE EXPUNGE FETCH GETACL GETMETADATA GETQUOTA GETQUOTAROOT ID IDLE LIST LISTRIGHTS LOGIN LOGOUT LSUB MOVE MYRIGHTS NAMESPACE NOOP RENAME SEARCH SELECT SETACL SETMETADATA SETQUOTA SORT STARTTLS STATUS STORE SUBSCRIBE THREAD UNAUTHENTICATE UNSELECT UNSUBSCRIBE, and UID COPY, UID EXPUNGE, UID FETCH, UID MOVE, UID SEARCH, UID SORT, UID STORE, UID THREAD)`},
		},
		{
			name: "explicit zeros in when",
			src:  "name = \"x\"\n[[faults]]\nwhen = { command = \"LOGIN\", nth = 0, probability = 0.0 }\ndrop = \"fin\"\n",
			want: []string{
				`bad.toml:3: faults[0].when.nth: nth = 0 means no nth: counts start at 1 (leave the key out to match every one)`,
				`bad.toml:3: faults[0].when.probability: probability = 0 would fire every time (0 means unset): give a value above 0 and at most 1, or leave it out`,
			},
		},
		{
			name: "absurd limit",
			src:  "name = \"x\"\n[server.limits]\nmax_literal = 99999999999\nmax_connections = 1000000000\n",
			want: []string{
				`bad.toml:3: server.limits.max_literal: 99999999999 is above 1073741824 (allowed: 1 to 1073741824 bytes; 0 or absent: the default)`,
				`bad.toml:4: server.limits.max_connections: 1000000000 is above 100000 (allowed: 1 to 100000 connections; 0 or absent: the default)`,
			},
		},
		{
			name: "several errors, in line order",
			src:  "name = \"Bad Name\"\n[server]\ntls = \"tls\"\ncertificate = \"bogus\"\n",
			want: []string{
				`bad.toml:1: name: "Bad Name": use lower-case letters, digits and dashes`,
				`bad.toml:3: server.tls: "tls" is not allowed (allowed: none, starttls, implicit)`,
				`bad.toml:4: server.certificate: "bogus" is not allowed (allowed: valid, self-signed, expired, not-yet-valid, wrong-host, untrusted-ca, missing-intermediate)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.toml", []byte(tt.src), testFiles)
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse() = %v, want an ErrorList", err)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	src := `
name = "mine"
[[users]]
name = "alice"
password = "pw"
tokens = ["t"]
  [[users.mailboxes]]
  name = "inbox"
  files = ["messages/*.eml"]
[[faults]]
when = { command = "LOGIN", nth = 2 }
respond = "NO [UNAVAILABLE] later"
`
	sc, err := Parse("mine.toml", []byte(src), testFiles)
	if err != nil {
		t.Fatal(err)
	}
	plain := true
	trust := true
	want := Scenario{
		Name: "mine", Layer: "none",
		Server: Server{TLS: "none", Certificate: "valid", Hostnames: []string{"localhost", "127.0.0.1", "::1"},
			PlaintextAuth: &plain, AuthMechanisms: []string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}},
		Users: []User{{Name: "alice", Password: "pw", Tokens: []string{"t"},
			Mailboxes: []Mailbox{{Name: "INBOX", Files: []string{"messages/*.eml"}}}}},
		Faults: []faults.Fault{{When: faults.When{Command: "LOGIN", Nth: 2}, Action: &faults.Respond{Respond: "NO [UNAVAILABLE] later"}}},
		Client: Client{TLS: "none", User: "alice", Password: "pw", Auth: "login", Mailbox: "INBOX", Timeout: DefaultClientTimeout, TrustCA: &trust},
		Expect: Expect{Diagnosis: "ok"},
	}
	if diff := cmp.Diff(&want, sc, cmpopts.IgnoreUnexported(Scenario{}), cmpopts.IgnoreFields(Scenario{}, "Source", "Files")); diff != "" {
		t.Errorf("Parse() (-want +got):\n%s", diff)
	}
	seeds, err := sc.Seeds(&sc.Users[0].Mailboxes[0], time.Now())
	if err != nil || len(seeds) != 1 || !strings.Contains(string(seeds[0].Raw), "Subject: a\r\n") {
		t.Fatalf("Seeds() = %v, %v; want one CRLF message", seeds, err)
	}
	if got := seeds[0].Date.Format(time.RFC3339); got != "2026-11-02T10:00:00Z" {
		t.Errorf("date = %s, want the Date header's", got)
	}
}

// TestExpectPhases: [expect] accepts every phase the tester reports, from
// the one list in client/phase ("delete" was missing from a copy here).
func TestExpectPhases(t *testing.T) {
	for _, p := range phase.Names() {
		src := "name = \"x\"\n[expect]\ndiagnosis = \"store.failed\"\nphase = \"" + p + "\"\ndurations = { " + p + " = { max = \"1s\" } }\n"
		if _, err := Parse("x.toml", []byte(src), nil); err != nil {
			t.Errorf("phase %q: %v", p, err)
		}
	}
	_, err := Parse("x.toml", []byte("name = \"x\"\n[expect]\nphase = \"login\"\n"), nil)
	if want := `x.toml:3: expect.phase: "login" is not allowed (allowed: ` + strings.Join(phase.Names(), ", ") + ")"; err == nil || err.Error() != want {
		t.Errorf("Parse() = %v, want %s", err, want)
	}
}

// TestClientSecretDefaults: a [client] user with no secret of its own logs
// in with that user's from [[users]] (it used to send an empty password).
func TestClientSecretDefaults(t *testing.T) {
	users := "name = \"x\"\n[[users]]\nname = \"alice\"\npassword = \"a-pw\"\n[[users]]\nname = \"bob\"\npassword = \"b-pw\"\ntokens = [\"b-tok\", \"b-tok2\"]\n"
	tests := []struct {
		name, client    string
		password, token string
	}{
		{"first user by default", "", "a-pw", ""},
		{"named user", "user = \"bob\"\n", "b-pw", ""},
		{"named user, oauth", "user = \"bob\"\nauth = \"oauthbearer\"\n", "", "b-tok"},
		{"explicit password wins", "user = \"bob\"\npassword = \"wrong\"\n", "wrong", ""},
		{"explicit token wins", "user = \"bob\"\nauth = \"xoauth2\"\ntoken = \"other\"\n", "", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := Parse("x.toml", []byte(users+"[client]\n"+tt.client), nil)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Client.Password != tt.password || sc.Client.Token != tt.token {
				t.Errorf("client password %q token %q; want %q, %q", sc.Client.Password, sc.Client.Token, tt.password, tt.token)
			}
		})
	}
}

// TestBuiltinScenarios loads every built-in scenario; each is a subtest
// named after its file.
func TestBuiltinScenarios(t *testing.T) {
	names := Names()
	if len(names) == 0 {
		t.Fatal("no built-in scenarios")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			sc, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Name != name {
				t.Errorf("name = %q, want the file's name %q", sc.Name, name)
			}
			if sc.Description == "" {
				t.Error("no description")
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range Names() {
		src, _ := Source(name)
		f.Add(src)
	}
	for _, seed := range []string{
		"name = \"x\"\n[[faults]]\nwhen = { command = \"LOGIN\" }\nrespond = \"NO\"\n",
		// Decoding key by key: wrong types everywhere, nested and in arrays.
		"[server]\ntls = 3\n[[users]]\nname = 7\npassword = [1]\nmailboxes = [{ name = 1, generate = { count = \"x\" } }]\n[client]\ntimeout = \"3 seconds\"\n[expect]\ndurations = { auth = { min = 5 } }\n",
		"",
		"# only a comment\n",
		"faults = 3\nusers = \"a\"\n[[expect]]\n",
		"[[faults]]\nwhen = { command = \"LOGIN\", after = \"5s\", after_bytes = 10 }\ndrop = \"fin\"\n",
		"[[faults]]\nwhen = { command = \"FECTH\", nth = 0, probability = 0.0, seed = 1 }\ndelay = 5\n",
		"[[faults]]\nwhen = \"LOGIN\"\ndrop = 1\n",
		"[server.limits]\nmax_literal = 99999999999\nmax_line = -1\n",
		"[[users]]\nname = \"a\"\npassword = \"p\"\nmailboxes = [{ name = \"INBOX\", files = [\"library:messages/*.eml\", \"library:../x\"] }]\n",
		"[[users]]\nname = \"a\"\ntokens = [\"t\"]\n[client]\nuser = \"a\"\n[expect]\nwarnings = []\nabsent = []\n",
		// Flavours and known messages, wrong in every way.
		"flavor = 5\n[[faults]]\nknown = 3\n",
		// Replay scripts, right and wrong.
		"[replay]\ngreeting = \"* OK [CAPABILITY IMAP4rev1] hi\"\ndelay = \"1s\"\n[[replay.steps]]\ncommand = \"capability\"\nuntagged = [\"* CAPABILITY IMAP4rev1\", \"* 1 FETCH (BODY[] {5}\\r\\nhello)\"]\nstatus = \"OK done\"\n[[replay.steps]]\ncommand = \"LOGIN\"\nnth = 2\nend = \"silence\"\n",
		"flavor = \"gmail\"\n[replay]\ngreeting = \"x\"\nend = \"eof\"\nsteps = [{ command = \"\", nth = -1, delay = \"-1s\", status = \"OK\\n\" }, { command = 3 }]\n",
		"replay = 3\n[[replay]]\n",
		"flavor = \"courier\"\n[[faults]]\nwhen = { command = \"LOGON\" }\nknown = \"gmail-webalert\"\nwrite = \"x\"\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		sc, err := Parse("fuzz.toml", src, testFiles)
		if err == nil && sc == nil {
			t.Fatal("nil scenario without an error")
		}
		var list ErrorList
		if err != nil && !errors.As(err, &list) {
			t.Fatalf("Parse() = %T %v, want an ErrorList", err, err)
		}
		for _, e := range list {
			if e.File != "fuzz.toml" || e.Msg == "" {
				t.Errorf("error without its file or message: %+v", e)
			}
		}
	})
}

// TestLoadFileStaysInFolder checks that no name in a scenario file reaches
// a file outside the scenario's folder: not by "..", not by an absolute
// path, not through a symbolic link.
func TestLoadFileStaysInFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "scenario")
	eml := []byte("From: a@example.com\nSubject: s\n\nbody\n")
	if err := os.MkdirAll(dir+"/messages", 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{root + "/secret.eml": eml, dir + "/messages/ok.eml": eml} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		dir + "/messages/relative.eml": "../../secret.eml",
		dir + "/messages/absolute.eml": root + "/secret.eml",
		dir + "/outside":               root,
		dir + "/messages/alias.eml":    "ok.eml",
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
	}
	tests := []struct {
		name    string
		mailbox string // the INBOX table's keys
		wantErr string // "" when the file loads
	}{
		{"a file inside", `files = ["messages/ok.eml"]`, ""},
		{"a link inside the folder", `files = ["messages/alias.eml"]`, ""},
		{"dot-dot", `files = ["../secret.eml"]`, "leaves the scenario's folder"},
		{"absolute path", `files = ["` + root + `/secret.eml"]`, "leaves the scenario's folder"},
		{"relative link out", `files = ["messages/relative.eml"]`, "path escapes from parent"},
		{"absolute link out", `files = ["messages/absolute.eml"]`, "path escapes from parent"},
		{"glob over links out", `files = ["messages/*.eml"]`, "path escapes from parent"},
		{"linked folder", `files = ["outside/*.eml"]`, "path escapes from parent"},
		{"message file through a linked folder", `messages = [{ file = "outside/secret.eml" }]`, "path escapes from parent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "mine.toml")
			src := "name = \"mine\"\n[[users]]\nname = \"a\"\npassword = \"p\"\n[[users.mailboxes]]\nname = \"INBOX\"\n" + tt.mailbox + "\n"
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			sc, err := LoadFile(path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("LoadFile() = %v", err)
				}
				seeds, err := sc.Seeds(&sc.Users[0].Mailboxes[0], time.Now())
				if err != nil || len(seeds) != 1 {
					t.Fatalf("Seeds() = %d seeds, %v; want 1", len(seeds), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadFile() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
