package server

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/google/go-cmp/cmp"
)

const alicePassword = "correct horse battery staple"

// TestHealthySession drives the whole command list a mail client uses
// through go-imap's client over real TCP and STARTTLS.
func TestHealthySession(t *testing.T) {
	srv := NewTestBuiltin(t, "healthy")
	exists := make(chan uint32, 16)
	c, err := imapclient.DialStartTLS(srv.Addr(), &imapclient.Options{
		TLSConfig: srv.ClientTLSConfig(),
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	if err != nil {
		t.Fatalf("DialStartTLS: %v", err)
	}
	defer c.Close()

	if err := c.Login("alice", alicePassword).Wait(); err != nil {
		t.Fatalf("Login() = %v", err)
	}
	boxes, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatalf("List() = %v", err)
	}
	attrs := map[string][]imap.MailboxAttr{}
	for _, b := range boxes {
		attrs[b.Mailbox] = b.Attrs
	}
	if _, ok := attrs["INBOX"]; !ok {
		t.Errorf("LIST has no INBOX: %v", attrs)
	}
	if diff := cmp.Diff([]imap.MailboxAttr{imap.MailboxAttrSent}, attrs["Sent"]); diff != "" {
		t.Errorf("Sent attributes (-want +got):\n%s", diff)
	}

	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("Select() = %v", err)
	}
	if sel.NumMessages < 12 {
		t.Fatalf("INBOX has %d messages, want the fixtures (>= 12)", sel.NumMessages)
	}
	if !slices.Contains(sel.PermanentFlags, imap.FlagSeen) {
		t.Errorf("PERMANENTFLAGS = %v, want \\Seen among them", sel.PermanentFlags)
	}

	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{
		Envelope:    true,
		Flags:       true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Fetch() = %v, %v", msgs, err)
	}
	if msgs[0].Envelope == nil || msgs[0].Envelope.Subject == "" {
		t.Errorf("envelope = %+v, want a subject", msgs[0].Envelope)
	}
	var body []byte
	for _, b := range msgs[0].BodySection {
		body = b.Bytes
	}
	if !strings.Contains(string(body), "\r\n\r\n") {
		t.Errorf("body has no header/body separator: %.80q", body)
	}

	if _, err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged, "$Label1"}}, nil).Collect(); err != nil {
		t.Fatalf("Store() = %v", err)
	}
	got, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got[0].Flags, imap.FlagFlagged) || !slices.Contains(got[0].Flags, "$Label1") {
		t.Errorf("flags after STORE = %v, want \\Flagged and $Label1", got[0].Flags)
	}

	msg := "From: a@example.com\r\nSubject: appended\r\n\r\nhello\r\n"
	app := c.Append("INBOX", int64(len(msg)), nil)
	app.Write([]byte(msg))
	app.Close()
	if _, err := app.Wait(); err != nil {
		t.Fatalf("Append() = %v", err)
	}
	// go-imap's server reports the new message at the next command.
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	waitExists(t, exists, sel.NumMessages+1)

	if _, err := c.Store(imap.SeqSetNum(sel.NumMessages+1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil).Collect(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Expunge().Collect(); err != nil {
		t.Fatalf("Expunge() = %v", err)
	}

	idle, err := c.Idle()
	if err != nil {
		t.Fatalf("Idle() = %v", err)
	}
	if _, err := srv.Deliver("alice", "INBOX", []byte("From: b@example.com\r\nSubject: pushed\r\n\r\nnew\r\n")); err != nil {
		t.Fatal(err)
	}
	waitExists(t, exists, sel.NumMessages+1)
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatalf("IDLE end: %v", err)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatalf("Logout() = %v", err)
	}
}

func waitExists(t *testing.T, ch <-chan uint32, want uint32) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case n := <-ch:
			if n == want {
				return
			}
		case <-timeout:
			t.Fatalf("no EXISTS %d within 5s", want)
		}
	}
}
