package store

import (
	"io"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

type (
	user    = User
	mailbox = MailboxView
)

// UserSession represents a session tied to a specific user.
//
// UserSession implements imapserver.Session. Typically, a UserSession pointer
// is embedded into a larger struct which overrides Login.
type UserSession struct {
	*user    // immutable
	*mailbox // may be nil
	out      io.Writer
}

var _ imapserver.SessionIMAP4rev2 = (*UserSession)(nil)

// NewUserSession creates a new user session.
func NewUserSession(user *User) *UserSession {
	return &UserSession{user: user}
}

// SetUntaggedWriter gives the session the connection below go-imap's
// imapserver, for the one untagged response go-imap has no writer for:
// "* OK [PERMANENTFLAGS (...)]" after the FLAGS line that announces a new
// keyword (RFC 3501 section 7.2.6; keywords.go). Without it only FLAGS is
// sent.
func (sess *UserSession) SetUntaggedWriter(w io.Writer) { sess.out = w }

func (sess *UserSession) Close() error {
	if sess != nil && sess.mailbox != nil {
		sess.mailbox.Close()
	}
	return nil
}

func (sess *UserSession) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	mbox, err := sess.user.mailbox(name)
	if err != nil {
		return nil, err
	}
	mbox.mutex.Lock()
	defer mbox.mutex.Unlock()
	view := mbox.NewView()
	view.readOnly = options.ReadOnly
	view.out = sess.out
	view.seeLocked()
	data := mbox.selectDataLocked(view.readOnly)
	data.NumRecent = view.numRecentLocked()
	view.lastRecent = data.NumRecent
	view.tracker.setKnownKeywords(len(mbox.keywords))
	sess.mailbox = view
	return data, nil
}

func (sess *UserSession) Unselect() error {
	sess.mailbox.Close()
	sess.mailbox = nil
	return nil
}

// copied is what a copy of a message needs, taken under the source's lock
// and appended after it is released: the destination may be the same
// mailbox (legal, RFC 3501 section 6.4.7), and taking two mailbox locks
// at once would deadlock two sessions copying in opposite directions.
type copied struct {
	uid   imap.UID
	buf   []byte
	t     time.Time
	flags []imap.Flag
}

func (sess *UserSession) Copy(numSet imap.NumSet, destName string) (*imap.CopyData, error) {
	dest, err := sess.user.mailbox(destName)
	if err != nil {
		return nil, errNoDest
	}
	var msgs []copied
	sess.mailbox.forEach(numSet, func(_, _ uint32, msg *message) {
		msgs = append(msgs, copied{msg.uid, msg.buf, msg.t, msg.flagList()})
	})
	if len(msgs) == 0 {
		return nil, nil // OK without COPYUID: an empty set has no syntax
	}
	return dest.appendCopies(msgs), nil
}

// Move moves the messages as Dovecot does: the originals are expunged
// before the copies arrive, so that a move into the selected mailbox
// reads "* 1 EXPUNGE" then "* N EXISTS" with the final count. The
// EXPUNGE and EXISTS lines go out through the session's queue, which
// go-imap polls after MOVE.
func (sess *UserSession) Move(w *imapserver.MoveWriter, numSet imap.NumSet, destName string) error {
	dest, err := sess.user.mailbox(destName)
	if err != nil {
		return errNoDest
	}
	src := sess.mailbox
	var msgs []copied
	moved := make(map[*message]bool)
	src.mutex.Lock()
	src.forEachLocked(numSet, func(_, _ uint32, msg *message) {
		msgs = append(msgs, copied{msg.uid, msg.buf, msg.t, msg.flagList()})
		moved[msg] = true
	})
	src.expungeLocked(func(msg *message) bool { return moved[msg] })
	src.mutex.Unlock()
	if len(msgs) == 0 {
		return nil
	}
	return w.WriteCopyData(dest.appendCopies(msgs))
}

var errNoDest = &imap.Error{
	Type: imap.StatusResponseTypeNo,
	Code: imap.ResponseCodeTryCreate,
	Text: "No such mailbox",
}

// appendCopies appends copies of messages and returns the COPYUID data.
func (mbox *Mailbox) appendCopies(msgs []copied) *imap.CopyData {
	data := &imap.CopyData{UIDValidity: mbox.UIDValidity()}
	for _, m := range msgs {
		appended := mbox.appendBytes(m.buf, &imap.AppendOptions{Time: m.t, Flags: m.flags})
		data.SourceUIDs.AddNum(m.uid)
		data.DestUIDs.AddNum(appended.UID)
		data.UIDValidity = appended.UIDValidity
	}
	return data
}

func (sess *UserSession) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if sess.mailbox == nil {
		return nil
	}
	return sess.mailbox.Poll(w, allowExpunge)
}

func (sess *UserSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if sess.mailbox == nil {
		return nil // TODO
	}
	return sess.mailbox.Idle(w, stop)
}
