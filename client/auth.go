package client

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"time"
)

// maxSASLRounds bounds the challenges one AUTHENTICATE may draw.
const maxSASLRounds = 4

// plaintextWarning warns when a server would take a password without TLS.
func (w *walk) plaintextWarning() {
	if w.s.inTLS || w.s.has("LOGINDISABLED") || w.preauth {
		return
	}
	w.warn(diag(CodeSecurityPlaintextLogin, "capability",
		"the connection is not encrypted and CAPABILITY lacks LOGINDISABLED: "+strings.Join(w.s.capList, " ")))
}

func (w *walk) auth(ctx context.Context) (string, *Diagnosis) {
	gen := w.s.capsGen
	detail, took, d := authenticate(w.s, w.o)
	if d != nil {
		if took > w.o.SlowThreshold && d.Code != CodeAuthTimeout {
			// Servers delay answers after failed logins; the delay is
			// part of what a person needs to know.
			d.Evidence += fmt.Sprintf(" (answered after %s)", took.Round(time.Millisecond))
		}
		return "", d
	}
	if w.s.capsGen == gen {
		// Capabilities change with login (RFC 9051 §7.2.2); without a
		// fresh list, ask.
		w.s.caps, w.s.capList = nil, nil
	}
	if took > w.o.SlowThreshold {
		w.warn(diag(CodeAuthSlow, "auth", fmt.Sprintf("the server took %s to accept the login", took.Round(time.Millisecond))))
	}
	if d := ensureCaps(w.s, "auth"); d != nil {
		return "", d
	}
	w.rep.Capabilities = w.s.capList
	return detail, nil
}

// authenticate logs s in with the configured method and returns how long
// the server took to answer.
func authenticate(s *session, o *Options) (string, time.Duration, *Diagnosis) {
	if o.Auth == AuthLogin {
		return login(s, o)
	}
	host, port, _ := net.SplitHostPort(o.Addr)
	return saslAuth(s, o, newMech(o, host, port))
}

func login(s *session, o *Options) (string, time.Duration, *Diagnosis) {
	if s.has("LOGINDISABLED") {
		ev := "CAPABILITY advertises LOGINDISABLED on this plaintext connection: " + strings.Join(s.capList, " ")
		if s.inTLS {
			ev = "CAPABILITY advertises LOGINDISABLED even over TLS: " + strings.Join(s.capList, " ")
		}
		d := diag(CodeAuthLoginDisabled, "auth", ev)
		if s.inTLS {
			d.Advice = "The server refuses LOGIN even over TLS: try --auth plain, or another mechanism from its AUTH= capabilities."
		}
		return "", 0, &d
	}
	start := time.Now()
	resp, err := s.commandLit(nil, "LOGIN ", astring(o.User), " ", secret{astring(o.Password)})
	took := time.Since(start)
	if err != nil {
		d := failureDiag("auth", "LOGIN", took, s.lastLine, err)
		return "", took, &d
	}
	if resp.Status != "OK" {
		d := authRejected(resp)
		return "", took, &d
	}
	return fmt.Sprintf("LOGIN as %s accepted after %s", o.User, took.Round(time.Millisecond)), took, nil
}

func saslAuth(s *session, o *Options, m saslMech) (string, time.Duration, *Diagnosis) {
	if !s.has("AUTH=" + m.name) {
		d := diag(CodeAuthMechanismUnsupported, "auth", fmt.Sprintf("CAPABILITY lacks AUTH=%s: %s", m.name, strings.Join(s.capList, " ")))
		return "", 0, &d
	}
	blob := base64.StdEncoding.EncodeToString(m.initial)
	s.red.addBlob(blob)
	start := time.Now()
	tag := s.nextTag()
	var err error
	sentInitial := s.has("SASL-IR")
	if sentInitial {
		err = s.send(tag+" AUTHENTICATE "+m.name+" "+blob, tag+" AUTHENTICATE "+m.name+" "+mask)
	} else {
		err = s.send(tag+" AUTHENTICATE "+m.name, tag+" AUTHENTICATE "+m.name)
	}
	var (
		resp     *response
		oauthErr *oauthError
		rounds   int
	)
	for err == nil {
		resp, err = s.awaitContinuation(tag, nil)
		if err != nil || resp != nil {
			break
		}
		rounds++
		if rounds > maxSASLRounds {
			d := diag(CodeProtocolParseError, "auth", fmt.Sprintf("more than %d SASL challenges for %s", maxSASLRounds, m.name))
			return "", time.Since(start), &d
		}
		switch {
		case !sentInitial:
			sentInitial = true
			err = s.send(blob, mask)
		case m.oauth:
			// The challenge after the initial response is the error.
			if e, perr := parseOAuthChallenge(s.lastChallenge()); perr == nil {
				oauthErr = &e
				s.info("OAuth error challenge: status=%q scope=%q", e.Status, e.Scope)
			} else {
				s.info("OAuth challenge not understood: %v", perr)
			}
			ack := ""
			if m.name == "OAUTHBEARER" {
				ack = base64.StdEncoding.EncodeToString([]byte{1})
			}
			err = s.send(ack, ack+" (error acknowledgement)")
		default:
			// An unexpected challenge: cancel the exchange (RFC 9051 §6.2.2).
			err = s.send("*", "* (cancel)")
		}
	}
	took := time.Since(start)
	if err != nil {
		d := failureDiag("auth", "AUTHENTICATE "+m.name, took, s.lastLine, err)
		return "", took, &d
	}
	if resp.Status != "OK" {
		d := authRejected(resp)
		if m.oauth && (resp.Code == "" || resp.Code == "AUTHENTICATIONFAILED") {
			code := CodeAuthOAuthTokenInvalid
			if oauthErr != nil {
				code = oauthCode(*oauthErr)
				d.Evidence += fmt.Sprintf(" (error challenge status %q, scope %q)", oauthErr.Status, oauthErr.Scope)
			}
			d.Code, d.Advice = code, advice[code]
		}
		return "", took, &d
	}
	return fmt.Sprintf("AUTHENTICATE %s as %s accepted after %s", m.name, o.User, took.Round(time.Millisecond)), took, nil
}

// lastChallenge returns the text of the last continuation request.
func (s *session) lastChallenge() string {
	return strings.TrimPrefix(strings.TrimPrefix(s.lastLine, "+"), " ")
}

// authRejected classifies a tagged NO or BAD to LOGIN or AUTHENTICATE.
func authRejected(resp *response) Diagnosis {
	d := statusDiag("auth", resp)
	text := strings.ToLower(resp.Text)
	if d.Code == CodeAuthFailed && (strings.Contains(text, "application-specific") || strings.Contains(text, "app password") ||
		strings.Contains(text, "app-specific")) {
		d.Advice += " The server's text suggests an app-specific password is likely required."
	}
	return d
}
