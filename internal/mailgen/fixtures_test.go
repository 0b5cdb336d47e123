package mailgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const fixtureDir = "../../scenarios/library/messages"

// fixtureCase states what a client must see when it decodes a fixture;
// names in particular prove RFC 2047 decoding across charsets.
type fixtureCase struct {
	subject  string
	fromName string
	types    []string // media types depth first, including embedded messages
	contains []string // substrings of the decoded text/* bodies
	extra    func(t *testing.T, p parsed, raw []byte)
}

var fixtureCases = map[string]fixtureCase{
	"01-plain.eml": {
		subject: "Lunch on Thursday?", fromName: "Olivia Smith",
		types:    []string{"text/plain"},
		contains: []string{"ramen place on 5th Street"},
	},
	"02-alternative.eml": {
		subject: "Your invoice for February 2026 is ready", fromName: "Example Cloud Billing",
		types:    []string{"multipart/alternative", "text/plain", "text/html"},
		contains: []string{"Amount due:   USD 48.20", `<a href="https://billing.example.net/invoices/INV-2026-0219"`},
	},
	"03-mixed-pdf-attachment.eml": {
		subject: "Q1 report draft for review", fromName: "Liam Johnson",
		types: []string{"multipart/mixed", "text/plain", "application/pdf"},
		extra: func(t *testing.T, p parsed, _ []byte) {
			if pdf := p.leaves[1].body; !bytes.HasPrefix(pdf, []byte("%PDF-1.4")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
				t.Errorf("attachment does not decode to a PDF")
			}
		},
	},
	"04-related-inline-image.eml": {
		subject: "New logo proposal", fromName: "Emma Williams",
		types:    []string{"multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png"},
		contains: []string{`src="cid:logo-7F3A2B1C@example.net"`},
		extra: func(t *testing.T, p parsed, _ []byte) {
			if !bytes.HasPrefix(p.leaves[2].body, []byte("\x89PNG\r\n\x1a\n")) {
				t.Errorf("inline image does not decode to a PNG")
			}
		},
	},
	"05-german-latin1-qp.eml": {
		subject:  "Angebot Nr. 2026-031: Änderungen und Rückfragen zur Gewährleistung",
		fromName: "Jürgen Müller",
		types:    []string{"text/plain"},
		contains: []string{"Viele Grüße aus München", "Preisstaffel\r\n", "Maximilianstraße 12"},
	},
	"06-japanese-iso2022jp.eml": {
		subject: "来週の出張の件（大阪支社）", fromName: "田中 太郎",
		types:    []string{"text/plain"},
		contains: []string{"大阪支社での打ち合わせは", "株式会社エグザンプル 営業部"},
	},
	"07-cyrillic-koi8r.eml": {
		subject: "Отчёт за квартал (Q1 2026)", fromName: "Дмитрий Иванов",
		types:    []string{"text/plain"},
		contains: []string{"Выручка выросла на 12%", "С уважением,"},
	},
	"08-quoted-printable.eml": {
		subject: "Quoted-printable test: café and friends", fromName: "Sophia Davis",
		types: []string{"text/plain"},
		contains: []string{
			"naïve decoders get wrong",
			"a=b and x == y",
			"https://example.com/search?q=imap&sort=date&page=2",
			"must survive:   \r\n",
			"Euro sign: 42,00 €",
			"\r\n.\r\nFrom the beginning",
		},
	},
	"09-thread-reply.eml": {
		subject: "Re: [infra] IDLE connections dropped after 29 minutes", fromName: "Noah Brown",
		types:    []string{"text/plain"},
		contains: []string{"> > > > > Several users report"},
		extra: func(t *testing.T, p parsed, _ []byte) {
			refs, err := p.header.MsgIDList("References")
			if err != nil || len(refs) != 6 {
				t.Fatalf("References = %q, %v; want 6 IDs", refs, err)
			}
			irt, err := p.header.MsgIDList("In-Reply-To")
			if err != nil || len(irt) != 1 || irt[0] != refs[5] {
				t.Errorf("In-Reply-To = %q, %v; want the last reference %q", irt, err, refs[5])
			}
		},
	},
	"10-mailing-list.eml": {
		subject:  "[imap-users] CONDSTORE and UIDVALIDITY changes after restore",
		fromName: "Mason Lee via imap-users",
		types:    []string{"text/plain"},
		extra: func(t *testing.T, p parsed, _ []byte) {
			for _, k := range []string{"List-Id", "List-Unsubscribe", "List-Post", "List-Archive", "Precedence"} {
				if !p.header.Has(k) {
					t.Errorf("missing %s", k)
				}
			}
		},
	},
	"11-calendar-invite.eml": {
		subject:  "Invitation: Sync engine design review @ Wed Apr 1, 2026 2pm - 3pm (CEST) (alex.morgan@example.com)",
		fromName: "Ava Martinez",
		types:    []string{"multipart/mixed", "multipart/alternative", "text/plain", "text/calendar", "application/ics"},
		contains: []string{"2pm – 3pm", "METHOD:REQUEST\r\n", "UID:7kq3m1v9s2p0r8t6u4w5x3y1z@example.org"},
	},
	"12-forwarded-rfc822.eml": {
		subject: "Fwd: Your order #48213 has shipped", fromName: "Grace Hall",
		types:    []string{"multipart/mixed", "text/plain", "message/rfc822", "text/plain"},
		contains: []string{"your order #48213 is on its way", "1 × USB-C dock"},
	},
	"13-large-attachment.eml": {
		subject: "Annual report 2025 (final, 1 MB PDF)", fromName: "Henry Taylor",
		types: []string{"multipart/mixed", "text/plain", "application/pdf"},
		extra: func(t *testing.T, p parsed, raw []byte) {
			if len(raw) < 1_400_000 || len(raw) >= 2<<20 {
				t.Errorf("size %d, want about 1.5 MB and under 2 MiB", len(raw))
			}
			if got, want := p.leaves[1].body, largeAttachment(); !bytes.Equal(got, want) {
				t.Errorf("attachment (%d bytes) differs from the documented stream (%d bytes)", len(got), len(want))
			}
		},
	},
	"14-8bit-utf8.eml": {
		subject: "日本の桜🌸 — photos from Kyoto", fromName: "佐藤 花子",
		types:    []string{"text/plain"},
		contains: []string{"京都の桜が満開でした", "ещё этих мягких", "👍🏽", "x² ≥ 0"},
	},
	"15-bounce-dsn.eml": {
		subject: "Undelivered Mail Returned to Sender", fromName: "Mail Delivery System",
		types:    []string{"multipart/report", "text/plain", "message/delivery-status", "message/rfc822", "text/plain"},
		contains: []string{"User unknown in virtual", "Is this address still in use?"},
		extra: func(t *testing.T, p parsed, _ []byte) {
			if !bytes.Contains(p.leaves[1].body, []byte("Status: 5.1.1")) {
				t.Errorf("delivery-status part lacks Status: 5.1.1")
			}
		},
	},
	"16-newsletter-long-lines.eml": {
		subject:  "April 2026: faster sync, sturdier MIME parsing — and a POP3 heads-up",
		fromName: "Example Mail News",
		types:    []string{"multipart/alternative", "text/plain", "text/html"},
		contains: []string{"The Example Mail Newsletter — April 2026"},
		extra: func(t *testing.T, _ parsed, raw []byte) {
			longest := slices.Max(lineLengths(raw))
			if longest < 900 {
				t.Errorf("longest line %d octets; the fixture exists to be close to 998", longest)
			}
		},
	},
}

// largeAttachment regenerates the stream described in the X-Fixture-Content
// header of 13-large-attachment.eml.
func largeAttachment() []byte {
	const size = 1_100_000
	out := []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	var ctr [8]byte
	for i := uint64(0); len(out) < size; i++ {
		binary.BigEndian.PutUint64(ctr[:], i)
		sum := sha256.Sum256(ctr[:])
		out = append(out, sum[:]...)
	}
	return out[:size]
}

func lineLengths(raw []byte) []int {
	var out []int
	for _, l := range bytes.Split(raw, []byte("\r\n")) {
		out = append(out, len(l))
	}
	return out
}

func TestFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 14 {
		t.Fatalf("found %d fixtures in %s, want at least 14", len(files), fixtureDir)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			tc, ok := fixtureCases[name]
			if !ok {
				t.Fatalf("no expectations for %s; add it to fixtureCases", name)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p := checkMessage(t, raw)
			if p.subject != tc.subject {
				t.Errorf("Subject = %q, want %q", p.subject, tc.subject)
			}
			if len(p.from) > 0 && p.from[0].Name != tc.fromName {
				t.Errorf("From name = %q, want %q", p.from[0].Name, tc.fromName)
			}
			if diff := cmp.Diff(tc.types, p.types); diff != "" {
				t.Errorf("part types (-want +got):\n%s", diff)
			}
			text := p.text()
			for _, s := range tc.contains {
				if !strings.Contains(text, s) {
					t.Errorf("decoded text lacks %q", s)
				}
			}
			if tc.extra != nil {
				tc.extra(t, p, raw)
			}
		})
	}
	for name := range fixtureCases {
		if _, err := os.Stat(filepath.Join(fixtureDir, name)); err != nil {
			t.Errorf("fixtureCases names %s, which is missing: %v", name, err)
		}
	}
}
