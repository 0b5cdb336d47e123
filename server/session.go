package server

import (
	"crypto/subtle"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-sasl"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/store"
)

// session is one connection's IMAP session: authentication against the
// scenario's users, then the store's session for everything else.
type session struct {
	*store.UserSession // nil until authenticated
	srv                *Server
	play               *play        // the scenario the connection started under
	user               string       // who logged in, counted against the per-user limit
	conn               *faults.Conn // nil when the IMAP server was handed another net.Conn
}

var (
	_ imapserver.Session          = (*session)(nil)
	_ imapserver.SessionSASL      = (*session)(nil)
	_ imapserver.SessionNamespace = (*session)(nil)
	_ imapserver.SessionMove      = (*session)(nil)
)

// Close implements imapserver.Session. It is the last thing the IMAP
// server does for a connection, so it tells the server the session ended.
func (s *session) Close() error {
	defer s.srv.sessionDone(s.conn, s.user)
	if s.UserSession != nil {
		return s.UserSession.Close()
	}
	return nil
}

// Login implements imapserver.Session.
func (s *session) Login(username, password string) error {
	u := s.play.user(username)
	switch {
	case u == nil:
		return imapserver.ErrAuthFailed
	case u.AnyPassword:
	case u.Password == "" || subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1:
		return imapserver.ErrAuthFailed
	}
	return s.become(username)
}

func (s *session) become(username string) error {
	u := s.play.store.User(username)
	if u == nil {
		return imapserver.ErrAuthFailed
	}
	if err := s.srv.claim(s.conn, s.play, username); err != nil {
		s.srv.log.Warn("client hit a limit", "limit", "max_connections_per_user", "user", username)
		return err
	}
	s.user = username
	s.UserSession = store.NewUserSession(u)
	if s.conn != nil {
		// The wire layer is what go-imap writes to: a line written here
		// is a server line like the others, and the faults act on it.
		s.UserSession.SetUntaggedWriter(s.conn)
	}
	return nil
}

// AuthenticateMechanisms implements imapserver.SessionSASL.
func (s *session) AuthenticateMechanisms() []string {
	return s.play.sc.Server.AuthMechanisms
}

// Authenticate implements imapserver.SessionSASL.
func (s *session) Authenticate(mech string) (sasl.Server, error) {
	offered := false
	for _, m := range s.play.sc.Server.AuthMechanisms {
		offered = offered || strings.EqualFold(m, mech)
	}
	if !offered {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "Unsupported authentication mechanism"}
	}
	switch strings.ToUpper(mech) {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthorizationFailed, Text: "Authorization identity not allowed"}
			}
			return s.Login(username, password)
		}), nil
	case "XOAUTH2":
		return &oauthServer{xoauth2: true, check: s.checkToken}, nil
	case sasl.OAuthBearer:
		return &oauthServer{check: s.checkToken}, nil
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "Unsupported authentication mechanism"}
}

// checkToken accepts a bearer token the scenario lists for the user, and
// returns the rejection status otherwise, or the error that ends the
// exchange at once (the per-user limit).
func (s *session) checkToken(username, token string) (string, error) {
	u := s.play.user(username)
	if u == nil {
		return "invalid_token", nil
	}
	if status, ok := u.TokenErrors[token]; ok {
		return status, nil
	}
	known := u.AnyPassword || slices.ContainsFunc(u.Tokens, func(t string) bool {
		return subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1
	})
	if !known {
		return "invalid_token", nil
	}
	if err := s.become(username); err != nil {
		return "", err
	}
	return "", nil
}

// Namespace implements imapserver.SessionNamespace; NAMESPACE is
// advertised, and go-imap panics on a session that lacks it.
func (s *session) Namespace() (*imap.NamespaceData, error) {
	return s.UserSession.Namespace()
}

// Move implements imapserver.SessionMove.
func (s *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	return s.UserSession.Move(w, numSet, dest)
}
