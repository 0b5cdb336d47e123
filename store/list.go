package store

import (
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
)

// MessageInfo describes one message as a test wants to check it: what a
// client appended, flagged or deleted.
type MessageInfo struct {
	UID     imap.UID
	Flags   []imap.Flag // sorted
	Size    int
	Date    time.Time // the internal date
	Subject string
}

// Messages lists the mailbox's messages in UID order.
func (mbox *Mailbox) Messages() []MessageInfo {
	mbox.mutex.Lock()
	list := make([]MessageInfo, len(mbox.l))
	msgs := slices.Clone(mbox.l)
	for i, msg := range mbox.l {
		flags := slices.Clone(msg.flagList())
		slices.Sort(flags)
		list[i] = MessageInfo{UID: msg.uid, Flags: flags, Size: len(msg.buf), Date: msg.t}
	}
	mbox.mutex.Unlock()
	// Messages are immutable once stored: their headers are read without
	// holding up the sessions.
	for i, msg := range msgs {
		if env := msg.envelope(); env != nil {
			list[i].Subject = env.Subject
		}
	}
	return list
}

// Raw returns the text of the message with the given UID.
func (mbox *Mailbox) Raw(uid imap.UID) ([]byte, bool) {
	mbox.mutex.Lock()
	defer mbox.mutex.Unlock()
	for _, msg := range mbox.l {
		if msg.uid == uid {
			return slices.Clone(msg.buf), true
		}
	}
	return nil, false
}
