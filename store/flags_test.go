package store

import (
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/google/go-cmp/cmp"
)

// TestFlagOrder pins the order of a FLAGS list in FETCH: the system flags
// as the mailbox's FLAGS line lists them, the keywords in the order they
// were set, \Recent last (the golden FETCH test compares lists sorted).
func TestFlagOrder(t *testing.T) {
	if len(mailboxSystemFlags) != 5 {
		t.Fatalf("sysLists has a bit for 5 system flags, mailboxSystemFlags has %d", len(mailboxSystemFlags))
	}
	tests := []struct {
		name   string
		ops    []imap.StoreFlags
		recent bool
		want   []imap.Flag
	}{
		{name: "none", want: nil},
		{name: "none recent", recent: true, want: []imap.Flag{flagRecent}},
		{
			name: "system flags in FLAGS order",
			ops:  []imap.StoreFlags{{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{`\draft`, imap.FlagSeen, imap.FlagDeleted, imap.FlagFlagged, imap.FlagAnswered}}},
			want: []imap.Flag{imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagSeen, imap.FlagDraft},
		},
		{
			name: "keywords after, in the order set, then recent",
			ops: []imap.StoreFlags{
				{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{"NonJunk", imap.FlagSeen}},
				{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{"$Forwarded", "NonJunk"}},
			},
			recent: true,
			want:   []imap.Flag{imap.FlagSeen, "NonJunk", "$Forwarded", flagRecent},
		},
		{
			name: "removed",
			ops: []imap.StoreFlags{
				{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{"a", "b", "c", imap.FlagSeen, imap.FlagFlagged}},
				{Op: imap.StoreFlagsDel, Flags: []imap.Flag{"b", `\SEEN`, "missing"}},
			},
			want: []imap.Flag{imap.FlagFlagged, "a", "c"},
		},
		{
			name: "replaced",
			ops: []imap.StoreFlags{
				{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{"a", imap.FlagSeen}},
				{Op: imap.StoreFlagsSet, Flags: []imap.Flag{imap.FlagDraft}},
			},
			want: []imap.Flag{imap.FlagDraft},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var msg message
			for _, op := range tt.ops {
				msg.store(&op)
			}
			if diff := cmp.Diff(tt.want, msg.flags.list(tt.recent)); diff != "" {
				t.Errorf("list(%v) (-want +got):\n%s", tt.recent, diff)
			}
			for _, f := range tt.want {
				if f != flagRecent && !msg.hasFlag(f, false) {
					t.Errorf("hasFlag(%s) = false", f)
				}
			}
		})
	}
}

// TestSharedFlagListsUntouched: messages without keywords share their
// FLAGS list, so leaving out a keyword the session was not told of must
// not write into a list another message or session holds.
func TestSharedFlagListsUntouched(t *testing.T) {
	mbox := NewMailbox("INBOX", 1)
	mbox.keywords = []imap.Flag{"old", "new"}
	var plain, kw msgFlags
	plain.add(imap.FlagSeen)
	kw.add(imap.FlagSeen)
	kw.add("new")
	kwList := kw.list(true)
	before := append([]imap.Flag(nil), kwList...)
	got := mbox.knownFlagsLocked(kwList, 1)
	if diff := cmp.Diff([]imap.Flag{imap.FlagSeen, flagRecent}, got); diff != "" {
		t.Errorf("known flags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, kwList); diff != "" {
		t.Errorf("knownFlagsLocked changed its argument (-before +after):\n%s", diff)
	}
	if got := mbox.knownFlagsLocked(plain.list(false), 1); &got[0] != &sysLists[0][plain.sys][0] {
		t.Error("a list with nothing to leave out was copied")
	}
	if diff := cmp.Diff([]imap.Flag{imap.FlagSeen}, sysLists[0][plain.sys]); diff != "" {
		t.Errorf("shared list changed (-want +got):\n%s", diff)
	}
}
