package store

import (
	"fmt"
	"slices"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// MailboxTracker tracks the state of a mailbox.
//
// A mailbox can have multiple sessions listening for updates. Each session has
// its own view of the mailbox, because IMAP clients asynchronously receive
// mailbox updates.
type MailboxTracker struct {
	mutex       sync.Mutex
	numMessages uint32
	sessions    map[*SessionTracker]struct{}
}

// NewMailboxTracker creates a new mailbox tracker.
func NewMailboxTracker(numMessages uint32) *MailboxTracker {
	return &MailboxTracker{
		numMessages: numMessages,
		sessions:    make(map[*SessionTracker]struct{}),
	}
}

// NewSession creates a new session tracker for the mailbox.
//
// The caller must call SessionTracker.Close once they are done with the
// session.
func (t *MailboxTracker) NewSession() *SessionTracker {
	st := &SessionTracker{mailbox: t}
	t.mutex.Lock()
	t.sessions[st] = struct{}{}
	t.mutex.Unlock()
	return st
}

func (t *MailboxTracker) queueUpdate(update *trackerUpdate, source *SessionTracker) {
	t.mutex.Lock()
	defer t.mutex.Unlock()

	if update.expunge != 0 && update.expunge > t.numMessages {
		panic(fmt.Errorf("imapserver: expunge sequence number (%v) out of range (%v messages in mailbox)", update.expunge, t.numMessages))
	}
	if update.numMessages != 0 && update.numMessages < t.numMessages {
		panic(fmt.Errorf("imapserver: cannot decrease mailbox number of messages from %v to %v", t.numMessages, update.numMessages))
	}

	for st := range t.sessions {
		if source != nil && st == source {
			continue
		}
		st.queueUpdate(update)
	}

	switch {
	case update.expunge != 0:
		t.numMessages--
	case update.numMessages != 0:
		t.numMessages = update.numMessages
	}
}

// QueueExpunge queues a new EXPUNGE update.
func (t *MailboxTracker) QueueExpunge(seqNum uint32) {
	if seqNum == 0 {
		panic("imapserver: invalid expunge message sequence number")
	}
	t.queueUpdate(&trackerUpdate{expunge: seqNum}, nil)
}

// QueueNumMessages queues a new EXISTS update.
func (t *MailboxTracker) QueueNumMessages(n uint32) {
	// TODO: merge consecutive NumMessages updates
	t.queueUpdate(&trackerUpdate{numMessages: n}, nil)
}

// QueueMailboxFlags queues a new FLAGS update.
func (t *MailboxTracker) QueueMailboxFlags(flags []imap.Flag) {
	if flags == nil {
		flags = []imap.Flag{}
	}
	t.queueUpdate(&trackerUpdate{mailboxFlags: flags}, nil)
}

// QueueMessageFlags queues a new FETCH FLAGS update.
//
// If source is not nil, the update won't be dispatched to it.
func (t *MailboxTracker) QueueMessageFlags(seqNum uint32, uid imap.UID, flags []imap.Flag, source *SessionTracker) {
	t.queueUpdate(&trackerUpdate{fetch: &trackerUpdateFetch{
		seqNum: seqNum,
		uid:    uid,
		flags:  flags,
	}}, source)
}

type trackerUpdate struct {
	expunge      uint32
	numMessages  uint32
	mailboxFlags []imap.Flag
	fetch        *trackerUpdateFetch
}

type trackerUpdateFetch struct {
	seqNum uint32
	uid    imap.UID
	flags  []imap.Flag
}

// SessionTracker tracks the state of a mailbox for an IMAP client.
type SessionTracker struct {
	mailbox *MailboxTracker

	mutex   sync.Mutex
	queue   []trackerUpdate
	updates chan<- struct{}
	recent  imap.UIDSet // the messages \Recent for this session (recent.go)
	// knownKeywords counts the mailbox's keywords the client was given in
	// a FLAGS list (keywords.go).
	knownKeywords int
}

// Close unregisters the session.
func (t *SessionTracker) Close() {
	t.mailbox.mutex.Lock()
	delete(t.mailbox.sessions, t)
	t.mailbox.mutex.Unlock()
	t.mailbox = nil
}

func (t *SessionTracker) queueUpdate(update *trackerUpdate) {
	var updates chan<- struct{}
	t.mutex.Lock()
	t.queue = append(t.queue, *update)
	updates = t.updates
	t.mutex.Unlock()

	if updates != nil {
		select {
		case updates <- struct{}{}:
			// we notified SessionTracker.Idle about the update
		default:
			// skip the update
		}
	}
}

// queueFront puts updates ahead of everything queued: the session's own
// FLAGS and FETCH replies to its STORE, which belong before the changes
// other sessions made meanwhile. Their sequence numbers are in the
// client's current view. A FLAGS list among them is the mailbox's newest,
// so the older ones still queued go: sent after it, they would take back
// keywords the client was just given.
func (t *SessionTracker) queueFront(updates []trackerUpdate) {
	t.mutex.Lock()
	rest := t.queue
	if slices.ContainsFunc(updates, func(u trackerUpdate) bool { return u.mailboxFlags != nil }) {
		rest = slices.DeleteFunc(rest, func(u trackerUpdate) bool { return u.mailboxFlags != nil })
	}
	t.queue = append(updates, rest...)
	t.mutex.Unlock()
}

// Poll dequeues pending mailbox updates for this session.
func (t *SessionTracker) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	_, err := t.poll(w, allowExpunge, nil)
	return err
}

// poll is Poll, and reports whether it announced new messages (EXISTS).
// afterFlags, when not nil, runs after each FLAGS line is written.
func (t *SessionTracker) poll(w *imapserver.UpdateWriter, allowExpunge bool, afterFlags func([]imap.Flag) error) (exists bool, err error) {
	var updates []trackerUpdate
	t.mutex.Lock()
	if allowExpunge {
		updates = t.queue
		t.queue = nil
	} else {
		stopIndex := -1
		for i, update := range t.queue {
			if update.expunge != 0 {
				stopIndex = i
				break
			}
			updates = append(updates, update)
		}
		if stopIndex >= 0 {
			t.queue = t.queue[stopIndex:]
		} else {
			t.queue = nil
		}
	}
	// Flag lists are shared by every session: \Recent, which is this
	// session's alone, goes into a copy.
	for i, update := range updates {
		if update.fetch != nil && t.recent.Contains(update.fetch.uid) {
			fetch := *update.fetch
			fetch.flags = withRecent(fetch.flags)
			updates[i].fetch = &fetch
		}
	}
	t.mutex.Unlock()

	for _, update := range updates {
		switch {
		case update.expunge != 0:
			err = w.WriteExpunge(update.expunge)
		case update.numMessages != 0:
			exists = true
			err = w.WriteNumMessages(update.numMessages)
		case update.mailboxFlags != nil:
			err = w.WriteMailboxFlags(update.mailboxFlags)
			t.setKnownKeywords(len(update.mailboxFlags) - len(mailboxSystemFlags))
			if err == nil && afterFlags != nil {
				err = afterFlags(update.mailboxFlags)
			}
		case update.fetch != nil:
			err = w.WriteMessageFlags(update.fetch.seqNum, update.fetch.uid, update.fetch.flags)
		default:
			panic(fmt.Errorf("imapserver: unknown tracker update %#v", update))
		}
		if err != nil {
			return exists, err
		}
	}
	return exists, nil
}

// Idle continuously writes mailbox updates through poll, the session's
// Poll (which adds what the tracker does not know, such as RECENT).
//
// When the stop channel is closed, it returns.
//
// Idle cannot be invoked concurrently from two separate goroutines.
func (t *SessionTracker) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}, poll func(*imapserver.UpdateWriter, bool) error) error {
	updates := make(chan struct{}, 64)
	t.mutex.Lock()
	ok := t.updates == nil
	if ok {
		t.updates = updates
	}
	t.mutex.Unlock()
	if !ok {
		return fmt.Errorf("imapserver: only a single SessionTracker.Idle call is allowed at a time")
	}

	defer func() {
		t.mutex.Lock()
		t.updates = nil
		t.mutex.Unlock()
	}()

	// go-imap's tracker waits for the next update here, so a message
	// delivered between the "+" and this point stays unannounced until
	// another one arrives. Flush what is already queued first.
	if err := poll(w, true); err != nil {
		return err
	}

	for {
		select {
		case <-updates:
			if err := poll(w, true); err != nil {
				return err
			}
		case <-stop:
			return nil
		}
	}
}

// DecodeSeqNum converts a message sequence number from the client view to the
// server view.
//
// Zero is returned if the message doesn't exist from the server point-of-view.
func (t *SessionTracker) DecodeSeqNum(seqNum uint32) uint32 {
	if seqNum == 0 {
		return 0
	}

	t.mutex.Lock()
	defer t.mutex.Unlock()

	for _, update := range t.queue {
		if update.expunge == 0 {
			continue
		}
		if seqNum == update.expunge {
			return 0
		} else if seqNum > update.expunge {
			seqNum--
		}
	}

	if seqNum > t.mailbox.numMessages {
		return 0
	}

	return seqNum
}

// EncodeSeqNum converts a message sequence number from the server view to the
// client view.
//
// Zero is returned if the message doesn't exist from the server point-of-view.
func (t *SessionTracker) EncodeSeqNum(seqNum uint32) uint32 {
	t.mutex.Lock()
	defer t.mutex.Unlock()
	return encodeSeqNum(t.queue, t.mailbox.numMessages, seqNum)
}

// seqView is a session's sequence numbers at one moment, for a command
// that encodes many under the mailbox lock: one lock of the session
// instead of one per message.
type seqView struct {
	numMessages uint32
	pending     []trackerUpdate // the queued EXISTS and EXPUNGE updates
}

// seqView takes the session's view; the caller holds the mailbox lock,
// so that no update is queued meanwhile.
func (t *SessionTracker) seqView() seqView {
	t.mutex.Lock()
	defer t.mutex.Unlock()
	v := seqView{numMessages: t.mailbox.numMessages}
	for _, u := range t.queue {
		if u.expunge != 0 || u.numMessages != 0 {
			v.pending = append(v.pending, u)
		}
	}
	return v
}

// encode is EncodeSeqNum at the view's moment.
func (v seqView) encode(seqNum uint32) uint32 {
	return encodeSeqNum(v.pending, v.numMessages, seqNum)
}

// identity reports whether the client numbers messages as the server
// does, up to numMessages: nothing is queued that shifts them.
func (v seqView) identity() bool { return len(v.pending) == 0 }

func encodeSeqNum(queue []trackerUpdate, numMessages, seqNum uint32) uint32 {
	if seqNum == 0 || seqNum > numMessages {
		return 0
	}
	for i := len(queue) - 1; i >= 0; i-- {
		update := queue[i]
		// TODO: this doesn't handle increments > 1
		if update.numMessages != 0 && seqNum == update.numMessages {
			return 0
		}
		if update.expunge != 0 && seqNum >= update.expunge {
			seqNum++
		}
	}
	return seqNum
}
