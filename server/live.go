package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/store"
)

// A play is what the server gives new connections: a scenario, the store
// seeded from it, and the faults in force. The server swaps in a new play
// to switch the scenario, reset it or change the live faults; connections
// keep the play they started with, so nothing changes under a session.
// A play is never modified once published, except for its accounts and
// store, which lock themselves.
type play struct {
	sc        *scenarios.Scenario
	faults    faults.LiveFaults // the scenario's with the live ones
	store     *store.Store
	accounts  *accounts
	tlsConfig *tls.Config
	connOpts  *faults.ConnOptions
	limits    faults.Limits
}

// accounts are the users a play knows, the scenario's and those added
// while it runs.
type accounts struct {
	// Every login reads; only the control API's AddUser writes.
	mu sync.RWMutex
	m  map[string]*scenarios.User
}

func (p *play) user(name string) *scenarios.User {
	p.accounts.mu.RLock()
	defer p.accounts.mu.RUnlock()
	return p.accounts.m[name]
}

// connState is what the server knows of a connection it numbered.
type connState struct {
	play    *play
	started time.Time
	user    string // who logged in; "" before
}

// LiveFault is a fault added while the server runs.
type LiveFault = faults.LiveFault

// ErrNotFound is wrapped by the errors of calls naming a user, mailbox,
// message, fault or connection that does not exist: faults' own, which
// live faults wrap.
var ErrNotFound = faults.ErrNotFound

// ErrExists is wrapped by the errors of calls creating what exists.
var ErrExists = errors.New("already exists")

func (s *Server) play() *play {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// newPlay prepares a play of sc: limits, store, TLS and the wire options.
// Its fault set is made when it is published (publish), so that the
// faults count connections from exactly then.
func (s *Server) newPlay(sc *scenarios.Scenario) (*play, error) {
	p := &play{sc: sc, accounts: &accounts{m: map[string]*scenarios.User{}}}
	p.limits = s.opts.Limits.Or(sc.Server.Limits).Or(faults.DefaultLimits)
	if err := p.limits.Validate(); err != nil {
		return nil, fmt.Errorf("scenario %s: limits: %w", sc.Name, err)
	}
	// Validated here, armed at publish: a scenario that cannot be played
	// is refused before anything changes.
	if _, err := faults.NewSet(sc.Faults); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	if err := s.seed(p); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	if sc.Server.TLS != scenarios.TLSNone {
		if err := s.setupTLS(p); err != nil {
			return nil, fmt.Errorf("scenario %s: tls: %w", sc.Name, err)
		}
	}
	p.connOpts = &faults.ConnOptions{
		RequireTLSForAuth: !*sc.Server.PlaintextAuth,
		Capabilities:      sc.Server.Capabilities,
		Tap:               s.transcript.record,
		Logger:            s.log,
		Limits:            p.limits,
		ID:                idAnswer(sc),
	}
	if sc.Server.TLS == scenarios.TLSStartTLS {
		p.connOpts.StartTLS = p.tlsConfig
	}
	return p, nil
}

// idAnswer is what the wire layer answers to ID: a flavour's recorded
// answer, or the fake server's own name.
func idAnswer(sc *scenarios.Scenario) []string {
	if sc.Server.ID != nil {
		return sc.Server.ID
	}
	return []string{"name", "imapfault"}
}

// setupTLS makes the play's certificate, signed by the run's CA, which is
// made by the first scenario that needs it and kept for the run so that
// clients trust one CA whatever the scenario.
func (s *Server) setupTLS(p *play) error {
	s.mu.Lock()
	certs := s.certs
	s.mu.Unlock()
	if certs == nil {
		c, err := NewCerts()
		if err != nil {
			return err
		}
		s.mu.Lock()
		if s.certs == nil {
			s.certs = c
		}
		certs = s.certs
		s.mu.Unlock()
	}
	leaf, err := certs.Leaf(p.sc.Server.Certificate, p.sc.Server.Hostnames)
	if err != nil {
		return err
	}
	p.tlsConfig = &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12}
	return nil
}

// seed creates the users and mailboxes and appends their messages.
func (s *Server) seed(p *play) error {
	p.store = store.New()
	now := time.Now()
	if s.opts.Now != nil {
		now = s.opts.Now()
	}
	for i := range p.sc.Users {
		u := &p.sc.Users[i]
		p.accounts.m[u.Name] = u
		su := store.NewUser(u.Name, u.Password)
		for j := range u.Mailboxes {
			m := &u.Mailboxes[j]
			mbox := su.EnsureMailbox(m.Name, m.UIDValidity, imap.MailboxAttr(m.SpecialUse))
			seeds, err := p.sc.Seeds(m, now)
			if err != nil {
				return fmt.Errorf("users[%d]: %w", i, err)
			}
			var flags []imap.Flag // reused: Append keeps none of it
			for _, sd := range seeds {
				flags = flags[:0]
				for _, f := range sd.Flags {
					flags = append(flags, imap.Flag(f))
				}
				mbox.Append(sd.Raw, flags, sd.Date)
			}
		}
		p.store.AddUser(su)
	}
	return nil
}

// publish arms p's scenario faults from now and makes p the play of new
// connections. The caller holds s.mu: the accept loop numbers connections
// under it, so connection = 1 is exactly the next one accepted.
func (s *Server) publish(p *play) {
	var base *faults.Set
	if s.cur == nil {
		base, _ = faults.NewSet(p.sc.Faults) // validated by newPlay
	} else {
		base, _ = s.cur.faults.Base().Next(p.sc.Faults)
	}
	p.faults = faults.NewLiveFaults(base)
	s.cur = p
}

// SetScenario plays sc for the connections accepted from now on, with its
// initial mailboxes, fresh fault counters and no live faults. Connections
// already open go on with the scenario they started with (close them with
// CloseConnection). An invalid scenario changes nothing.
func (s *Server) SetScenario(sc *scenarios.Scenario) error {
	// Validate gives a scenario built in Go the defaults a file gets.
	if err := sc.Validate(); err != nil {
		return err
	}
	return s.replay(sc)
}

// Reset plays the current scenario again from the start, as SetScenario
// does: its initial mailboxes, fault counters from zero, no live faults.
// The scenario, validated when it was first played, is not validated
// again: sessions read it.
func (s *Server) Reset() error { return s.replay(s.Scenario()) }

func (s *Server) replay(sc *scenarios.Scenario) error {
	p, err := s.newPlay(sc)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publish(p)
	return nil
}

// AddFault arms a fault for the connections accepted from now on: its
// When.First and When.Connection count from now. It returns the fault's
// id for RemoveFault.
func (s *Server) AddFault(f faults.Fault) (LiveFault, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next, lf, err := s.cur.faults.Add(s.faultID+1, f)
	if err != nil {
		return LiveFault{}, err
	}
	s.faultID++
	s.setFaults(next)
	return lf, nil
}

// Faults returns the live faults in the order they were added.
func (s *Server) Faults() []LiveFault { return s.play().faults.List() }

// RemoveFault disarms a live fault for new connections.
func (s *Server) RemoveFault(id int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := s.cur.faults.Remove(id)
	if err != nil {
		return err
	}
	s.setFaults(next)
	return nil
}

// ClearFaults disarms every live fault for new connections; the
// scenario's own faults stay.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setFaults(s.cur.faults.Clear())
}

// setFaults publishes a copy of the current play with other live
// faults. The caller holds s.mu.
func (s *Server) setFaults(f faults.LiveFaults) {
	p := *s.cur
	p.faults = f
	s.cur = &p
}

// AddUser creates an account in the current play, with an empty INBOX.
func (s *Server) AddUser(name, password string) error {
	if name == "" || strings.ContainsAny(name, " \t\r\n\"\\") {
		return fmt.Errorf("user name %q: use letters, digits and punctuation other than quotes and backslashes", name)
	}
	if password == "" {
		return fmt.Errorf("user %q needs a password", name)
	}
	p := s.play()
	p.accounts.mu.Lock()
	defer p.accounts.mu.Unlock()
	if p.accounts.m[name] != nil {
		return fmt.Errorf("user %q: %w", name, ErrExists)
	}
	// The store first: a login finds the account, then its mail.
	p.store.AddUser(store.NewUser(name, password))
	p.accounts.m[name] = &scenarios.User{Name: name, Password: password}
	return nil
}

// Users returns the names of the current play's accounts, sorted.
func (s *Server) Users() []string {
	p := s.play()
	p.accounts.mu.RLock()
	defer p.accounts.mu.RUnlock()
	var names []string
	for n := range p.accounts.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// CreateMailbox creates a user's mailbox, with a special-use attribute
// such as \Sent when specialUse is not empty.
func (s *Server) CreateMailbox(user, mailbox, specialUse string) error {
	if mailbox == "" || strings.ContainsAny(mailbox, "\r\n*%") {
		return fmt.Errorf("mailbox name %q: give a name without CR, LF, * or %%", mailbox)
	}
	u := s.play().store.User(user)
	if u == nil {
		return fmt.Errorf("no user %q: %w", user, ErrNotFound)
	}
	if u.Mailbox(mailbox) != nil {
		return fmt.Errorf("user %q: mailbox %q: %w", user, mailbox, ErrExists)
	}
	u.EnsureMailbox(mailbox, 0, imap.MailboxAttr(specialUse))
	return nil
}

// Messages lists a mailbox's messages with their flags, in UID order.
func (s *Server) Messages(user, mailbox string) ([]store.MessageInfo, error) {
	m, err := s.mailbox(user, mailbox)
	if err != nil {
		return nil, err
	}
	return m.Messages(), nil
}

// Message returns the text of one message.
func (s *Server) Message(user, mailbox string, uid imap.UID) ([]byte, error) {
	m, err := s.mailbox(user, mailbox)
	if err != nil {
		return nil, err
	}
	raw, ok := m.Raw(uid)
	if !ok {
		return nil, fmt.Errorf("mailbox %q has no message with UID %d: %w", mailbox, uid, ErrNotFound)
	}
	return raw, nil
}

// ConnInfo describes an open connection.
type ConnInfo struct {
	ID       int // the number transcript entries carry
	Remote   string
	Started  time.Time
	User     string // "" until a login succeeds
	TLS      bool
	Scenario string
}

// Connections lists the open connections by id.
func (s *Server) Connections() []ConnInfo {
	s.mu.Lock()
	list := make([]ConnInfo, 0, len(s.conns))
	conns := make([]*faults.Conn, 0, len(s.conns))
	for c, st := range s.conns {
		list = append(list, ConnInfo{ID: c.Number(), Remote: c.RemoteAddr().String(), Started: st.started, User: st.user, Scenario: st.play.sc.Name})
		conns = append(conns, c)
	}
	s.mu.Unlock()
	// TLS takes the connection's own lock: not under the server's.
	for i, c := range conns {
		list[i].TLS = c.TLS()
	}
	slices.SortFunc(list, func(a, b ConnInfo) int { return a.ID - b.ID })
	return list
}

// CloseConnection closes an open connection, as a dropped network would.
func (s *Server) CloseConnection(id int) error {
	s.mu.Lock()
	var found *faults.Conn
	for c := range s.conns {
		if c.Number() == id {
			found = c
			break
		}
	}
	s.mu.Unlock()
	if found == nil {
		return fmt.Errorf("no open connection %d: %w", id, ErrNotFound)
	}
	return found.Close()
}
