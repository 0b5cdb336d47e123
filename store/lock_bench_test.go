package store

import (
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// BenchmarkMailboxLock measures commands on one message of a mailbox of
// 100k messages, which hold the mailbox lock throughout: every other
// session of the mailbox waits that long (issue 19 item 9).
func BenchmarkMailboxLock(b *testing.B) {
	m := NewMailbox("INBOX", 1)
	raw := []byte("Subject: x\r\n\r\nb\r\n")
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	for range 100_000 {
		m.Append(raw, nil, t0)
	}
	b.Run("fetch-one", func(b *testing.B) {
		v := m.NewView()
		defer v.Close()
		b.ReportAllocs()
		for b.Loop() {
			v.forEach(imap.SeqSetNum(1), func(_, _ uint32, _ *message) {})
		}
	})
	b.Run("store-one", func(b *testing.B) {
		v := m.NewView()
		defer v.Close()
		flags := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged}}
		b.ReportAllocs()
		for b.Loop() {
			if err := v.Store(nil, imap.SeqSetNum(2), flags, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("expunge-one", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Append(raw, []imap.Flag{imap.FlagDeleted}, t0)
			if err := m.Expunge(nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
