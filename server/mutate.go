package server

import (
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/imapfault/imapfault/store"
)

func (s *Server) mailbox(user, mailbox string) (*store.Mailbox, error) {
	p := s.play()
	u := p.store.User(user)
	if u == nil {
		return nil, fmt.Errorf("no user %q in scenario %s: %w", user, p.sc.Name, ErrNotFound)
	}
	m := u.Mailbox(mailbox)
	if m == nil {
		return nil, fmt.Errorf("user %q has no mailbox %q: %w", user, mailbox, ErrNotFound)
	}
	return m, nil
}

// Deliver appends a message to a user's mailbox as new mail arriving;
// clients in IDLE on that mailbox are told at once.
func (s *Server) Deliver(user, mailbox string, raw []byte, flags ...imap.Flag) (imap.UID, error) {
	m, err := s.mailbox(user, mailbox)
	if err != nil {
		return 0, err
	}
	return m.Append(raw, flags, time.Now()), nil
}

// SetFlags replaces the flags of one message, as another client would.
func (s *Server) SetFlags(user, mailbox string, uid imap.UID, flags ...imap.Flag) error {
	m, err := s.mailbox(user, mailbox)
	if err != nil {
		return err
	}
	if !m.SetFlags(uid, flags) {
		return fmt.Errorf("mailbox %q has no message with UID %d: %w", mailbox, uid, ErrNotFound)
	}
	return nil
}

// BumpUIDValidity gives a mailbox a new UIDVALIDITY, as a server does after
// rebuilding its index, and returns it.
func (s *Server) BumpUIDValidity(user, mailbox string) (uint32, error) {
	m, err := s.mailbox(user, mailbox)
	if err != nil {
		return 0, err
	}
	v := m.UIDValidity() + 1
	m.SetUIDValidity(v)
	return v, nil
}
