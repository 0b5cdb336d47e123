package providers

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func base(t *testing.T) *Base {
	t.Helper()
	b, err := Default()
	if err != nil {
		t.Fatalf("Default() = %v", err)
	}
	return b
}

// TestSize holds the knowledge base to what issue 17 asks: at least 30
// messages from at least 10 providers, each with a source.
func TestSize(t *testing.T) {
	b := base(t)
	providers := map[string]bool{}
	for _, e := range b.Entries {
		providers[e.Provider] = true
	}
	if len(b.Entries) < 30 || len(providers) < 10 {
		t.Errorf("%d messages from %d providers, want at least 30 from 10", len(b.Entries), len(providers))
	}
}

// TestProductsIdentifyTheirExamples: every product's recorded greeting and
// capabilities identify that product and no other.
func TestProductsIdentifyTheirExamples(t *testing.T) {
	b := base(t)
	for _, p := range b.Products {
		t.Run(p.ID, func(t *testing.T) {
			got := b.Identify(p.ExampleGreeting, strings.Fields(p.ExampleCapabilities))
			if got.Product == nil || got.Product.ID != p.ID {
				t.Fatalf("Identify(%q, %q) = %+v, want %s", p.ExampleGreeting, p.ExampleCapabilities, got.Product, p.ID)
			}
			if len(got.Evidence) == 0 {
				t.Errorf("Identify gave no evidence")
			}
		})
	}
}

// TestIdentifyRecordedGreetings: greetings recorded from real servers
// beside the examples, and lines that must not be claimed.
func TestIdentifyRecordedGreetings(t *testing.T) {
	b := base(t)
	for _, tc := range []struct {
		greeting string
		caps     string
		want     string
	}{
		// MailKit #483: an on-premises Exchange without XOAUTH2 is Exchange, not Microsoft 365.
		{"* OK The Microsoft Exchange IMAP4 service is ready.", "IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=NTLM AUTH=GSSAPI UIDPLUS MOVE ID CHILDREN IDLE NAMESPACE LITERAL+", "exchange"},
		// imapsync #317: Microsoft 365.
		{"* OK The Microsoft Exchange IMAP4 service is ready. [TABPADQAUAAxADIAMwBDAEEAMAAyADMAMwAuAEcAQgBSAFAAMQAyADMALgBQAFIATwBEAC4ATwBVAFQATABPAE8ASwAuAEMATwBNAA==]", "IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+", "outlook"},
		// home-assistant/core #155699.
		{"* OK Gimap ready for requests from [SANITIZED] [SANITIZED]", "IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1", "gmail"},
		// Mailspring #2111.
		{"* OK Yandex IMAP4rev1 at sas2-1e59ad28a72c.qloud-c.yandex.net:993 ready to talk with ::ffff:89.222.174.138:38922, 2020-Aug-01 08:34:38, cYXlpv732Cg1", "", "yandex"},
		// mailcore2 #1651: iCloud.
		{"* OK [CAPABILITY pv33p00im-iscream010 17E61 XAPPLEPUSHSERVICE IMAP4 IMAP4rev1 SASL-IR AUTH=ATOKEN AUTH=PLAIN] iSCREAM ready to rumble", "", "icloud"},
		// The fake server's own greeting names nothing.
		{"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] IMAP4rev2 Service Ready", "IMAP4rev1 IDLE", ""},
		{"* OK Welcome", "IMAP4rev1", ""},
		// nginx's default greeting and list: a proxy, not Fastmail.
		{"* OK IMAP4 ready", "IMAP4 IMAP4rev1 UIDPLUS", ""},
	} {
		got := b.Identify(tc.greeting, strings.Fields(tc.caps))
		id := ""
		if got.Product != nil {
			id = got.Product.ID
		}
		if id != tc.want {
			t.Errorf("Identify(%q) = %q, want %q", tc.greeting, id, tc.want)
		}
	}
}

// TestEntriesMatchTheirExamples: every entry's pattern matches the wire
// line it cites (tag and all), and its example contains the quote.
func TestEntriesMatchTheirExamples(t *testing.T) {
	b := base(t)
	for _, e := range b.Entries {
		t.Run(e.ID, func(t *testing.T) {
			found := false
			for _, got := range b.Lookup(e.Example, e.Provider) {
				if got.ID == e.ID {
					found = true
				}
			}
			if !found {
				t.Errorf("Lookup(%q, %q) misses %s", e.Example, e.Provider, e.ID)
			}
			if !strings.Contains(e.Example, e.Quote) {
				t.Errorf("example %q lacks the quote %q", e.Example, e.Quote)
			}
			if e.Generic {
				for _, got := range b.Lookup(e.Example, "") {
					if got.ID == e.ID {
						t.Errorf("generic entry %s applies to an unidentified server", e.ID)
					}
				}
			}
		})
	}
}

// TestIdentifyByID: the ID answer names Dovecot and Gmail (roundcube
// #5705, Google's IMAP extensions page) and nothing else.
func TestIdentifyByID(t *testing.T) {
	b := base(t)
	for name, want := range map[string]string{"Dovecot": "dovecot", "GImap": "gmail", "Dovecot proxy": "", "": "", "Cyrus": ""} {
		got := ""
		if id := b.IdentifyByID(name); id.Product != nil {
			got = id.Product.ID
		}
		if got != want {
			t.Errorf("IdentifyByID(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestStripTag(t *testing.T) {
	for in, want := range map[string]string{
		"a1 NO [ALERT] x":    "NO [ALERT] x",
		"* BYE bye":          "BYE bye",
		"NO bare":            "NO bare",
		"* 3 EXISTS":         "* 3 EXISTS",
		". NO [UNAVAILABLE]": "NO [UNAVAILABLE]",
		"":                   "",
	} {
		if got := StripTag(in); got != want {
			t.Errorf("StripTag(%q) = %q, want %q", in, got, want)
		}
	}
}

const goodProduct = `
[[product]]
id = "p"
name = "P"
greeting = 'P ready'
example_greeting = "* OK P ready"
source = "https://example.org/p"
`

const goodMessage = `
[[message]]
id = "m"
provider = "p"
pattern = '^NO bad$'
quote = "NO bad"
example = "a1 NO bad"
code = "auth.failed"
meaning = "m"
advice = "a"
source = "https://example.org/m"
`

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"unknown key", goodProduct + "colour = 1\n", "k.toml:8: unknown key"},
		{"bad toml", "[[product]\n", "k.toml:2:"},
		{"duplicate id", goodProduct + goodProduct, `"p": product id must be unique`},
		{"bad pattern", goodProduct + strings.Replace(goodMessage, `'^NO bad$'`, `'('`, 1), `k.toml:10: "m": pattern:`},
		{"pattern misses example", goodProduct + strings.Replace(goodMessage, `'^NO bad$'`, `'^NO good$'`, 1), "does not match its own example"},
		{"quote not in example", goodProduct + strings.Replace(goodMessage, `quote = "NO bad"`, `quote = "NO worse"`, 1), "does not contain the quote"},
		{"unknown provider", goodProduct + strings.Replace(goodMessage, `provider = "p"`, `provider = "q"`, 1), `provider "q" is not a product`},
		{"bad code", goodProduct + strings.Replace(goodMessage, `"auth.failed"`, `"failed"`, 1), "is not a diagnosis code"},
		{"bad source", goodProduct + strings.Replace(goodMessage, `"https://example.org/m"`, `"a forum"`, 1), "is not an http(s) URL"},
		{"no clue", strings.Replace(goodProduct, "greeting = 'P ready'\n", "", 1), "needs a greeting pattern, capabilities or an id_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("k.toml", []byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse() = %v, want an error containing %q", err, tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("Parse() error %T is not a *Error", err)
			}
		})
	}
	b, err := Parse("k.toml", []byte(goodProduct+goodMessage))
	if err != nil {
		t.Fatalf("Parse(good) = %v", err)
	}
	if diff := cmp.Diff([]string{"m"}, ids(b.Lookup("x NO bad", ""))); diff != "" {
		t.Errorf("Lookup (-want +got):\n%s", diff)
	}
}

func ids(es []*Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

// FuzzParse: no input makes Parse panic, and what it accepts can be
// looked up.
func FuzzParse(f *testing.F) {
	f.Add([]byte(goodProduct + goodMessage))
	f.Add(knowledge)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse("f.toml", data)
		if err != nil {
			return
		}
		for _, e := range b.Entries {
			b.Lookup(e.Example, e.Provider)
		}
		for _, p := range b.Products {
			b.Identify(p.ExampleGreeting)
		}
	})
}
