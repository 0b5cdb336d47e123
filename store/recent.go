package store

import "github.com/emersion/go-imap/v2"

// \Recent (RFC 3501 section 2.3.2) as Dovecot keeps it: a message is
// recent for the first session that sees it with the mailbox selected
// read-write, at SELECT or at the first poll after it arrived, and for no
// session after that. A read-only (EXAMINE) session shows the messages
// nobody claimed yet as recent without claiming them. The mailbox holds
// one UID: the messages from recentFrom on are unclaimed, since a claim
// takes every message there is. Each session's tracker holds the UIDs
// recent for it.

// flagRecent is \Recent, which go-imap v2 spells only internally.
const flagRecent imap.Flag = `\Recent`

// seeLocked brings the view's recent set up to the mailbox's newest
// message, claiming what nobody saw when the view is read-write. It
// reports whether the set grew. The caller holds the mailbox lock.
func (mbox *MailboxView) seeLocked() bool {
	next := mbox.Mailbox.uidNext
	if mbox.seenUpTo == next {
		return false
	}
	from := max(mbox.Mailbox.recentFrom, mbox.seenUpTo)
	mbox.seenUpTo = next
	if !mbox.readOnly {
		mbox.Mailbox.recentFrom = next
	}
	if from >= next {
		return false
	}
	mbox.tracker.addRecent(from, next-1)
	return true
}

// numRecentLocked counts the view's recent messages still in the mailbox.
func (mbox *MailboxView) numRecentLocked() uint32 {
	recent := mbox.tracker.recentSet()
	if len(recent) == 0 {
		return 0
	}
	var n uint32
	for _, msg := range mbox.l {
		if recent.Contains(msg.uid) {
			n++
		}
	}
	return n
}

// numUnclaimedLocked counts the messages no read-write session has seen:
// STATUS RECENT.
func (mbox *Mailbox) numUnclaimedLocked() uint32 {
	var n uint32
	for i := len(mbox.l) - 1; i >= 0 && mbox.l[i].uid >= mbox.recentFrom; i-- {
		n++
	}
	return n
}

// withRecent returns flags with \Recent added, in a new slice: flag lists
// are shared between sessions.
func withRecent(flags []imap.Flag) []imap.Flag {
	return append(flags[:len(flags):len(flags)], flagRecent)
}

func (t *SessionTracker) addRecent(first, last imap.UID) {
	t.mutex.Lock()
	t.recent.AddRange(first, last)
	t.mutex.Unlock()
}

// recentSet returns the UIDs recent for the session; the caller must not
// change it.
func (t *SessionTracker) recentSet() imap.UIDSet {
	t.mutex.Lock()
	defer t.mutex.Unlock()
	return t.recent
}
