package store

import (
	"crypto/subtle"
	"sort"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

const mailboxDelim rune = '/'

type User struct {
	username, password string

	mutex           sync.Mutex
	mailboxes       map[string]*Mailbox
	prevUidValidity uint32
}

// NewUser returns a user with an empty INBOX: every IMAP account has one
// (RFC 9051 section 5.1), which imapmemserver leaves to its caller.
func NewUser(username, password string) *User {
	u := &User{
		username:  username,
		password:  password,
		mailboxes: make(map[string]*Mailbox),
	}
	u.prevUidValidity = 1
	u.mailboxes["INBOX"] = NewMailbox("INBOX", u.prevUidValidity)
	return u
}

// Name returns the user's login name.
func (u *User) Name() string { return u.username }

// Mailbox returns the named mailbox, or nil.
func (u *User) Mailbox(name string) *Mailbox {
	if strings.EqualFold(name, "INBOX") {
		name = "INBOX"
	}
	u.mutex.Lock()
	defer u.mutex.Unlock()
	return u.mailboxes[name]
}

// EnsureMailbox returns the named mailbox, creating it when missing, and
// sets its special-use attribute and, when not zero, its UIDVALIDITY.
func (u *User) EnsureMailbox(name string, uidValidity uint32, specialUse imap.MailboxAttr) *Mailbox {
	if strings.EqualFold(name, "INBOX") {
		name = "INBOX"
	}
	u.mutex.Lock()
	defer u.mutex.Unlock()
	mbox := u.mailboxes[name]
	if mbox == nil {
		u.prevUidValidity++
		mbox = NewMailbox(name, u.prevUidValidity)
		u.mailboxes[name] = mbox
	}
	if uidValidity != 0 {
		mbox.uidValidity = uidValidity
	}
	if specialUse != "" {
		mbox.specialUse = []imap.MailboxAttr{specialUse}
	}
	return mbox
}

func (u *User) Login(username, password string) error {
	if username != u.username {
		return imapserver.ErrAuthFailed
	}
	if subtle.ConstantTimeCompare([]byte(password), []byte(u.password)) != 1 {
		return imapserver.ErrAuthFailed
	}
	return nil
}

func (u *User) mailboxLocked(name string) (*Mailbox, error) {
	mbox := u.mailboxes[name]
	if mbox == nil {
		return nil, &imap.Error{
			Type: imap.StatusResponseTypeNo,
			Code: imap.ResponseCodeNonExistent,
			Text: "No such mailbox",
		}
	}
	return mbox, nil
}

func (u *User) mailbox(name string) (*Mailbox, error) {
	if strings.EqualFold(name, "INBOX") {
		name = "INBOX"
	}
	u.mutex.Lock()
	defer u.mutex.Unlock()
	return u.mailboxLocked(name)
}

func (u *User) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	mbox, err := u.mailbox(name)
	if err != nil {
		return nil, err
	}
	return mbox.StatusData(options), nil
}

func (u *User) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	u.mutex.Lock()
	defer u.mutex.Unlock()

	// TODO: fail if ref doesn't exist

	if len(patterns) == 0 {
		return w.WriteList(&imap.ListData{
			Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect},
			Delim: mailboxDelim,
		})
	}

	matches := func(name string) bool {
		for _, pattern := range patterns {
			if imapserver.MatchList(name, mailboxDelim, ref, pattern) {
				return true
			}
		}
		return false
	}
	// LSUB lists the parent of a subscribed mailbox that "%" stops short
	// of, as \Noselect (RFC 3501 section 6.3.9). go-imap gives LSUB and
	// LIST (SUBSCRIBED) the same options; this server advertises no
	// LIST-EXTENDED, so both read as LSUB.
	lsub := options.SelectSubscribed && !options.SelectRecursiveMatch
	var l []imap.ListData
	listed := make(map[string]bool)
	parents := make(map[string]bool)
	for name, mbox := range u.mailboxes {
		if !matches(name) {
			if lsub && mbox.isSubscribed() {
				if p := matchingParent(name, matches); p != "" {
					parents[p] = true
				}
			}
			continue
		}

		data := mbox.list(options)
		if data != nil {
			l = append(l, *data)
			listed[name] = true
		}
	}
	for p := range parents {
		if !listed[p] {
			l = append(l, imap.ListData{Mailbox: p, Delim: mailboxDelim, Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}})
		}
	}

	sort.Slice(l, func(i, j int) bool {
		return l[i].Mailbox < l[j].Mailbox
	})

	for _, data := range l {
		if err := w.WriteList(&data); err != nil {
			return err
		}
	}

	return nil
}

// matchingParent returns the nearest parent of name that matches, or "".
func matchingParent(name string, matches func(string) bool) string {
	for i := strings.LastIndexByte(name, byte(mailboxDelim)); i > 0; i = strings.LastIndexByte(name[:i], byte(mailboxDelim)) {
		if matches(name[:i]) {
			return name[:i]
		}
	}
	return ""
}

func (u *User) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	mbox, err := u.mailbox(mailbox)
	if err != nil {
		return nil, &imap.Error{
			Type: imap.StatusResponseTypeNo,
			Code: imap.ResponseCodeTryCreate,
			Text: "No such mailbox",
		}
	}
	return mbox.appendLiteral(r, options)
}

func (u *User) Create(name string, options *imap.CreateOptions) error {
	u.mutex.Lock()
	defer u.mutex.Unlock()

	name = strings.TrimRight(name, string(mailboxDelim))

	if u.mailboxes[name] != nil {
		return &imap.Error{
			Type: imap.StatusResponseTypeNo,
			Code: imap.ResponseCodeAlreadyExists,
			Text: "Mailbox already exists",
		}
	}

	// UIDVALIDITY must change if a mailbox is deleted and re-created with the
	// same name.
	u.prevUidValidity++
	u.mailboxes[name] = NewMailbox(name, u.prevUidValidity)
	return nil
}

func (u *User) Delete(name string) error {
	u.mutex.Lock()
	defer u.mutex.Unlock()

	if _, err := u.mailboxLocked(name); err != nil {
		return err
	}

	delete(u.mailboxes, name)
	return nil
}

func (u *User) Rename(oldName, newName string, options *imap.RenameOptions) error {
	u.mutex.Lock()
	defer u.mutex.Unlock()

	newName = strings.TrimRight(newName, string(mailboxDelim))

	mbox, err := u.mailboxLocked(oldName)
	if err != nil {
		return err
	}

	if u.mailboxes[newName] != nil {
		return &imap.Error{
			Type: imap.StatusResponseTypeNo,
			Code: imap.ResponseCodeAlreadyExists,
			Text: "Mailbox already exists",
		}
	}

	mbox.rename(newName)
	u.mailboxes[newName] = mbox
	delete(u.mailboxes, oldName)
	return nil
}

func (u *User) Subscribe(name string) error {
	mbox, err := u.mailbox(name)
	if err != nil {
		return err
	}
	mbox.SetSubscribed(true)
	return nil
}

func (u *User) Unsubscribe(name string) error {
	mbox, err := u.mailbox(name)
	if err != nil {
		return err
	}
	mbox.SetSubscribed(false)
	return nil
}

func (u *User) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{
		Personal: []imap.NamespaceDescriptor{{Delim: mailboxDelim}},
	}, nil
}
