package store

import (
	"slices"

	"github.com/emersion/go-imap/v2"
)

// mailboxSystemFlags are the flags every mailbox's FLAGS list starts with;
// \Recent is not among them since no client may set it.
var mailboxSystemFlags = []imap.Flag{imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagSeen, imap.FlagDraft}

// flagsLocked is the mailbox's FLAGS list: the system flags, then every
// keyword ever set in it, in the order they appeared (as Dovecot lists
// them). The slice is new.
func (mbox *Mailbox) flagsLocked() []imap.Flag {
	flags := make([]imap.Flag, 0, len(mailboxSystemFlags)+len(mbox.keywords)+1)
	flags = append(flags, mailboxSystemFlags...)
	return append(flags, mbox.keywords...)
}

// defineKeywordsLocked adds the keywords among flags that the mailbox has
// not seen yet and, when there are any, queues the new FLAGS list to every
// session but source: a client must see a keyword in FLAGS before a
// message carries it (RFC 3501 section 7.2.6). It returns the new list,
// or nil when nothing changed. flags must be canonical (storableFlags).
func (mbox *Mailbox) defineKeywordsLocked(flags []imap.Flag, source *SessionTracker) []imap.Flag {
	changed := false
	for _, f := range flags {
		if slices.Contains(mailboxSystemFlags, f) || slices.Contains(mbox.keywords, f) {
			continue
		}
		mbox.keywords = append(mbox.keywords, f)
		changed = true
	}
	if !changed {
		return nil
	}
	list := mbox.flagsLocked()
	mbox.tracker.queueUpdate(&trackerUpdate{mailboxFlags: list}, source)
	return list
}

// storableFlags returns flags in their canonical spelling without
// \Recent, which only the server sets (RFC 3501 section 2.3.2). Keywords
// compare case-sensitively here, as in imapmemserver.
func storableFlags(flags []imap.Flag) []imap.Flag {
	out := make([]imap.Flag, 0, len(flags))
	for _, f := range flags {
		f = canonicalFlag(f)
		if f != flagRecent && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func (t *SessionTracker) setKnownKeywords(n int) {
	t.mutex.Lock()
	t.knownKeywords = n
	t.mutex.Unlock()
}

func (t *SessionTracker) getKnownKeywords() int {
	t.mutex.Lock()
	defer t.mutex.Unlock()
	return t.knownKeywords
}

// knownFlagsLocked returns flags without the keywords the client has not
// been given in a FLAGS list yet: another session just set them, and the
// FLAGS line and a FETCH with them wait in this session's queue, which
// go-imap polls after the command. Sent now, they would come before the
// FLAGS line that announces them (RFC 3501 section 7.2.6). flags may be
// shared (msgFlags.list): a list with keywords to leave out is a copy.
func (mbox *Mailbox) knownFlagsLocked(flags []imap.Flag, known int) []imap.Flag {
	if known >= len(mbox.keywords) {
		return flags
	}
	unknown := func(f imap.Flag) bool { return slices.Index(mbox.keywords, f) >= known }
	if !slices.ContainsFunc(flags, unknown) {
		return flags
	}
	return slices.DeleteFunc(slices.Clone(flags), unknown)
}

// permanentFlags is the PERMANENTFLAGS list that goes with the FLAGS list
// flags: all of them and \* (a client may create keywords), or none in a
// read-only session (EXAMINE), as Dovecot says.
func permanentFlags(flags []imap.Flag, readOnly bool) []imap.Flag {
	if readOnly {
		return []imap.Flag{}
	}
	return append(flags[:len(flags):len(flags)], imap.FlagWildcard)
}

// announcePermanentFlags follows the FLAGS line that announced a new
// keyword with the PERMANENTFLAGS that include it, as Dovecot does: a
// client that keeps the PERMANENTFLAGS of SELECT would otherwise not know
// the keyword is permanent. go-imap's UpdateWriter cannot write it, so the
// line goes to the connection below go-imap (SetUntaggedWriter). That is
// in order: go-imap flushes every response before its writer returns, and
// nothing else writes while the session polls (a command's updates, or
// IDLE's, come from the session's own goroutine).
func (mbox *MailboxView) announcePermanentFlags(flags []imap.Flag) error {
	if mbox.out == nil {
		return nil
	}
	mbox.mutex.Lock()
	readOnly := mbox.readOnly
	mbox.mutex.Unlock()
	line := []byte("* OK [PERMANENTFLAGS (")
	for i, f := range permanentFlags(flags, readOnly) {
		if i > 0 {
			line = append(line, ' ')
		}
		line = append(line, f...)
	}
	line = append(line, ")] Permanent flags\r\n"...)
	_, err := mbox.out.Write(line)
	return err
}
