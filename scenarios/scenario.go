// Package scenarios owns the scenario file format: strict decoding with
// errors at file:line, validation, defaults, and the built-in library.
// It knows nothing of sockets; the server and the verify harness read the
// Scenario values it returns.
package scenarios

import (
	"io/fs"
	"sync"
	"time"

	"github.com/imapfault/imapfault/client/phase"
	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/internal/tomlpos"
)

// Scenario is one reproducible server behaviour and what the tester must
// conclude from it.
type Scenario struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
	// Layer names what the scenario exercises, for listings: tcp, tls,
	// greeting, capabilities, starttls, auth, mailbox, fetch, flags, idle,
	// syntax, or none.
	Layer string `toml:"layer"`
	// Flavor makes the server play a provider or server software from the
	// providers knowledge base (gmail, outlook, dovecot...): its greeting,
	// capabilities, ID answer, delimiter and folders.
	Flavor string         `toml:"flavor"`
	Server Server         `toml:"server"`
	Users  []User         `toml:"users"`
	Faults []faults.Fault `toml:"-"`
	// Replay is a scripted session played before Faults (replay.go).
	Replay Replay `toml:"replay"`
	Client Client `toml:"client"`
	Expect Expect `toml:"expect"`

	// Source is where the scenario came from: a file path, or
	// "builtin:NAME".
	Source string `toml:"-"`
	// Files resolves the message files the scenario names, relative to the
	// scenario's own folder. Nil for scenarios built in code with no files.
	Files fs.FS `toml:"-"`

	cache    *seedCache    // set by Parse and Validate
	lines    *tomlpos.Lazy // the line of each key, found when first asked for (set by Parse)
	flavored bool          // the flavour's faults and settings are in place
	replayed bool          // the replay's faults are in place
}

type seedCache struct {
	sync.Mutex
	seeds map[*Mailbox]cachedSeeds
}

// Transport modes.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "implicit"
)

// Certificate kinds the server can present.
const (
	CertValid        = "valid"
	CertSelfSigned   = "self-signed"
	CertExpired      = "expired"
	CertNotYetValid  = "not-yet-valid"
	CertWrongHost    = "wrong-host"
	CertUntrustedCA  = "untrusted-ca"
	CertNoIntermedia = "missing-intermediate"
)

var (
	tlsModes  = []string{TLSNone, TLSStartTLS, TLSImplicit}
	certKinds = []string{CertValid, CertSelfSigned, CertExpired, CertNotYetValid, CertWrongHost, CertUntrustedCA, CertNoIntermedia}
	authMechs = []string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}
	layers    = []string{"none", "tcp", "tls", "greeting", "capabilities", "starttls", "auth", "mailbox", "fetch", "flags", "idle", "syntax"}
)

// Server is how the fake server presents itself.
type Server struct {
	// TLS is the transport: none, starttls or implicit.
	TLS string `toml:"tls"`
	// Certificate is the kind of certificate presented when TLS is on.
	Certificate string `toml:"certificate"`
	// Hostnames are the names and addresses the certificate is valid for.
	Hostnames []string `toml:"hostnames"`
	// Capabilities, when set, replaces the capability lists the server
	// would send on its own.
	Capabilities []string `toml:"capabilities"`
	// AuthMechanisms are the SASL mechanisms AUTHENTICATE accepts.
	AuthMechanisms []string `toml:"auth_mechanisms"`
	// PlaintextAuth allows LOGIN and AUTHENTICATE before TLS is up. It
	// defaults to true only when TLS is "none".
	PlaintextAuth *bool `toml:"plaintext_auth"`
	// Limits bound what one client can make the server do; a zero field
	// takes faults.DefaultLimits.
	Limits faults.Limits `toml:"limits"`
	// ID is the answer to ID (RFC 2971) as field and value pairs, which
	// a flavour sets to its product's recorded answer; nil leaves the
	// server's own ("name" "imapfault"). No file sets it.
	ID []string `toml:"-"`
}

// User is an account on the server.
type User struct {
	Name     string `toml:"name"`
	Password string `toml:"password"`
	// Tokens are the OAuth bearer tokens XOAUTH2 and OAUTHBEARER accept.
	Tokens []string `toml:"tokens"`
	// TokenErrors maps tokens the server knows but refuses to the RFC 7628
	// status it refuses them with: invalid_token, insufficient_scope,
	// invalid_request.
	TokenErrors map[string]string `toml:"token_errors"`
	// AnyPassword logs the user in with any password or token, as a
	// recorded session's user: the recording never holds the real ones.
	// It excludes Password, Tokens and TokenErrors.
	AnyPassword bool      `toml:"any_password"`
	Mailboxes   []Mailbox `toml:"mailboxes"`
}

// Mailbox is a folder and its messages. Every user has an INBOX whether
// or not the scenario declares one.
type Mailbox struct {
	Name string `toml:"name"`
	// SpecialUse is an RFC 6154 attribute such as \Sent or \Trash.
	SpecialUse  string `toml:"special_use"`
	UIDValidity uint32 `toml:"uidvalidity"`
	// Files are glob patterns of .eml files, relative to the scenario file.
	Files    []string  `toml:"files"`
	Generate *Generate `toml:"generate"`
	Messages []Message `toml:"messages"`
}

// MaxGenerate bounds generate.count. A million generated messages start
// in about 25 s on two cores and hold about 9.4 KB of memory each (issue
// 19: server.BenchmarkMailboxMemory with IMAPFAULT_BENCH_1M=1); it was
// 100,000 while generation ran below a million messages a minute.
const MaxGenerate = 1_000_000

// Generate asks for Count realistic generated messages.
type Generate struct {
	Count int   `toml:"count"`
	Seed  int64 `toml:"seed"`
}

// Message is one message declared inline: either a whole RFC 5322 text in
// Raw, a File, or headers and a body from which one is composed.
type Message struct {
	File    string    `toml:"file"`
	Raw     string    `toml:"raw"`
	From    string    `toml:"from"`
	To      string    `toml:"to"`
	Subject string    `toml:"subject"`
	Body    string    `toml:"body"`
	Date    time.Time `toml:"date"`
	Flags   []string  `toml:"flags"`
}

// Client is how the tester is pointed at this scenario.
type Client struct {
	TLS      string `toml:"tls"`
	User     string `toml:"user"`
	Password string `toml:"password"`
	Token    string `toml:"token"`
	Auth     string `toml:"auth"`
	Mailbox  string `toml:"mailbox"`
	// Timeout bounds each phase of the walk that Timeouts does not name.
	Timeout time.Duration `toml:"timeout"`
	// Timeouts bound single phases, by the tester's phase names: a
	// scenario that tests a slow greeting bounds the greeting, and leaves
	// connect and the TLS handshake Timeout's generous default, which a
	// loaded machine needs.
	Timeouts map[phase.Phase]time.Duration `toml:"timeouts"`
	// IdleHold keeps the tester in IDLE this long before DONE, for
	// scenarios whose fault strikes during IDLE.
	IdleHold   time.Duration `toml:"idle_hold"`
	Write      bool          `toml:"write"`
	ServerName string        `toml:"server_name"`
	Insecure   bool          `toml:"insecure"`
	// TrustCA makes the tester trust the run's CA; true unless set.
	TrustCA *bool `toml:"trust_ca"`
}

// Expect is what the tester must report.
type Expect struct {
	Diagnosis string `toml:"diagnosis"`
	Phase     string `toml:"phase"`
	// Warnings must all be reported; Absent must not be.
	Warnings []string `toml:"warnings"`
	Absent   []string `toml:"absent"`
	// Durations bounds how long a step took, by phase name.
	Durations map[string]Bound `toml:"durations"`
}

// Bound is an inclusive range; a zero end is open.
type Bound struct {
	Min time.Duration `toml:"min"`
	Max time.Duration `toml:"max"`
}
