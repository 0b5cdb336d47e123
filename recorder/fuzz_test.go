package recorder

import (
	"testing"
	"time"

	"github.com/imapfault/imapfault/relay"
	"github.com/imapfault/imapfault/scenarios"
)

// FuzzRecording: whatever the two sides send, cut anywhere, the recorder
// neither panics nor writes a scenario that does not load, with or
// without --anonymize and --stub-bodies.
func FuzzRecording(f *testing.F) {
	f.Add([]byte("a1 LOGIN alice {3}\r\npw!\r\na2 SELECT INBOX\r\na3 IDLE\r\nDONE\r\n"),
		[]byte(greeting+"+ go\r\na1 OK in\r\n* 2 EXISTS\r\na2 OK sel\r\n+ idling\r\na3 OK\r\n"), uint8(7), uint8(3))
	f.Add([]byte("a1 UID FETCH 1 (ENVELOPE BODY[])\r\n"),
		[]byte("* OK hi mail.acme.com [TQBBAEkATAAwADEALgBhAGMAbQBlAC4AYwBvAG0A]\r\n* 1 FETCH (ENVELOPE (\"d\" \"Secret plan\" ((\"Al\" NIL \"al\" \"acme.com\")) NIL NIL NIL NIL NIL NIL \"<x@acme.com>\") BODY[] {40}\r\nSubject: Secret plan\r\nFrom: al@acme.com\r\n\r\nhi\r\n)\r\na1 OK\r\n"), uint8(5), uint8(0))
	f.Add([]byte("a1 AUTHENTICATE PLAIN\r\nAGEAYg==\r\na2 LIST \"\" *\r\n"), []byte("\xff\x00garbage {99999999999}\r\n* LIST () NIL \"\"\r\n"), uint8(1), uint8(2))
	f.Fuzz(func(t *testing.T, client, upstream []byte, cut, opts uint8) {
		r := New(Options{Upstream: "h:1", Anonymize: opts&1 != 0, StubBodies: opts&2 != 0})
		o := r.Observer(r.Connections() + 1)
		at := time.Unix(0, 0)
		step := int(cut%16) + 1
		if opts&4 != 0 {
			o.TLS(at)
		}
		for len(client) > 0 || len(upstream) > 0 {
			at = at.Add(50 * time.Millisecond)
			n := min(step, len(upstream))
			o.Bytes(at, relay.Upstream, upstream[:n])
			upstream = upstream[n:]
			n = min(step, len(client))
			o.Bytes(at, relay.Client, client[:n])
			client = client[n:]
		}
		if opts&8 != 0 {
			o.Closed(at, relay.Upstream, nil)
		}
		src, err := r.Scenario()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := scenarios.Parse("fuzz.toml", src, nil); err != nil {
			t.Fatalf("the recorded scenario does not load: %v\n%s", err, src)
		}
	})
}
