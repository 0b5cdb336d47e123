package store

import (
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/google/go-cmp/cmp"
)

func TestCanonicalFlag(t *testing.T) {
	tests := []struct{ in, want imap.Flag }{
		{`\seen`, imap.FlagSeen},
		{`\SEEN`, imap.FlagSeen},
		{`\Flagged`, imap.FlagFlagged},
		{`\deleted`, imap.FlagDeleted},
		{`$Label1`, `$Label1`},
		{`NonJunk`, `NonJunk`},
	}
	for _, tt := range tests {
		if got := canonicalFlag(tt.in); got != tt.want {
			t.Errorf("canonicalFlag(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestUserMailboxes covers the gaps filled over imapmemserver: an INBOX
// from the start, special-use attributes and a chosen UIDVALIDITY.
func TestUserMailboxes(t *testing.T) {
	u := NewUser("alice", "pw")
	if u.Mailbox("inbox") == nil {
		t.Fatal("a new user has no INBOX")
	}
	sent := u.EnsureMailbox("Sent", 4242, imap.MailboxAttrSent)
	if got := sent.UIDValidity(); got != 4242 {
		t.Errorf("UIDVALIDITY = %d, want 4242", got)
	}
	if u.EnsureMailbox("Sent", 0, "") != sent {
		t.Error("EnsureMailbox made a second Sent")
	}
	data := sent.list(&imap.ListOptions{})
	if diff := cmp.Diff([]imap.MailboxAttr{imap.MailboxAttrSent}, data.Attrs); diff != "" {
		t.Errorf("LIST attributes without RETURN (SPECIAL-USE) (-want +got):\n%s", diff)
	}
}

func TestAppendAndSetFlags(t *testing.T) {
	m := NewUser("alice", "pw").Mailbox("INBOX")
	uid := m.Append([]byte("Subject: x\r\n\r\nbody\r\n"), []imap.Flag{`\seen`}, time.Now())
	if m.Len() != 1 {
		t.Fatalf("Len() = %d, want 1", m.Len())
	}
	if got := m.l[0].flagList(); !cmp.Equal(got, []imap.Flag{imap.FlagSeen}) {
		t.Errorf("flags = %v, want [\\Seen] in its usual case", got)
	}
	if !m.SetFlags(uid, []imap.Flag{imap.FlagFlagged}) {
		t.Fatal("SetFlags on an existing UID = false")
	}
	if got := m.l[0].flagList(); !cmp.Equal(got, []imap.Flag{imap.FlagFlagged}) {
		t.Errorf("flags after SetFlags = %v", got)
	}
	if m.SetFlags(uid+1, nil) {
		t.Error("SetFlags on a missing UID = true")
	}
	sel := m.selectDataLocked(false)
	for _, f := range []imap.Flag{imap.FlagSeen, imap.FlagDeleted, imap.FlagWildcard} {
		if !slices.Contains(sel.PermanentFlags, f) {
			t.Errorf("PERMANENTFLAGS %v lacks %s", sel.PermanentFlags, f)
		}
	}
}
