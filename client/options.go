package client

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/imapfault/imapfault/client/phase"
)

// TLSMode says how the tester secures the connection.
type TLSMode string

// The TLS modes. An empty mode is derived from the port: 993 means implicit
// TLS, anything else STARTTLS, because STARTTLS never sends a secret in
// clear text and a missing STARTTLS is itself a useful diagnosis.
const (
	TLSImplicit TLSMode = "implicit"
	TLSStartTLS TLSMode = "starttls"
	TLSNone     TLSMode = "none"
)

// The SASL mechanisms and the LOGIN command the tester can authenticate with.
const (
	AuthLogin       = "login"
	AuthPlain       = "plain"
	AuthXOAuth2     = "xoauth2"
	AuthOAuthBearer = "oauthbearer"
)

// DefaultStepTimeout bounds each phase of the walk when Options.StepTimeout
// is zero.
const DefaultStepTimeout = 10 * time.Second

// Options says which server to check and how far to walk.
type Options struct {
	Addr        string         // host:port
	TLS         TLSMode        // empty: implicit for port 993, otherwise starttls
	ServerName  string         // default: host of Addr
	RootCAs     *x509.CertPool // nil: system roots
	Insecure    bool           // continue past certificate problems (still reported as warnings)
	User        string         // empty: probe only (stop after capabilities/STARTTLS)
	Password    string
	Token       string        // for xoauth2/oauthbearer
	Auth        string        // "login" (default), "plain", "xoauth2", "oauthbearer"
	Mailbox     string        // default "INBOX"
	StepTimeout time.Duration // default 10s
	// PhaseTimeouts bound the named phases (Step.Phase names) in place of
	// StepTimeout: a deadline short enough to catch a server that is slow
	// in one phase need not bound the others, such as a TLS handshake on
	// a loaded machine.
	PhaseTimeouts map[phase.Phase]time.Duration
	Write         bool         // allow the flag round-trip and APPEND-and-delete
	Logger        *slog.Logger // optional; receives the redacted transcript at debug level

	// ExpiryWarning is how close to NotAfter a certificate draws the
	// tls.cert_expiring warning; zero means 14 days.
	ExpiryWarning time.Duration
	// SlowThreshold is how long a step may take before it draws a slow
	// warning; zero means half the auth phase's timeout, capped at 3s.
	SlowThreshold time.Duration
	// IdleHold is how long the IDLE step stays idle before DONE, to see
	// that the server (and what is between) keeps the connection and to
	// collect updates. Zero checks only the "+" and the answer to DONE,
	// which keeps a check as quick as a plain login; at most half the idle
	// phase's timeout.
	IdleHold time.Duration
}

// DefaultTLSMode returns the TLS mode implied by a port when none is given.
func DefaultTLSMode(port string) TLSMode {
	if port == "993" {
		return TLSImplicit
	}
	return TLSStartTLS
}

// withDefaults validates o and returns a copy with every default filled in.
func (o Options) withDefaults() (Options, error) {
	host, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return o, fmt.Errorf("client: address %q: %w", o.Addr, err)
	}
	if host == "" {
		return o, fmt.Errorf("client: address %q: empty host", o.Addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return o, fmt.Errorf("client: address %q: bad port %q", o.Addr, port)
	}
	switch o.TLS {
	case "":
		o.TLS = DefaultTLSMode(port)
	case TLSImplicit, TLSStartTLS, TLSNone:
	default:
		return o, fmt.Errorf("client: TLS mode %q (allowed: implicit, starttls, none)", o.TLS)
	}
	if o.ServerName == "" {
		o.ServerName = host
	}
	o.Auth = strings.ToLower(o.Auth)
	switch o.Auth {
	case "":
		o.Auth = AuthLogin
	case AuthLogin, AuthPlain, AuthXOAuth2, AuthOAuthBearer:
	default:
		return o, fmt.Errorf("client: auth %q (allowed: login, plain, xoauth2, oauthbearer)", o.Auth)
	}
	if o.User != "" {
		switch o.Auth {
		case AuthXOAuth2, AuthOAuthBearer:
			if o.Token == "" {
				return o, fmt.Errorf("client: auth %s needs a token", o.Auth)
			}
		}
	}
	if strings.ContainsAny(o.User, "\r\n\x00") {
		return o, errors.New("client: user name contains CR, LF or NUL")
	}
	if o.Mailbox == "" {
		o.Mailbox = "INBOX"
	}
	if strings.ContainsAny(o.Mailbox, "\r\n\x00") {
		return o, errors.New("client: mailbox name contains CR, LF or NUL")
	}
	if o.StepTimeout < 0 {
		return o, fmt.Errorf("client: negative step timeout %v", o.StepTimeout)
	}
	if o.StepTimeout == 0 {
		o.StepTimeout = DefaultStepTimeout
	}
	for ph, d := range o.PhaseTimeouts {
		if !phase.Valid(string(ph)) {
			return o, fmt.Errorf("client: timeout for phase %q: no such phase (allowed: %s)", ph, strings.Join(phase.Names(), ", "))
		}
		if d <= 0 {
			return o, fmt.Errorf("client: timeout for phase %s: %v is not a positive duration", ph, d)
		}
	}
	if o.ExpiryWarning == 0 {
		o.ExpiryWarning = 14 * 24 * time.Hour
	}
	if o.SlowThreshold == 0 {
		o.SlowThreshold = min(o.timeout(phase.Auth)/2, 3*time.Second)
	}
	if idle := o.timeout(phase.Idle); o.IdleHold < 0 || o.IdleHold > idle/2 {
		return o, fmt.Errorf("client: IdleHold %v: want 0 up to half the idle phase's timeout (%v)", o.IdleHold, idle/2)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// timeout is the deadline of one phase: its own, or the step timeout.
func (o *Options) timeout(ph phase.Phase) time.Duration {
	if d, ok := o.PhaseTimeouts[ph]; ok {
		return d
	}
	return o.StepTimeout
}
