package client

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/client/phase"
)

// e2eCase is one scripted server and the diagnosis the tester must give.
type e2eCase struct {
	name string
	cfg  fakeConfig
	opts func(o *Options)
	// quick bounds the case's own phase by a short deadline, for a case
	// that waits for a timeout; the other phases keep a bound that a TLS
	// handshake under the race detector on a loaded machine meets.
	quick    bool
	code     string
	phase    string
	warns    []string // warning codes, in order
	evidence string   // a substring the evidence must contain
}

// outcome is what an end-to-end test compares.
type outcome struct {
	Code, Phase string
	Warnings    []string
}

func runCase(t *testing.T, c e2eCase) *Report {
	t.Helper()
	srv := startFake(t, c.cfg)
	o := Options{
		Addr:        srv.addr(),
		TLS:         TLSNone,
		User:        "alice",
		Password:    "correct horse",
		ServerName:  "localhost",
		StepTimeout: 10 * time.Second,
		IdleHold:    20 * time.Millisecond,
	}
	if c.quick {
		o.PhaseTimeouts = map[phase.Phase]time.Duration{phase.Phase(c.phase): 250 * time.Millisecond}
	}
	if c.cfg.implicit != nil {
		o.TLS = TLSImplicit
	}
	if c.cfg.starttls != nil {
		o.TLS = TLSStartTLS
	}
	if c.opts != nil {
		c.opts(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := Check(ctx, o)
	if err != nil {
		t.Fatalf("Check() error = %v", err)
	}
	checkPhaseNames(t, rep)
	got := outcome{Code: rep.Diagnosis.Code, Phase: rep.Diagnosis.Phase}
	for _, w := range rep.Warnings {
		got.Warnings = append(got.Warnings, w.Code)
	}
	want := outcome{Code: c.code, Phase: c.phase, Warnings: c.warns}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnosis mismatch (-want +got):\n%s\nevidence: %s\ntranscript:\n%s", diff, rep.Diagnosis.Evidence, dump(rep))
	}
	if !strings.Contains(rep.Diagnosis.Evidence, c.evidence) {
		t.Errorf("evidence = %q, want it to contain %q", rep.Diagnosis.Evidence, c.evidence)
	}
	if rep.Diagnosis.Advice == "" {
		t.Errorf("diagnosis %s has no advice", rep.Diagnosis.Code)
	}
	return rep
}

func dump(rep *Report) string {
	var b strings.Builder
	for _, e := range rep.Transcript {
		b.WriteString("  " + e.Dir + " " + e.Text + "\n")
	}
	return b.String()
}

func withOpts(fs ...func(o *Options)) func(o *Options) {
	return func(o *Options) {
		for _, f := range fs {
			f(o)
		}
	}
}

// probeQuickly bounds the TLS probe that follows a silent greeting, for a
// server that answers the probe no better.
func probeQuickly(o *Options) { o.PhaseTimeouts[phase.TLS] = time.Second }

// writeQuickly runs the flag round-trip with a short wait for the change
// to show, for cases where it never does.
func writeQuickly(o *Options) {
	o.Write = true
	o.PhaseTimeouts = map[phase.Phase]time.Duration{phase.Flags: 2 * time.Second}
}

// onText is a slog handler that passes on the text of each transcript
// entry the tester logs, for a fake server that must wait for the tester.
type onText func(text string)

func (h onText) Enabled(context.Context, slog.Level) bool { return true }

func (h onText) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "text" {
			h(a.Value.String())
		}
		return true
	})
	return nil
}

func (h onText) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h onText) WithGroup(string) slog.Handler { return h }

func TestCheckSession(t *testing.T) {
	plain := []string{CodeSecurityPlaintextLogin}
	on := func(verb string, h func(c *fconn, tag, args string)) fakeConfig {
		return fakeConfig{on: map[string]func(c *fconn, tag, args string){verb: h}}
	}
	dialed := make(chan struct{})
	var dialedOnce sync.Once
	cases := []e2eCase{
		{name: "healthy plaintext", code: CodeOK, phase: "logout", warns: plain},
		{name: "probe only", opts: func(o *Options) { o.User = "" }, code: CodeOK, phase: "logout", warns: plain, evidence: "no --user"},
		{name: "PREAUTH", cfg: fakeConfig{greeting: "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] welcome"}, code: CodeOK, phase: "logout"},
		{name: "greeting timeout", cfg: fakeConfig{raw: (*fconn).wait}, quick: true, opts: probeQuickly, code: CodeGreetingTimeout, phase: "greeting", evidence: "so the port is not implicit TLS either"},
		// An HTTP server waits for the client, and answers the TLS probe's
		// ClientHello in plaintext: that evidence names it (it used to be
		// greeting.timeout with advice to try TLS).
		{name: "http server waiting for the client", cfg: fakeConfig{raw: func(c *fconn) {
			if _, err := c.r.Peek(1); err != nil {
				return // the plaintext attempt, which sends nothing
			}
			c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
		}}, quick: true, code: CodeGreetingNotIMAP, phase: "greeting", evidence: `with "HTTP/1.1 400 Bad Request": HTTP, not IMAP`},
		{name: "greeting eof", cfg: fakeConfig{raw: func(c *fconn) {}}, code: CodeGreetingEOF, phase: "greeting"},
		{name: "reset", cfg: fakeConfig{raw: func(c *fconn) {
			// Reset once the tester's dial has returned: a reset that
			// beats it fails the dial itself (tcp.reset at connect).
			select {
			case <-dialed:
			case <-time.After(10 * time.Second):
			}
			c.Conn.(*net.TCPConn).SetLinger(0)
			c.Close()
		}}, opts: func(o *Options) {
			o.Logger = slog.New(onText(func(text string) {
				if strings.HasPrefix(text, "connected to") {
					dialedOnce.Do(func() { close(dialed) })
				}
			}))
		}, code: CodeTCPReset, phase: "greeting"},
		{name: "greeting bye", cfg: fakeConfig{greeting: "* BYE [UNAVAILABLE] maintenance"}, code: CodeGreetingBye, phase: "greeting", evidence: "maintenance"},
		{name: "smtp banner", cfg: fakeConfig{greeting: "220 mx.example.com ESMTP Postfix"}, code: CodeGreetingNotIMAP, phase: "greeting", evidence: "ESMTP"},
		{name: "pop3 banner", cfg: fakeConfig{greeting: "+OK Dovecot ready."}, code: CodeGreetingNotIMAP, phase: "greeting"},
		{name: "http", cfg: fakeConfig{greeting: "HTTP/1.1 400 Bad Request"}, code: CodeGreetingNotIMAP, phase: "greeting"},
		{name: "garbage greeting", cfg: fakeConfig{greeting: "\x01\x02hello"}, code: CodeGreetingMalformed, phase: "greeting"},
		{name: "partial greeting", cfg: fakeConfig{raw: func(c *fconn) { c.Write([]byte("* OK almost")); c.wait() }}, quick: true, code: CodeGreetingMalformed, phase: "greeting", evidence: "almost"},
		{name: "endless greeting", cfg: fakeConfig{raw: func(c *fconn) {
			chunk := []byte(strings.Repeat("x", 64<<10))
			for i := 0; i < 64; i++ {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}}, code: CodeGreetingMalformed, phase: "greeting", evidence: "longer than"},
		{name: "slow drip greeting", cfg: fakeConfig{raw: func(c *fconn) {
			for _, b := range []byte("* OK slow greeting that never ends") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(30 * time.Millisecond)
			}
		}}, quick: true, code: CodeGreetingMalformed, phase: "greeting"},
		{name: "bare LF", cfg: fakeConfig{raw: func(c *fconn) {
			c.Write([]byte("* OK [CAPABILITY IMAP4rev1 IDLE LITERAL+ UIDPLUS AUTH=PLAIN] lf only\n"))
			c.srv.cfg.greeting = ""
			for {
				line, err := c.readLine()
				if err != nil {
					return
				}
				tag, rest, _ := strings.Cut(line, " ")
				verb, args, _ := strings.Cut(rest, " ")
				if !c.srv.standard(c, tag, strings.ToUpper(verb), args) {
					return
				}
			}
		}}, code: CodeOK, phase: "logout", warns: []string{CodeSecurityPlaintextLogin, CodeProtocolBareLF}},

		{name: "login disabled", cfg: fakeConfig{caps: "IMAP4rev1 LOGINDISABLED AUTH=PLAIN"}, code: CodeAuthLoginDisabled, phase: "auth", evidence: "LOGINDISABLED"},
		{name: "wrong password", cfg: fakeConfig{password: "other"}, code: CodeAuthFailed, phase: "auth", warns: plain, evidence: "AUTHENTICATIONFAILED"},
		{name: "login NO without code", cfg: on("LOGIN", reply("NO Login failed")), code: CodeAuthFailed, phase: "auth", warns: plain},
		{name: "privacy required", cfg: on("LOGIN", reply("NO [PRIVACYREQUIRED] TLS first")), code: CodeAuthPrivacyRequired, phase: "auth", warns: plain},
		{name: "expired", cfg: on("LOGIN", reply("NO [EXPIRED] password expired")), code: CodeAuthExpired, phase: "auth", warns: plain},
		{name: "contact admin", cfg: on("LOGIN", reply("NO [CONTACTADMIN] locked")), code: CodeAuthContactAdmin, phase: "auth", warns: plain},
		{name: "authz failed", cfg: on("LOGIN", reply("NO [AUTHORIZATIONFAILED] no")), code: CodeAuthAuthzFailed, phase: "auth", warns: plain},
		{name: "auth unavailable", cfg: on("LOGIN", reply("NO [UNAVAILABLE] backend down")), code: CodeAuthUnavailable, phase: "auth", warns: plain},
		{name: "too many connections", cfg: on("LOGIN", reply("NO [LIMIT] too many")), code: CodeAuthTooManyConnections, phase: "auth", warns: plain},
		{name: "login BAD", cfg: on("LOGIN", reply("BAD syntax")), code: CodeProtocolBad, phase: "auth", warns: plain},
		{name: "login timeout", cfg: on("LOGIN", silence()), quick: true, code: CodeAuthTimeout, phase: "auth", warns: plain, evidence: "no response to LOGIN"},
		{name: "login dropped", cfg: on("LOGIN", hangUp()), code: CodeAuthDropped, phase: "auth", warns: plain},
		{name: "login BYE", cfg: on("LOGIN", hangUp("* BYE [UNAVAILABLE] auth process died")), code: CodeAuthUnavailable, phase: "auth", warns: plain, evidence: "auth process died"},
		{name: "login slow", cfg: on("LOGIN", func(c *fconn, tag, _ string) {
			time.Sleep(300 * time.Millisecond)
			c.send(tag + " OK slowly")
		}), opts: func(o *Options) { o.SlowThreshold = 100 * time.Millisecond }, code: CodeOK, phase: "logout", warns: []string{CodeSecurityPlaintextLogin, CodeAuthSlow}},
		{name: "password quoted", cfg: fakeConfig{password: `p"a\\ss`}, opts: func(o *Options) { o.Password = `p"a\\ss` }, code: CodeOK, phase: "logout", warns: plain},
		{name: "password literal+", cfg: fakeConfig{password: "pässwörd"}, opts: func(o *Options) { o.Password = "pässwörd" }, code: CodeOK, phase: "logout", warns: plain},
		{name: "password literal", cfg: fakeConfig{password: "pässwörd", caps: "IMAP4rev1 IDLE AUTH=PLAIN"}, opts: func(o *Options) { o.Password = "pässwörd" }, code: CodeOK, phase: "logout", warns: plain},
		{name: "plain", opts: func(o *Options) { o.Auth = AuthPlain }, cfg: fakeConfig{password: "correct horse"}, code: CodeOK, phase: "logout", warns: plain},
		{name: "plain wrong", opts: func(o *Options) { o.Auth = AuthPlain }, cfg: fakeConfig{password: "x"}, code: CodeAuthFailed, phase: "auth", warns: plain},
		{name: "plain without SASL-IR", opts: func(o *Options) { o.Auth = AuthPlain }, cfg: fakeConfig{caps: "IMAP4rev1 AUTH=PLAIN", password: "correct horse"}, code: CodeOK, phase: "logout", warns: []string{CodeSecurityPlaintextLogin, CodeIdleUnsupported}},
		{name: "mechanism missing", opts: func(o *Options) { o.Auth, o.Token = AuthXOAuth2, "tok" }, code: CodeAuthMechanismUnsupported, phase: "auth", warns: plain, evidence: "AUTH=XOAUTH2"},
		{name: "xoauth2 invalid", opts: func(o *Options) { o.Auth, o.Token = AuthXOAuth2, "tok" },
			cfg:  fakeConfig{caps: "IMAP4rev1 SASL-IR AUTH=XOAUTH2", on: map[string]func(*fconn, string, string){"AUTHENTICATE": oauthFail(`{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}`, "")}},
			code: CodeAuthOAuthTokenInvalid, phase: "auth", warns: plain, evidence: `"401"`},
		{name: "oauthbearer scope", opts: func(o *Options) { o.Auth, o.Token = AuthOAuthBearer, "tok" },
			cfg:  fakeConfig{caps: "IMAP4rev1 SASL-IR AUTH=OAUTHBEARER", on: map[string]func(*fconn, string, string){"AUTHENTICATE": oauthFail(`{"status":"insufficient_scope","scope":"mail"}`, "AQ==")}},
			code: CodeAuthOAuthScope, phase: "auth", warns: plain},
		{name: "oauth endless challenges", opts: func(o *Options) { o.Auth, o.Token = AuthOAuthBearer, "tok" },
			cfg: fakeConfig{caps: "IMAP4rev1 SASL-IR AUTH=OAUTHBEARER", on: map[string]func(*fconn, string, string){"AUTHENTICATE": func(c *fconn, tag, _ string) {
				for {
					c.send("+ e30=")
					if _, err := c.readLine(); err != nil {
						return
					}
				}
			}}},
			code: CodeProtocolParseError, phase: "auth", warns: plain},

		{name: "list NO", cfg: on("LIST", reply("NO [SERVERBUG] oops")), code: CodeServerBug, phase: "list", warns: plain},
		{name: "list NO plain", cfg: on("LIST", reply("NO cannot list")), code: CodeMailboxListFailed, phase: "list", warns: plain},
		{name: "list BAD", cfg: on("LIST", reply("BAD what")), code: CodeProtocolBad, phase: "list", warns: plain},
		{name: "inbox missing", cfg: on("LIST", lines(`* LIST () "/" Archive`, "TAG OK done")), code: CodeMailboxInboxMissing, phase: "list", warns: plain},
		{name: "list garbage", cfg: on("LIST", lines(`* LIST (\Noselect "/" INBOX`, "TAG OK done")), code: CodeProtocolParseError, phase: "list", warns: plain},
		{name: "list not IMAP", cfg: on("LIST", lines("hello world", "TAG OK done")), code: CodeProtocolParseError, phase: "list", warns: plain},
		{name: "wrong tag", cfg: on("LIST", lines("zz9 OK done")), code: CodeProtocolParseError, phase: "list", warns: plain},
		{name: "bye mid-session", cfg: on("LIST", hangUp("* BYE server shutting down")), code: CodeConnBye, phase: "list", warns: plain, evidence: "shutting down"},
		{name: "drop mid-session", cfg: on("SELECT", hangUp()), code: CodeConnDropped, phase: "select", warns: plain},
		{name: "silence mid-session", cfg: on("SELECT", silence()), quick: true, code: CodeConnTimeout, phase: "select", warns: plain, evidence: "last line received"},
		{name: "select missing", cfg: on("SELECT", reply("NO [NONEXISTENT] no such mailbox")), opts: func(o *Options) { o.Mailbox = "Nope" }, code: CodeMailboxSelectFailed, phase: "select", warns: plain, evidence: "LIST did not show"},
		{name: "inbox select missing", cfg: on("SELECT", reply("NO [NONEXISTENT] no INBOX")), code: CodeMailboxInboxMissing, phase: "select", warns: plain},
		{name: "read only", cfg: on("SELECT", lines("* 0 EXISTS", "TAG OK [READ-ONLY] examined")), code: CodeOK, phase: "logout", warns: []string{CodeSecurityPlaintextLogin, CodeMailboxReadOnly}},
		{name: "over quota", cfg: on("SELECT", reply("NO [OVERQUOTA] full")), code: CodeServerOverquota, phase: "select", warns: plain},

		{name: "fetch NO", cfg: on("FETCH", reply("NO broken index")), code: CodeFetchFailed, phase: "fetch", warns: plain},
		{name: "fetch nothing", cfg: on("FETCH", reply("OK done")), code: CodeFetchFailed, phase: "fetch", warns: plain},
		{name: "literal truncated", cfg: on("FETCH", hangUp(`* 2 FETCH (UID 2 ENVELOPE (NIL {100}`, "only ten b")), code: CodeFetchLiteralTruncated, phase: "fetch", warns: plain, evidence: "100 bytes"},
		{name: "literal slow", cfg: on("FETCH", func(c *fconn, tag, _ string) {
			c.send(`* 2 FETCH (UID 2 ENVELOPE (NIL {100}`)
			c.Write([]byte("only ten b"))
			c.wait()
		}), quick: true, code: CodeFetchTimeout, phase: "fetch", warns: plain, evidence: "slow, not truncated"},
		{name: "literal huge", cfg: on("FETCH", hangUp(`* 2 FETCH (UID 2 BODY[] {99999999999}`)), code: CodeProtocolParseError, phase: "fetch", warns: plain, evidence: "limit"},
		{name: "fetch limit", cfg: on("FETCH", reply("NO [LIMIT] too many messages")), code: CodeServerLimit, phase: "fetch", warns: plain},
		{name: "fetch silent", cfg: on("FETCH", silence()), quick: true, code: CodeFetchTimeout, phase: "fetch", warns: plain},

		{name: "no idle", cfg: fakeConfig{caps: "IMAP4rev1 AUTH=PLAIN"}, code: CodeOK, phase: "logout", warns: []string{CodeSecurityPlaintextLogin, CodeIdleUnsupported}},
		{name: "idle BAD", cfg: on("IDLE", reply("BAD no idle")), code: CodeIdleUnsupported, phase: "idle", warns: plain},
		{name: "idle no +", cfg: on("IDLE", silence()), quick: true, code: CodeIdleNoContinuation, phase: "idle", warns: plain},
		{name: "idle dropped", cfg: on("IDLE", hangUp("+ idling")), code: CodeIdleDropped, phase: "idle", warns: plain},

		{name: "write", opts: func(o *Options) { o.Write = true }, code: CodeOK, phase: "logout", warns: plain},
		{name: "write polling without IDLE", cfg: fakeConfig{caps: "IMAP4rev1 UIDPLUS AUTH=PLAIN"}, opts: func(o *Options) { o.Write = true }, code: CodeOK, phase: "logout", warns: []string{CodeSecurityPlaintextLogin, CodeIdleUnsupported}},
		{name: "write polling loses the flag", cfg: fakeConfig{caps: "IMAP4rev1 UIDPLUS AUTH=PLAIN", lose: true}, opts: writeQuickly, code: CodeStoreNotPersisted, phase: "flags", warns: []string{CodeSecurityPlaintextLogin, CodeIdleUnsupported}},
		{name: "write no push", cfg: fakeConfig{noPush: true}, opts: writeQuickly, code: CodeIdleNoPush, phase: "flags", warns: plain},
		{name: "write not persisted", cfg: fakeConfig{lose: true}, opts: writeQuickly, code: CodeStoreNotPersisted, phase: "flags", warns: plain},
		{name: "write never notified", cfg: fakeConfig{noNotify: true}, opts: writeQuickly, code: CodeIdleNoPush, phase: "flags", warns: plain, evidence: "not even on NOOP"},
		{name: "append over quota", cfg: on("APPEND", reply("NO [OVERQUOTA] quota exceeded")), opts: func(o *Options) { o.Write = true }, code: CodeServerOverquota, phase: "append", warns: plain},
		{name: "store NO", cfg: on("UID STORE", reply("NO [CANNOT] read-only")), opts: func(o *Options) { o.Write = true }, code: CodeStoreFailed, phase: "flags", warns: plain},
		{name: "caps asked after login", cfg: on("LOGIN", reply("OK logged in")), code: CodeOK, phase: "logout", warns: plain},
		{name: "unexpected continuation", cfg: on("LIST", lines("+ more please", "TAG OK done")), code: CodeProtocolParseError, phase: "list", warns: plain},
		{name: "write read-only", cfg: on("SELECT", lines("* 1 EXISTS", "TAG OK [READ-ONLY] examined")), opts: func(o *Options) { o.Write = true }, code: CodeStoreFailed, phase: "append", warns: []string{CodeSecurityPlaintextLogin, CodeMailboxReadOnly}},
		{name: "logout silent", cfg: on("LOGOUT", silence()), quick: true, code: CodeConnTimeout, phase: "logout", warns: plain},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runCase(t, c)
		})
	}
}

// oauthFail answers AUTHENTICATE with an error challenge, expects ack,
// then NO.
func oauthFail(json, ack string) func(c *fconn, tag, args string) {
	return func(c *fconn, tag, _ string) {
		c.send("+ " + b64(json))
		line, err := c.readLine()
		if err != nil {
			return
		}
		if line != ack {
			c.send(tag + " BAD wrong acknowledgement")
			return
		}
		c.send(tag + " NO [AUTHENTICATIONFAILED] invalid credentials")
	}
}

func TestCheckTLS(t *testing.T) {
	ca := newTestCA(t, "imapfault test CA")
	other := newTestCA(t, "someone else's CA")
	good := ca.serverConfig(t, leafOpts{})
	trust := func(o *Options) { o.RootCAs = ca.pool }
	day := 24 * time.Hour
	cases := []e2eCase{
		{name: "implicit", cfg: fakeConfig{implicit: good}, opts: trust, code: CodeOK, phase: "logout"},
		{name: "starttls", cfg: fakeConfig{starttls: good}, opts: trust, code: CodeOK, phase: "logout"},
		{name: "expired", cfg: fakeConfig{implicit: ca.serverConfig(t, leafOpts{notBefore: time.Now().Add(-10 * day), notAfter: time.Now().Add(-day)})}, opts: trust, code: CodeTLSCertExpired, phase: "tls", evidence: "(1 day ago)"},
		{name: "not yet valid", cfg: fakeConfig{implicit: ca.serverConfig(t, leafOpts{notBefore: time.Now().Add(day)})}, opts: trust, code: CodeTLSCertNotYetValid, phase: "tls"},
		{name: "expiring", cfg: fakeConfig{implicit: ca.serverConfig(t, leafOpts{notAfter: time.Now().Add(3 * day)})}, opts: trust, code: CodeOK, phase: "logout", warns: []string{CodeTLSCertExpiring}},
		{name: "self-signed", cfg: fakeConfig{implicit: ca.serverConfig(t, leafOpts{selfSigned: true})}, opts: trust, code: CodeTLSCertSelfSigned, phase: "tls"},
		{name: "self-signed starttls", cfg: fakeConfig{starttls: ca.serverConfig(t, leafOpts{selfSigned: true})}, opts: trust, code: CodeTLSCertSelfSigned, phase: "tls"},
		{name: "untrusted CA", cfg: fakeConfig{implicit: other.serverConfig(t, leafOpts{})}, opts: trust, code: CodeTLSCertUntrusted, phase: "tls"},
		{name: "system roots", cfg: fakeConfig{implicit: good}, code: CodeTLSCertUntrusted, phase: "tls"},
		{name: "wrong host", cfg: fakeConfig{implicit: ca.serverConfig(t, leafOpts{host: "mail.example.org"})}, opts: trust, code: CodeTLSHostnameMismatch, phase: "tls", evidence: "mail.example.org"},
		{name: "insecure continues", cfg: fakeConfig{implicit: ca.serverConfig(t, leafOpts{selfSigned: true})}, opts: func(o *Options) { o.Insecure = true }, code: CodeOK, phase: "logout", warns: []string{CodeTLSCertSelfSigned}},
		{name: "TLS 1.1 only", cfg: fakeConfig{implicit: &tls.Config{Certificates: good.Certificates, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}, opts: trust, code: CodeTLSVersionWeak, phase: "tls"},
		{name: "TLS to plaintext port", cfg: fakeConfig{}, opts: withOpts(trust, func(o *Options) { o.TLS = TLSImplicit }), code: CodeTLSProtocolMismatch, phase: "tls", evidence: "* OK"},
		{name: "plaintext to TLS port", cfg: fakeConfig{implicit: good}, opts: withOpts(trust, func(o *Options) { o.TLS = TLSNone }), quick: true, code: CodeTLSProtocolMismatch, phase: "greeting", evidence: "implicit TLS"},
		{name: "handshake dropped", cfg: fakeConfig{raw: func(c *fconn) {}, implicit: &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return nil, net.ErrClosed }}}, opts: trust, code: CodeTLSHandshakeFailed, phase: "tls"},
		{name: "starttls missing", cfg: fakeConfig{starttls: good, caps: "IMAP4rev1 AUTH=PLAIN"}, opts: trust, code: CodeStartTLSUnavailable, phase: "starttls"},
		{name: "starttls refused", cfg: fakeConfig{starttls: good, on: map[string]func(*fconn, string, string){"STARTTLS": reply("NO [UNAVAILABLE] no TLS today")}}, opts: trust, code: CodeStartTLSRefused, phase: "starttls"},
		{name: "starttls injection", cfg: fakeConfig{starttls: good, on: map[string]func(*fconn, string, string){"STARTTLS": func(c *fconn, tag, _ string) {
			c.Write([]byte(tag + " OK begin\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n"))
			c.wait()
		}}}, opts: trust, code: CodeStartTLSInjection, phase: "starttls", evidence: "injected"},
		{name: "starttls then plaintext", cfg: fakeConfig{starttls: good, on: map[string]func(*fconn, string, string){"STARTTLS": func(c *fconn, tag, _ string) {
			c.send(tag + " OK begin")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			c.r.Peek(1)
			c.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected late")
			c.wait()
		}}}, opts: trust, code: CodeStartTLSInjection, phase: "starttls", evidence: "injected late"},
		{name: "starttls dropped", cfg: fakeConfig{starttls: good, on: map[string]func(*fconn, string, string){"STARTTLS": hangUp()}}, opts: trust, code: CodeStartTLSDropped, phase: "starttls"},
		{name: "PREAUTH strips STARTTLS", cfg: fakeConfig{starttls: good, greeting: "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome"}, opts: trust, code: CodeStartTLSUnavailable, phase: "starttls", evidence: "PREAUTH"},
		{name: "starttls write", cfg: fakeConfig{starttls: good}, opts: withOpts(trust, func(o *Options) { o.Write = true }), code: CodeOK, phase: "logout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rep := runCase(t, c)
			if c.code == CodeOK && rep.TLS == nil {
				t.Errorf("TLS = nil, want the TLS details")
			}
		})
	}
}

func TestCheckTLSInfo(t *testing.T) {
	ca := newTestCA(t, "imapfault test CA")
	rep := runCase(t, e2eCase{cfg: fakeConfig{implicit: ca.serverConfig(t, leafOpts{})}, opts: func(o *Options) { o.RootCAs = ca.pool }, code: CodeOK, phase: "logout"})
	got := rep.TLS
	if got.Version == "" || got.Cipher == "" || !got.Verified || got.Issuer != ca.cert.Subject.String() || !strings.Contains(strings.Join(got.SANs, " "), "localhost") || got.NotAfter.IsZero() {
		t.Errorf("TLS = %+v, want version, cipher, verified, issuer %q, SAN localhost, NotAfter", got, ca.cert.Subject)
	}
}

func TestCheckConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rep, err := Check(context.Background(), Options{Addr: addr, StepTimeout: time.Second})
	if err != nil {
		t.Fatalf("Check() error = %v", err)
	}
	if got := rep.Diagnosis.Code; got != CodeTCPRefused {
		t.Errorf("Diagnosis.Code = %q, want %q (%s)", got, CodeTCPRefused, rep.Diagnosis.Evidence)
	}
}

func TestCheckDNS(t *testing.T) {
	rep, err := Check(context.Background(), Options{Addr: "no-such-host.invalid:143", StepTimeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("Check() error = %v", err)
	}
	if got := rep.Diagnosis.Code; got != CodeDNSNXDomain && got != CodeDNSTimeout {
		t.Errorf("Diagnosis.Code = %q, want a dns code (%s)", got, rep.Diagnosis.Evidence)
	}
}

func TestCheckCanceled(t *testing.T) {
	srv := startFake(t, fakeConfig{on: map[string]func(*fconn, string, string){"LOGIN": silence()}})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, err := Check(ctx, Options{Addr: srv.addr(), TLS: TLSNone, User: "alice", Password: "pw", StepTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("Check() error = %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Check() took %v after cancel, want it to stop at once", took)
	}
	if got := rep.Diagnosis.Code; got != CodeCheckCanceled {
		t.Errorf("Diagnosis.Code = %q, want %q", got, CodeCheckCanceled)
	}
}

func TestCheckInvalidOptions(t *testing.T) {
	for _, o := range []Options{
		{},
		{Addr: "localhost"},
		{Addr: "localhost:0"},
		{Addr: "localhost:143", TLS: "sometimes"},
		{Addr: "localhost:143", Auth: "kerberos"},
		{Addr: "localhost:143", User: "a", Auth: "xoauth2"},
		{Addr: "localhost:143", Mailbox: "a\r\nb"},
	} {
		if _, err := Check(context.Background(), o); err == nil {
			t.Errorf("Check(%+v) error = nil, want an error", o)
		}
	}
}

func TestCheckAsksCapabilitiesAfterLogin(t *testing.T) {
	rep := runCase(t, e2eCase{
		cfg:   fakeConfig{on: map[string]func(*fconn, string, string){"LOGIN": reply("OK logged in")}},
		code:  CodeOK,
		phase: "logout",
		warns: []string{CodeSecurityPlaintextLogin},
	})
	for i, e := range rep.Transcript {
		if e.Dir == "->" && strings.HasSuffix(e.Text, " LOGIN alice "+mask) {
			if next := rep.Transcript[i+2]; next.Text != "a2 CAPABILITY" {
				t.Errorf("after LOGIN without a CAPABILITY code the tester sent %q, want a2 CAPABILITY", next.Text)
			}
			return
		}
	}
	t.Errorf("no LOGIN in the transcript:\n%s", dump(rep))
}

func TestCheckHostName(t *testing.T) {
	srv := startFake(t, fakeConfig{})
	_, port, _ := net.SplitHostPort(srv.addr())
	rep, err := Check(context.Background(), Options{Addr: net.JoinHostPort("localhost", port), TLS: TLSNone, StepTimeout: time.Second})
	if err != nil {
		t.Fatalf("Check() error = %v", err)
	}
	if rep.Diagnosis.Code != CodeOK || rep.Address != srv.addr() {
		t.Errorf("Check(localhost) = %s via %s, want ok via %s (every resolved address tried in turn)\n%s", rep.Diagnosis.Code, rep.Address, srv.addr(), dump(rep))
	}
}
