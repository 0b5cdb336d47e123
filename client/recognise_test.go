package client

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/providers"
)

// playFor is the command whose answer carries a code's text, and the
// phase the tester meets it in.
func playFor(code string) (verb, phase string) {
	switch {
	case code == CodeAuthNotConnected, code == CodeConnBye:
		return "LIST", "list"
	case strings.HasPrefix(code, "auth."):
		return "LOGIN", "auth"
	case strings.HasPrefix(code, "mailbox."):
		return "SELECT", "select"
	}
	return "FETCH", "fetch"
}

// TestKnowledgeBaseReachesCodes plays every knowledge base entry's
// recorded wire line from a server that greets like the entry's provider,
// and proves that the tester reaches the code the entry claims, marked
// with the entry's source.
func TestKnowledgeBaseReachesCodes(t *testing.T) {
	kb, err := providers.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range kb.Entries {
		t.Run(e.ID, func(t *testing.T) {
			p := kb.Product(e.Provider)
			verb, phase := playFor(e.Code)
			status := strings.Fields(providers.StripTag(e.Example))[0]
			var handler func(c *fconn, tag, args string)
			switch {
			case strings.HasPrefix(e.Example, "* BYE"):
				handler = hangUp(e.Example)
			case strings.HasPrefix(e.Example, "* "):
				// An untagged text before a tagged NO that says nothing.
				handler = lines(e.Example, "TAG NO failure")
			case status == "OK":
				verb, phase = "LIST", "list"
				handler = lines(`* LIST (\HasNoChildren) "/" INBOX`, "TAG "+providers.StripTag(e.Example))
			default:
				handler = lines("TAG " + providers.StripTag(e.Example))
			}
			cfg := fakeConfig{greeting: p.ExampleGreeting, caps: p.ExampleCapabilities,
				on: map[string]func(c *fconn, tag, args string){verb: handler}}
			c := e2eCase{name: e.ID, cfg: cfg, code: e.Code, phase: phase, warns: []string{CodeSecurityPlaintextLogin}}
			if status == "OK" {
				c.code, c.phase = CodeOK, "logout"
				c.warns = append(c.warns, e.Code)
			}
			rep := runCase(t, c)
			if rep.Server.Product != p.ID {
				t.Errorf("server.product = %q, want %q (evidence %v)", rep.Server.Product, p.ID, rep.Server.Evidence)
			}
			d := rep.Diagnosis
			if status == "OK" {
				d = rep.Warnings[len(rep.Warnings)-1]
			}
			if d.Recognised == nil || d.Recognised.Entry != e.ID || d.Recognised.Source != e.Source {
				t.Errorf("recognised = %+v, want entry %s with its source", d.Recognised, e.ID)
			}
			if !strings.Contains(d.Advice, e.Advice) {
				t.Errorf("advice %q lacks the entry's advice %q", d.Advice, e.Advice)
			}
		})
	}
}

// TestRefineKeepsResponseCodes: a recognised text sharpens a diagnosis
// the status alone decided, but does not overrule a response code that
// says something else; generic texts need their provider identified.
func TestRefineKeepsResponseCodes(t *testing.T) {
	on := func(verb string, h func(c *fconn, tag, args string)) map[string]func(c *fconn, tag, args string) {
		return map[string]func(c *fconn, tag, args string){verb: h}
	}
	plain := []string{CodeSecurityPlaintextLogin}
	for _, tc := range []struct {
		c          e2eCase
		likely     bool
		entry      string
		overruled  bool
		wireCodeOf string
	}{
		// Gmail's text behind no telling code: auth.failed becomes too_many_connections.
		{c: e2eCase{name: "gmail connections", cfg: fakeConfig{on: on("LOGIN", reply("NO [ALERT] Too many simultaneous connections. (Failure)"))},
			code: CodeAuthTooManyConnections, phase: "auth", warns: plain}, likely: true, entry: "gmail-too-many-connections", wireCodeOf: CodeAuthFailed},
		// Dovecot's UNAVAILABLE is too broad: the text narrows it.
		{c: e2eCase{name: "dovecot userip", cfg: fakeConfig{on: on("LOGIN", reply("NO [UNAVAILABLE] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)"))},
			code: CodeAuthTooManyConnections, phase: "auth", warns: plain}, likely: true, entry: "dovecot-userip-connections", wireCodeOf: CodeAuthUnavailable},
		// A response code that names another cause stands against the text.
		{c: e2eCase{name: "expired stands", cfg: fakeConfig{on: on("LOGIN", reply("NO [EXPIRED] Access to your account has been temporarily restricted as Yandex suspects it may have been hacked."))},
			code: CodeAuthExpired, phase: "auth", warns: plain}, entry: "yandex-account-restricted", overruled: true},
		// "LOGIN failed." means basic auth only on Microsoft 365 ...
		{c: e2eCase{name: "m365 login failed", cfg: fakeConfig{
			greeting: "* OK The Microsoft Exchange IMAP4 service is ready. [QgBZADIAUABSADEAMQBDAEEAMAAwADcAMAAuAG4AYQBtAHAAcgBkADEAMQAuAHAAcgBvAGQALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A]",
			caps:     "IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+",
			on:       on("LOGIN", reply("NO LOGIN failed."))},
			code: CodeAuthBasicAuthDisabled, phase: "auth", warns: plain}, likely: true, entry: "microsoft-login-failed", wireCodeOf: CodeAuthFailed},
		// ... and is a plain failure from a server nobody recognised.
		{c: e2eCase{name: "unknown login failed", cfg: fakeConfig{on: on("LOGIN", reply("NO LOGIN failed."))},
			code: CodeAuthFailed, phase: "auth", warns: plain}},
	} {
		t.Run(tc.c.name, func(t *testing.T) {
			rep := runCase(t, tc.c)
			d := rep.Diagnosis
			if d.Likely != tc.likely {
				t.Errorf("Likely = %v, want %v", d.Likely, tc.likely)
			}
			var got Recognition
			if d.Recognised != nil {
				got = *d.Recognised
			}
			want := Recognition{Entry: tc.entry, Overruled: tc.overruled, WireCode: tc.wireCodeOf}
			if diff := cmp.Diff(want, Recognition{Entry: got.Entry, Overruled: got.Overruled, WireCode: got.WireCode}); diff != "" {
				t.Errorf("recognition (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckSendsID: ID goes out when advertised, and the server's answer
// reaches the report; a refusal does not fail the check, a dead
// connection does.
func TestCheckSendsID(t *testing.T) {
	caps := "IMAP4rev1 IDLE LITERAL+ UIDPLUS SASL-IR AUTH=PLAIN ID"
	plain := []string{CodeSecurityPlaintextLogin}
	for _, tc := range []struct {
		c       e2eCase
		want    []IDField
		product string // named by the ID answer, the greeting being anonymous
	}{
		{c: e2eCase{name: "dovecot answer", cfg: fakeConfig{caps: caps, on: map[string]func(c *fconn, tag, args string){
			"ID": lines(`* ID ("name" "Dovecot" "version" NIL)`, "TAG OK ID completed.")}},
			code: CodeOK, phase: "logout", warns: plain},
			want: []IDField{{"name", "Dovecot"}, {"version", ""}}, product: "dovecot"},
		{c: e2eCase{name: "ID NIL", cfg: fakeConfig{caps: caps, on: map[string]func(c *fconn, tag, args string){
			"ID": lines(`* ID NIL`, "TAG OK done")}}, code: CodeOK, phase: "logout", warns: plain}},
		{c: e2eCase{name: "refused", cfg: fakeConfig{caps: caps}, code: CodeOK, phase: "logout", warns: plain}},
		{c: e2eCase{name: "not advertised", code: CodeOK, phase: "logout", warns: plain}},
		{c: e2eCase{name: "dropped", cfg: fakeConfig{caps: caps, on: map[string]func(c *fconn, tag, args string){
			"ID": hangUp()}}, code: CodeConnDropped, phase: "id", warns: plain}},
	} {
		t.Run(tc.c.name, func(t *testing.T) {
			rep := runCase(t, tc.c)
			if diff := cmp.Diff(tc.want, rep.Server.ID); diff != "" {
				t.Errorf("server.id (-want +got):\n%s", diff)
			}
			if rep.Server.Product != tc.product {
				t.Errorf("server.product = %q, want %q (evidence %v)", rep.Server.Product, tc.product, rep.Server.Evidence)
			}
			sent := false
			for _, e := range rep.Transcript {
				if strings.HasSuffix(e.Text, " ID "+clientID) {
					sent = true
				}
			}
			if advertised := tc.c.cfg.caps != ""; sent != advertised {
				t.Errorf("ID sent = %v, want %v (advertised)", sent, advertised)
			}
		})
	}
}

// TestUnsafeLoginAfterID: when the tester did send ID and NetEase still
// refuses SELECT, the advice says so instead of only "send ID".
func TestUnsafeLoginAfterID(t *testing.T) {
	cfg := fakeConfig{caps: "IMAP4rev1 IDLE LITERAL+ UIDPLUS SASL-IR AUTH=PLAIN ID", on: map[string]func(c *fconn, tag, args string){
		"ID":     lines(`* ID NIL`, "TAG OK ID completed"),
		"SELECT": reply("NO SELECT Unsafe Login. Please contact kefu@188.com for help"),
	}}
	rep := runCase(t, e2eCase{name: "unsafe after ID", cfg: cfg, code: CodeMailboxUnsafeLogin, phase: "select", warns: []string{CodeSecurityPlaintextLogin}})
	if !strings.Contains(rep.Diagnosis.Advice, "The tester sent ID before SELECT") {
		t.Errorf("advice = %q, want it to say the tester sent ID", rep.Diagnosis.Advice)
	}
}
