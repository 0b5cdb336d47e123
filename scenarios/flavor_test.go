package scenarios

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/faults"
)

// TestFlavorErrors: a flavour or a known message the knowledge base lacks,
// or a message of another provider, is an error at its line.
func TestFlavorErrors(t *testing.T) {
	user := "\n[[users]]\nname = \"alice\"\npassword = \"pw\"\n"
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown flavour", "name = \"x\"\nflavor = \"gmial\"\n" + user,
			[]string{`bad.toml:2: flavor: "gmial" is not a flavour (allowed: gmail, outlook, exchange, yahoo, icloud, dovecot, cyrus, courier)`}},
		{"unknown message", "name = \"x\"\n" + user + "[[faults]]\nwhen = { command = \"LOGIN\" }\nknown = \"gmail-nope\"\n",
			[]string{`bad.toml:8: faults[0].known: "gmail-nope" is not a known message`}},
		{"another provider's message", "name = \"x\"\nflavor = \"dovecot\"\n" + user + "[[faults]]\nwhen = { command = \"LOGIN\" }\nknown = \"gmail-app-password-required\"\n",
			[]string{`bad.toml:9: faults[0].known: "gmail-app-password-required" is gmail's message, but the scenario's flavor is "dovecot"`}},
		{"known and respond", "name = \"x\"\n" + user + "[[faults]]\nwhen = { command = \"LOGIN\" }\nknown = \"gmail-app-password-required\"\nrespond = \"NO x\"\n",
			[]string{`bad.toml:6: faults[0]: known and respond are two actions: give each its own [[faults]] table`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.toml", []byte(tc.src), testFiles)
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse() = %v, want an ErrorList", err)
			}
			var got []string
			for _, e := range list {
				msg := e.Error()
				if i := strings.Index(msg, " (known: "); i > 0 {
					msg = msg[:i]
				}
				got = append(got, msg)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFlavorApplies: a flavour sets what the scenario left unset, adds its
// folders and its faults before the scenario's own, once however often
// the scenario is validated; a known fault replies with the exact text.
func TestFlavorApplies(t *testing.T) {
	src := `name = "x"
flavor = "gmail"
[[users]]
name = "alice"
password = "pw"
[[faults]]
when = { command = "LOGIN" }
known = "gmail-too-many-connections"
`
	sc, err := Parse("x.toml", []byte(src), testFiles)
	if err != nil {
		t.Fatal(err)
	}
	n := len(sc.Faults)
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(sc.Faults) != n {
		t.Errorf("Validate() after Parse changed the faults from %d to %d: the flavour applied twice", n, len(sc.Faults))
	}
	if got, want := sc.Server.AuthMechanisms, []string{"XOAUTH2", "PLAIN", "OAUTHBEARER"}; !cmp.Equal(got, want) {
		t.Errorf("auth mechanisms = %v, want %v", got, want)
	}
	var names []string
	for _, m := range sc.Users[0].Mailboxes {
		names = append(names, m.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "[Gmail]/All Mail") {
		t.Errorf("mailboxes %v lack [Gmail]/All Mail", names)
	}
	if got, want := sc.Server.ID, []string{"name", "GImap", "vendor", "Google, Inc.", "support-url", "http://mail.google.com/support"}; !cmp.Equal(got, want) {
		t.Errorf("ID answer = %q, want %q", got, want)
	}
	for _, f := range sc.Faults {
		if f.When.Command == "ID" {
			t.Errorf("fault %+v on ID: the wire layer answers ID (faults.ConnOptions.ID)", f.Action)
		}
	}
	if _, ok := sc.Faults[0].Action.(*faults.Greeting); !ok {
		t.Errorf("first fault is %T, want the flavour's greeting", sc.Faults[0].Action)
	}
	last, ok := sc.Faults[n-1].Action.(*faults.Respond)
	if !ok || last.Respond != "NO [ALERT] Too many simultaneous connections. (Failure)" || sc.Faults[n-1].When.Command != "LOGIN" {
		t.Errorf("last fault = %+v %+v, want the known reply to LOGIN", sc.Faults[n-1].When, sc.Faults[n-1].Action)
	}
}
