package store

import (
	"bytes"
	"io"
	"math"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// Mailbox is an in-memory mailbox.
//
// The same mailbox can be shared between multiple connections and multiple
// users.
type Mailbox struct {
	tracker     *MailboxTracker
	uidValidity uint32

	mutex      sync.Mutex
	name       string
	subscribed bool
	specialUse []imap.MailboxAttr
	l          []*message
	uidNext    imap.UID
	// recentFrom is the first UID no read-write session has seen: the
	// messages from it on are \Recent for the next one (recent.go).
	recentFrom imap.UID
	// keywords are the keywords ever set in the mailbox, in the order
	// they appeared: the FLAGS list beyond the system flags (keywords.go).
	keywords []imap.Flag
}

// NewMailbox creates a new mailbox.
func NewMailbox(name string, uidValidity uint32) *Mailbox {
	return &Mailbox{
		tracker:     NewMailboxTracker(0),
		uidValidity: uidValidity,
		name:        name,
		uidNext:     1,
		recentFrom:  1,
	}
}

func (mbox *Mailbox) list(options *imap.ListOptions) *imap.ListData {
	mbox.mutex.Lock()
	defer mbox.mutex.Unlock()

	if options.SelectSubscribed && !mbox.subscribed {
		return nil
	}
	if options.SelectSpecialUse && len(mbox.specialUse) == 0 {
		return nil
	}

	data := imap.ListData{
		Mailbox: mbox.name,
		Delim:   mailboxDelim,
	}
	if mbox.subscribed {
		data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
	}
	// RFC 6154 section 2: a server advertising SPECIAL-USE returns the
	// attributes in every LIST, not only with RETURN (SPECIAL-USE).
	if len(mbox.specialUse) > 0 {
		data.Attrs = append(data.Attrs, mbox.specialUse...)
	}
	if options.ReturnStatus != nil {
		data.Status = mbox.statusDataLocked(options.ReturnStatus)
	}
	return &data
}

// Append adds a message as a delivery would, waking IDLE sessions.
func (mbox *Mailbox) Append(raw []byte, flags []imap.Flag, t time.Time) imap.UID {
	return mbox.appendBytes(raw, &imap.AppendOptions{Flags: flags, Time: t}).UID
}

// UIDValidity returns the mailbox's UIDVALIDITY.
func (mbox *Mailbox) UIDValidity() uint32 {
	mbox.mutex.Lock()
	defer mbox.mutex.Unlock()
	return mbox.uidValidity
}

// SetUIDValidity changes UIDVALIDITY, as a server does after rebuilding its
// index; clients must then drop their cache of the mailbox.
func (mbox *Mailbox) SetUIDValidity(v uint32) {
	mbox.mutex.Lock()
	mbox.uidValidity = v
	mbox.mutex.Unlock()
}

// SetFlags replaces the flags of the message with the given UID and tells
// the sessions watching the mailbox. It reports whether the UID exists.
func (mbox *Mailbox) SetFlags(uid imap.UID, flags []imap.Flag) bool {
	mbox.mutex.Lock()
	defer mbox.mutex.Unlock()
	for i, msg := range mbox.l {
		if msg.uid == uid {
			flags = storableFlags(flags)
			mbox.defineKeywordsLocked(flags, nil)
			msg.store(&imap.StoreFlags{Op: imap.StoreFlagsSet, Flags: flags})
			mbox.tracker.QueueMessageFlags(uint32(i+1), uid, msg.flagList(), nil)
			return true
		}
	}
	return false
}

// Len returns the number of messages.
func (mbox *Mailbox) Len() int {
	mbox.mutex.Lock()
	defer mbox.mutex.Unlock()
	return len(mbox.l)
}

// StatusData returns data for the STATUS command.
func (mbox *Mailbox) StatusData(options *imap.StatusOptions) *imap.StatusData {
	mbox.mutex.Lock()
	defer mbox.mutex.Unlock()
	return mbox.statusDataLocked(options)
}

func (mbox *Mailbox) statusDataLocked(options *imap.StatusOptions) *imap.StatusData {
	data := imap.StatusData{Mailbox: mbox.name}
	if options.NumMessages {
		num := uint32(len(mbox.l))
		data.NumMessages = &num
	}
	if options.UIDNext {
		data.UIDNext = mbox.uidNext
	}
	if options.UIDValidity {
		data.UIDValidity = mbox.uidValidity
	}
	if options.NumUnseen {
		num := uint32(len(mbox.l)) - mbox.countByFlagLocked(imap.FlagSeen)
		data.NumUnseen = &num
	}
	if options.NumDeleted {
		num := mbox.countByFlagLocked(imap.FlagDeleted)
		data.NumDeleted = &num
	}
	if options.Size {
		size := mbox.sizeLocked()
		data.Size = &size
	}
	if options.NumRecent {
		num := mbox.numUnclaimedLocked()
		data.NumRecent = &num
	}
	return &data
}

func (mbox *Mailbox) countByFlagLocked(flag imap.Flag) uint32 {
	var n uint32
	for _, msg := range mbox.l {
		if msg.flags.has(canonicalFlag(flag)) {
			n++
		}
	}
	return n
}

func (mbox *Mailbox) sizeLocked() int64 {
	var size int64
	for _, msg := range mbox.l {
		size += int64(len(msg.buf))
	}
	return size
}

func (mbox *Mailbox) appendLiteral(r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return mbox.appendBytes(buf.Bytes(), options), nil
}

func (mbox *Mailbox) appendBytes(buf []byte, options *imap.AppendOptions) *imap.AppendData {
	msg := &message{buf: buf}

	if options.Time.IsZero() {
		msg.t = time.Now()
	} else {
		msg.t = options.Time
	}

	// As storableFlags, without its slice: a server seeding a million
	// messages appends them here.
	for _, flag := range options.Flags {
		if flag = canonicalFlag(flag); flag != flagRecent {
			msg.flags.add(flag)
		}
	}

	mbox.mutex.Lock()
	defer mbox.mutex.Unlock()

	// A keyword's first use is announced before the message that has it
	// (RFC 3501 section 7.2.6).
	mbox.defineKeywordsLocked(msg.flags.keywords, nil)

	msg.uid = mbox.uidNext
	mbox.uidNext++

	mbox.l = append(mbox.l, msg)
	mbox.tracker.QueueNumMessages(uint32(len(mbox.l)))

	return &imap.AppendData{
		UIDValidity: mbox.uidValidity,
		UID:         msg.uid,
	}
}

func (mbox *Mailbox) rename(newName string) {
	mbox.mutex.Lock()
	mbox.name = newName
	mbox.mutex.Unlock()
}

func (mbox *Mailbox) isSubscribed() bool {
	mbox.mutex.Lock()
	defer mbox.mutex.Unlock()
	return mbox.subscribed
}

// SetSubscribed changes the subscription state of this mailbox.
func (mbox *Mailbox) SetSubscribed(subscribed bool) {
	mbox.mutex.Lock()
	mbox.subscribed = subscribed
	mbox.mutex.Unlock()
}

func (mbox *Mailbox) selectDataLocked(readOnly bool) *imap.SelectData {
	// Real servers list the system flags even in an empty mailbox, and
	// clients such as mbsync decide from PERMANENTFLAGS what they may store.
	flags := mbox.flagsLocked()

	// TODO: skip if IMAP4rev1 is disabled by the server, or IMAP4rev2 is
	// enabled by the client
	firstUnseenSeqNum := mbox.firstUnseenSeqNumLocked()

	return &imap.SelectData{
		Flags:             flags,
		PermanentFlags:    permanentFlags(flags, readOnly),
		NumMessages:       uint32(len(mbox.l)),
		FirstUnseenSeqNum: firstUnseenSeqNum,
		UIDNext:           mbox.uidNext,
		UIDValidity:       mbox.uidValidity,
	}
}

func (mbox *Mailbox) firstUnseenSeqNumLocked() uint32 {
	for i, msg := range mbox.l {
		seqNum := uint32(i) + 1
		if !msg.flags.has(imap.FlagSeen) {
			return seqNum
		}
	}
	return 0
}

func (mbox *Mailbox) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	mbox.mutex.Lock()
	defer mbox.mutex.Unlock()
	mbox.expungeLocked(func(msg *message) bool {
		if uids != nil && !uids.Contains(msg.uid) {
			return false
		}
		return msg.flags.has(imap.FlagDeleted)
	})
	return nil
}

// expungeLocked removes the messages drop picks, in one pass and in
// place, and queues their EXPUNGEs from the highest sequence number down,
// so that each number holds when the one before it is applied.
// imapmemserver scanned under the lock, let it go, took it again and
// copied the whole list: with every session expunging, the mailbox lock
// was where they waited (issue 19's mutex profile).
func (mbox *Mailbox) expungeLocked(drop func(*message) bool) {
	var gone []uint32 // server sequence numbers, ascending
	kept := mbox.l[:0]
	for i, msg := range mbox.l {
		if drop(msg) {
			gone = append(gone, uint32(i)+1)
		} else {
			kept = append(kept, msg)
		}
	}
	clear(mbox.l[len(kept):]) // no dangling messages for the GC to keep
	mbox.l = kept
	for i := len(gone) - 1; i >= 0; i-- {
		mbox.tracker.QueueExpunge(gone[i])
	}
}

// NewView creates a new view into this mailbox.
//
// Callers must call MailboxView.Close once they are done with the mailbox view.
func (mbox *Mailbox) NewView() *MailboxView {
	return &MailboxView{
		Mailbox: mbox,
		tracker: mbox.tracker.NewSession(),
	}
}

// A MailboxView is a view into a mailbox.
//
// Each view has its own queue of pending unilateral updates.
//
// Once the mailbox view is no longer used, Close must be called.
//
// Typically, a new MailboxView is created for each IMAP connection in the
// selected state.
type MailboxView struct {
	*Mailbox
	tracker   *SessionTracker
	searchRes imap.UIDSet
	out       io.Writer // see UserSession.SetUntaggedWriter; may be nil

	// Guarded by the mailbox lock (recent.go).
	readOnly   bool     // EXAMINE: shows \Recent without claiming it
	seenUpTo   imap.UID // the UIDNEXT the view last looked at
	lastRecent uint32   // the RECENT count the client was told
}

// Close releases the resources allocated for the mailbox view.
func (mbox *MailboxView) Close() {
	mbox.tracker.Close()
}

func (mbox *MailboxView) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	markSeen := false
	for _, bs := range options.BodySection {
		if !bs.Peek {
			markSeen = true
			break
		}
	}

	// What the responses need is taken under the mailbox lock and written
	// after it: a FETCH that held the lock while its client's socket took
	// the bytes made every other session of the mailbox wait (the mutex
	// profile under load: three quarters of all lock waiting).
	var list []fetched
	recent := mbox.tracker.recentSet()
	known := mbox.tracker.getKnownKeywords()
	mbox.forEach(numSet, func(seqNum, clientSeqNum uint32, msg *message) {
		if markSeen {
			msg.flags.add(imap.FlagSeen)
			mbox.Mailbox.tracker.QueueMessageFlags(seqNum, msg.uid, msg.flagList(), nil)
		}
		f := fetched{seqNum: clientSeqNum, msg: msg}
		if options.Flags {
			f.flags = mbox.Mailbox.knownFlagsLocked(msg.flags.list(recent.Contains(msg.uid)), known)
		}
		list = append(list, f)
	})
	if mbox.out != nil && bareFetch(options) && validFlags(list) {
		return writeBare(mbox.out, list, options.Flags)
	}
	for _, f := range list {
		if err := f.msg.fetch(w.CreateMessage(f.seqNum), f.flags, options); err != nil {
			return err
		}
	}
	return nil
}

// fetched is what a FETCH response needs of a message, taken under the
// mailbox lock.
type fetched struct {
	seqNum uint32
	msg    *message // its buffer, UID and date are immutable
	flags  []imap.Flag
}

func (mbox *MailboxView) Search(numKind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	mbox.mutex.Lock()
	defer mbox.mutex.Unlock()

	mbox.staticSearchCriteria(criteria)
	recent := mbox.tracker.recentSet()

	var (
		data   imap.SearchData
		seqSet imap.SeqSet
		uidSet imap.UIDSet
	)
	view := mbox.tracker.seqView()
	for i, msg := range mbox.l {
		seqNum := view.encode(uint32(i) + 1)

		if !msg.search(seqNum, recent.Contains(msg.uid), criteria) {
			continue
		}

		// Always populate the UID set, since it may be saved later for SEARCHRES
		uidSet.AddNum(msg.uid)

		var num uint32
		switch numKind {
		case imapserver.NumKindSeq:
			if seqNum == 0 {
				continue
			}
			seqSet.AddNum(seqNum)
			num = seqNum
		case imapserver.NumKindUID:
			num = uint32(msg.uid)
		}
		if data.Min == 0 || num < data.Min {
			data.Min = num
		}
		if data.Max == 0 || num > data.Max {
			data.Max = num
		}
		data.Count++
	}

	switch numKind {
	case imapserver.NumKindSeq:
		data.All = seqSet
	case imapserver.NumKindUID:
		data.All = uidSet
	}

	if options.ReturnSave {
		mbox.searchRes = uidSet
	}

	return &data, nil
}

func (mbox *MailboxView) staticSearchCriteria(criteria *imap.SearchCriteria) {
	seqNums := make([]imap.SeqSet, 0, len(criteria.SeqNum))
	for _, seqSet := range criteria.SeqNum {
		numSet := mbox.staticNumSet(seqSet)
		switch numSet := numSet.(type) {
		case imap.SeqSet:
			seqNums = append(seqNums, numSet)
		case imap.UIDSet: // can happen with SEARCHRES
			criteria.UID = append(criteria.UID, numSet)
		}
	}
	criteria.SeqNum = seqNums

	for i, uidSet := range criteria.UID {
		criteria.UID[i] = mbox.staticNumSet(uidSet).(imap.UIDSet)
	}

	for i := range criteria.Not {
		mbox.staticSearchCriteria(&criteria.Not[i])
	}
	for i := range criteria.Or {
		for j := range criteria.Or[i] {
			mbox.staticSearchCriteria(&criteria.Or[i][j])
		}
	}
}

func (mbox *MailboxView) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	stored := *flags
	stored.Flags = storableFlags(flags.Flags)
	var own []trackerUpdate // this session's replies, when they go through its queue
	mbox.mutex.Lock()
	if stored.Op != imap.StoreFlagsDel {
		if list := mbox.Mailbox.defineKeywordsLocked(stored.Flags, mbox.tracker); list != nil {
			// A new keyword: the FLAGS line must come before the FETCH
			// replies, and go-imap's FetchWriter cannot write it. Both go
			// to the head of this session's queue, which go-imap polls
			// before STORE's tagged reply.
			own = append(own, trackerUpdate{mailboxFlags: list})
		}
	}
	viaQueue := own != nil
	mbox.forEachLocked(numSet, func(seqNum, clientSeqNum uint32, msg *message) {
		msg.store(&stored)
		list := msg.flagList()
		mbox.Mailbox.tracker.QueueMessageFlags(seqNum, msg.uid, list, mbox.tracker)
		if viaQueue && !flags.Silent {
			// poll adds \Recent.
			own = append(own, trackerUpdate{fetch: &trackerUpdateFetch{seqNum: clientSeqNum, uid: msg.uid, flags: list}})
		}
	})
	mbox.mutex.Unlock()
	if viaQueue {
		mbox.tracker.queueFront(own)
		return nil
	}
	if !flags.Silent {
		return mbox.Fetch(w, numSet, &imap.FetchOptions{Flags: true})
	}
	return nil
}

// Poll implements imapserver.Session: the queued updates, then RECENT
// when new messages were announced or became recent for this session.
func (mbox *MailboxView) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	mbox.mutex.Lock()
	saw := mbox.seeLocked()
	mbox.mutex.Unlock()
	exists, err := mbox.tracker.poll(w, allowExpunge, mbox.announcePermanentFlags)
	if err != nil || (!exists && !saw) {
		return err
	}
	mbox.mutex.Lock()
	n := mbox.numRecentLocked()
	changed := n != mbox.lastRecent
	mbox.lastRecent = n
	mbox.mutex.Unlock()
	if exists || changed {
		return w.WriteNumRecent(n)
	}
	return nil
}

func (mbox *MailboxView) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	return mbox.tracker.Idle(w, stop, mbox.Poll)
}

func (mbox *MailboxView) forEach(numSet imap.NumSet, f func(seqNum, clientSeqNum uint32, msg *message)) {
	mbox.mutex.Lock()
	defer mbox.mutex.Unlock()
	mbox.forEachLocked(numSet, f)
}

// forEachLocked calls f with each message numSet names, in order, its
// sequence number in the mailbox and the one the session's client knows
// it by (0 when the client has not been told of it yet). The caller holds
// the mailbox lock.
func (mbox *MailboxView) forEachLocked(numSet imap.NumSet, f func(seqNum, clientSeqNum uint32, msg *message)) {
	numSet = mbox.staticNumSet(numSet)
	view := mbox.tracker.seqView()
	switch numSet := numSet.(type) {
	case imap.SeqSet:
		if view.identity() {
			// The set's numbers are the server's: visit only the span it
			// covers, in order, each message once (a FETCH of one message
			// used to encode every message's number under the mailbox lock).
			lo, hi := uint32(math.MaxUint32), uint32(0)
			for _, r := range numSet {
				lo, hi = min(lo, r.Start, r.Stop), max(hi, r.Start, r.Stop)
			}
			hi = min(hi, uint32(len(mbox.l)), view.numMessages)
			for seqNum := max(lo, 1); seqNum <= hi; seqNum++ {
				if numSet.Contains(seqNum) {
					f(seqNum, seqNum, mbox.l[seqNum-1])
				}
			}
			return
		}
		for i, msg := range mbox.l {
			seqNum := uint32(i) + 1
			if c := view.encode(seqNum); c != 0 && numSet.Contains(c) {
				f(seqNum, c, msg)
			}
		}
	case imap.UIDSet:
		for i, msg := range mbox.l {
			if numSet.Contains(msg.uid) {
				f(uint32(i)+1, view.encode(uint32(i)+1), msg)
			}
		}
	}
}

// staticNumSet converts a dynamic sequence set into a static one.
//
// This is necessary to properly handle the special symbol "*", which
// represents the maximum sequence number or UID in the mailbox.
//
// This function also handles the special SEARCHRES marker "$".
func (mbox *MailboxView) staticNumSet(numSet imap.NumSet) imap.NumSet {
	if imap.IsSearchRes(numSet) {
		return mbox.searchRes
	}

	switch numSet := numSet.(type) {
	case imap.SeqSet:
		max := uint32(len(mbox.l))
		for i := range numSet {
			r := &numSet[i]
			staticNumRange(&r.Start, &r.Stop, max)
		}
	case imap.UIDSet:
		max := uint32(mbox.uidNext) - 1
		for i := range numSet {
			r := &numSet[i]
			staticNumRange((*uint32)(&r.Start), (*uint32)(&r.Stop), max)
		}
	}

	return numSet
}

func staticNumRange(start, stop *uint32, max uint32) {
	dyn := false
	if *start == 0 {
		*start = max
		dyn = true
	}
	if *stop == 0 {
		*stop = max
		dyn = true
	}
	if dyn && *start > *stop {
		*start, *stop = *stop, *start
	}
}
