// Package store is the in-memory mail store behind the fake server.
//
// It is go-imap v2.0.0-beta.8's imapmemserver (MIT licence,
// LICENSE.go-imap; UPSTREAM.md lists every change and why) with the
// gaps a fake of a real server cannot have filled: every user has an
// INBOX, mailboxes carry SPECIAL-USE attributes and a chosen UIDVALIDITY,
// system flags keep their usual case on the wire, IDLE announces mail that
// arrived just before it started (tracker.go, from imapserver), and tests
// can deliver mail and change flags while clients are connected.
package store

import "sync"

// Store is the set of accounts of one server run.
type Store struct {
	mu    sync.Mutex
	users map[string]*User
}

// New returns an empty store.
func New() *Store {
	return &Store{users: make(map[string]*User)}
}

// AddUser adds an account, replacing one of the same name.
func (s *Store) AddUser(u *User) {
	s.mu.Lock()
	s.users[u.username] = u
	s.mu.Unlock()
}

// User returns the named account, or nil.
func (s *Store) User(name string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[name]
}
