package client

import "slices"

// Diagnosis codes, from the taxonomy in docs/design.md. The tester adds some:
// auth.slow, protocol.bare_lf, protocol.no_imap4rev1,
// protocol.expunge_in_fetch, fetch.size_mismatch and
// mailbox.no_permanent_flags are warnings, never
// primary; check.canceled is the diagnosis of a check whose context ended
// before the walk did. The codes marked as recognised from a provider's
// text (app password, web login, basic auth, not connected, unsafe login,
// throttled) come from package providers' knowledge base, as "likely";
// server.throttled is also a warning when a successful response carries
// the text (Gmail's "OK Success [THROTTLED]").
const (
	CodeOK = "ok"

	CodeDNSNXDomain = "dns.nxdomain"
	CodeDNSTimeout  = "dns.timeout"
	CodeTCPRefused  = "tcp.refused"
	CodeTCPTimeout  = "tcp.timeout"
	CodeTCPReset    = "tcp.reset"

	CodeTLSProtocolMismatch = "tls.protocol_mismatch"
	CodeTLSHandshakeFailed  = "tls.handshake_failed"
	CodeTLSVersionWeak      = "tls.version_weak"
	CodeTLSCertExpired      = "tls.cert_expired"
	CodeTLSCertNotYetValid  = "tls.cert_not_yet_valid"
	CodeTLSCertExpiring     = "tls.cert_expiring"
	CodeTLSCertSelfSigned   = "tls.cert_self_signed"
	CodeTLSCertUntrusted    = "tls.cert_untrusted"
	CodeTLSHostnameMismatch = "tls.hostname_mismatch"

	CodeGreetingTimeout   = "greeting.timeout"
	CodeGreetingEOF       = "greeting.eof"
	CodeGreetingNotIMAP   = "greeting.not_imap"
	CodeGreetingBye       = "greeting.bye"
	CodeGreetingMalformed = "greeting.malformed"

	CodeStartTLSUnavailable = "starttls.unavailable"
	CodeStartTLSRefused     = "starttls.refused"
	CodeStartTLSInjection   = "starttls.injection"
	CodeStartTLSDropped     = "starttls.dropped"

	CodeAuthLoginDisabled        = "auth.login_disabled"
	CodeAuthPrivacyRequired      = "auth.privacy_required"
	CodeAuthMechanismUnsupported = "auth.mechanism_unsupported"
	CodeAuthFailed               = "auth.failed"
	CodeAuthOAuthTokenInvalid    = "auth.oauth_token_invalid"
	CodeAuthOAuthScope           = "auth.oauth_scope"
	CodeAuthExpired              = "auth.expired"
	CodeAuthAuthzFailed          = "auth.authz_failed"
	CodeAuthContactAdmin         = "auth.contact_admin"
	CodeAuthUnavailable          = "auth.unavailable"
	CodeAuthTooManyConnections   = "auth.too_many_connections"
	CodeAuthTimeout              = "auth.timeout"
	CodeAuthDropped              = "auth.dropped"
	CodeAuthSlow                 = "auth.slow"
	// Recognised from a provider's well-known text (package providers):
	// a response code alone cannot say these.
	CodeAuthAppPasswordRequired = "auth.app_password_required"
	CodeAuthWebLoginRequired    = "auth.web_login_required"
	CodeAuthBasicAuthDisabled   = "auth.basic_auth_disabled"
	CodeAuthNotConnected        = "auth.not_connected"

	// The monitor's: the secret could not be had before the walk began.
	CodeAuthOAuthTokenRefreshFailed = "auth.oauth_token_refresh_failed"
	CodeAuthSecretUnavailable       = "auth.secret_unavailable"

	CodeMailboxListFailed       = "mailbox.list_failed"
	CodeMailboxInboxMissing     = "mailbox.inbox_missing"
	CodeMailboxSelectFailed     = "mailbox.select_failed"
	CodeMailboxReadOnly         = "mailbox.read_only"
	CodeMailboxNoPermanentFlags = "mailbox.no_permanent_flags"
	CodeMailboxUnsafeLogin      = "mailbox.unsafe_login"

	CodeFetchFailed           = "fetch.failed"
	CodeFetchTimeout          = "fetch.timeout"
	CodeFetchLiteralTruncated = "fetch.literal_truncated"
	CodeStoreFailed           = "store.failed"
	CodeStoreNotPersisted     = "store.not_persisted"
	CodeIdleUnsupported       = "idle.unsupported"
	CodeIdleNoContinuation    = "idle.no_continuation"
	CodeIdleNoPush            = "idle.no_push"
	CodeIdleDropped           = "idle.dropped"

	CodeConnBye                = "conn.bye"
	CodeConnDropped            = "conn.dropped"
	CodeConnTimeout            = "conn.timeout"
	CodeProtocolBad            = "protocol.bad"
	CodeProtocolParseError     = "protocol.parse_error"
	CodeProtocolBareLF         = "protocol.bare_lf"
	CodeProtocolNoRevision     = "protocol.no_imap4rev1"
	CodeProtocolExpungeInFetch = "protocol.expunge_in_fetch"
	CodeFetchSizeMismatch      = "fetch.size_mismatch"
	CodeServerBug              = "server.bug"
	CodeServerLimit            = "server.limit"
	CodeServerOverquota        = "server.overquota"
	CodeServerThrottled        = "server.throttled"

	CodeSecurityPlaintextLogin = "security.plaintext_login"
	CodeCheckCanceled          = "check.canceled"
)

// advice is what a person can do about each code. A diagnosis may refine it.
var advice = map[string]string{
	CodeOK:          "Nothing to do: the server answered every step as expected.",
	CodeDNSNXDomain: "The host name does not resolve: check its spelling and the DNS records (A/AAAA).",
	CodeDNSTimeout:  "The resolver did not answer in time: check /etc/resolv.conf and network access to the DNS servers.",
	CodeTCPRefused:  "Nothing listens on that port: check the port number, that the IMAP service runs, and that it listens on this address.",
	CodeTCPTimeout:  "No answer to the TCP connection: a firewall may drop packets, or the host is down or unreachable.",
	CodeTCPReset:    "The connection was reset: a firewall, a load balancer or a crashed service is in the way.",

	CodeTLSProtocolMismatch: "The port speaks a different protocol than expected: use --tls implicit for port 993 style ports, --tls starttls or none for port 143 style ports.",
	CodeTLSHandshakeFailed:  "The TLS handshake failed: compare the server's TLS versions and ciphers with what modern clients require (TLS 1.2+).",
	CodeTLSVersionWeak:      "The server only speaks TLS older than 1.2, which current clients refuse: enable TLS 1.2 and 1.3 on the server.",
	CodeTLSCertExpired:      "The certificate has expired: renew it and reload the IMAP service.",
	CodeTLSCertNotYetValid:  "The certificate is not valid yet: check the clock of the server and of this machine, or the certificate's dates.",
	CodeTLSCertExpiring:     "The certificate expires soon: renew it before clients start to fail.",
	CodeTLSCertSelfSigned:   "The certificate is self-signed: install one from a public CA (for example Let's Encrypt), or pass --ca-file with this certificate if it is meant to be private.",
	CodeTLSCertUntrusted:    "The certificate is not signed by a trusted CA: send the full chain (intermediates) from the server, or pass --ca-file for a private CA.",
	CodeTLSHostnameMismatch: "The certificate does not name this host: connect with a name the certificate lists (see its SANs), use --server-name, or reissue the certificate.",

	CodeGreetingTimeout:   "The server accepted the connection but said nothing: the service may be overloaded or hung, or the port may expect TLS first (try --tls implicit).",
	CodeGreetingEOF:       "The server closed the connection before greeting: check its logs for connection limits, tcpwrappers or crashes.",
	CodeGreetingNotIMAP:   "Another protocol answers on this port: check the port number (IMAP is 143, IMAPS 993).",
	CodeGreetingBye:       "The server refuses connections right now: see the BYE text, and check connection limits and maintenance mode.",
	CodeGreetingMalformed: "The greeting is not a valid IMAP greeting: a proxy or a broken server is in the way.",

	CodeStartTLSUnavailable: "The server does not offer STARTTLS: enable TLS on the server, use port 993 with --tls implicit, or --tls none on a trusted network only.",
	CodeStartTLSRefused:     "The server advertised STARTTLS but refused it: check its TLS certificate and key configuration.",
	CodeStartTLSInjection:   "The server sent data after the STARTTLS reply and before TLS began: a man in the middle or a buggy server (CVE-2011-0411 class); do not trust this path.",
	CodeStartTLSDropped:     "The connection closed during STARTTLS: a middlebox may strip STARTTLS, or the server's TLS setup is broken.",

	CodeAuthLoginDisabled:        "The server refuses LOGIN on this connection (LOGINDISABLED): connect with TLS (--tls starttls or implicit).",
	CodeAuthPrivacyRequired:      "The server requires TLS before authentication: connect with --tls starttls or implicit.",
	CodeAuthMechanismUnsupported: "The server does not offer this mechanism: pick one from its AUTH= capabilities with --auth.",
	CodeAuthFailed:               "The server rejected the credentials: check user name and password (some providers require an app-specific password).",
	CodeAuthOAuthTokenInvalid:    "The OAuth token was rejected: it may be expired or issued for another account; fetch a new access token.",
	CodeAuthOAuthScope:           "The OAuth token lacks the IMAP scope: request the provider's mail scope when obtaining the token.",
	CodeAuthExpired:              "The credentials have expired: change or renew the password or token.",
	CodeAuthAuthzFailed:          "Authenticated but not allowed to act as this user: check the authorization identity and the account's permissions.",
	CodeAuthContactAdmin:         "The server asks the user to contact the administrator: the account is likely locked or disabled.",
	CodeAuthUnavailable:          "The authentication backend is temporarily unavailable: retry later and check the server's user database.",
	CodeAuthTooManyConnections:   "Too many connections or logins for this user: close other clients or raise the server's per-user limit.",
	CodeAuthTimeout:              "The server did not answer the login in time: its authentication backend may be slow or hung; retry with a longer --timeout.",
	CodeAuthDropped:              "The server closed the connection during login: check its logs (authentication process crashes, fail2ban).",
	CodeAuthSlow:                 "The login was answered slowly: servers delay logins after failures; check the authentication backend's latency.",
	CodeAuthAppPasswordRequired:  "The provider refuses the account password from mail clients: create an app-specific password (or use OAuth) and log in with it.",
	CodeAuthWebLoginRequired:     "The provider wants the sign-in confirmed in a web browser first: sign in to its web mail from the same network, confirm the attempt, then use an app password or OAuth.",
	CodeAuthBasicAuthDisabled:    "The provider no longer accepts passwords (basic authentication) over IMAP: sign in with OAuth 2.0 (--auth xoauth2).",
	CodeAuthNotConnected:         "The login was accepted but no mailbox is attached to it: the token or user does not own a mailbox there, or lacks permission to the one named.",

	CodeAuthOAuthTokenRefreshFailed: "The OAuth token endpoint refused a new access token (see its error code): invalid_grant means the refresh token was revoked or expired, so authorize again; invalid_client means the client id or secret is wrong.",
	CodeAuthSecretUnavailable:       "The monitor could not read this target's secret (environment variable, file or token command): fix the source named in the evidence.",

	CodeMailboxListFailed:   "LIST failed: check the mail storage (permissions, disk) on the server.",
	CodeMailboxInboxMissing: "The account has no INBOX: check the mail location setting and that the user's mail directory exists.",
	CodeMailboxSelectFailed: "The mailbox cannot be selected: check its name (see LIST), its permissions, and the mail storage.",
	CodeMailboxReadOnly:     "The mailbox opened read-only: check the user's rights (ACL) and file permissions.",
	CodeMailboxUnsafeLogin:  "The server refuses to open mailboxes until the client identifies itself with ID (RFC 2971): send ID after login.",

	CodeFetchFailed:           "FETCH failed: the message store may be damaged; check the server's logs and index files.",
	CodeFetchTimeout:          "The server did not finish FETCH in time: the mail storage may be slow or the messages huge.",
	CodeFetchLiteralTruncated: "The server sent fewer bytes than it announced: a broken proxy or server cut the message data.",
	CodeStoreFailed:           "Changing flags or appending failed: check quota, rights (ACL) and the mail storage.",
	CodeStoreNotPersisted:     "A flag change was accepted but not seen: the server's index or replication loses changes.",
	CodeIdleUnsupported:       "The server does not support IDLE: clients fall back to polling, so new mail shows late.",
	CodeIdleNoContinuation:    "The server accepted IDLE but never answered \"+\": clients will hang waiting for new mail.",
	CodeIdleNoPush:            "A change made from another session did not show during IDLE: the server's change notification (inotify, replication) is not working.",
	CodeIdleDropped:           "The connection closed during IDLE: a firewall or proxy may cut idle connections too early.",

	CodeConnBye:                 "The server ended the session with BYE: see its text; check server logs and limits.",
	CodeConnDropped:             "The connection closed unexpectedly: check server logs for crashes, and middleboxes for idle timeouts.",
	CodeConnTimeout:             "The server stopped answering: it may be overloaded, or a middlebox drops the connection silently.",
	CodeProtocolBad:             "The server answered BAD to a standard command: it may not speak IMAP4rev1 correctly, or a proxy mangles commands.",
	CodeProtocolParseError:      "The server's response is not valid IMAP: a broken server or a proxy in the way.",
	CodeProtocolBareLF:          "The server ends lines with LF instead of CRLF: strict clients will fail to parse its responses.",
	CodeMailboxNoPermanentFlags: "The mailbox is writable but PERMANENTFLAGS does not include \\Seen: read state, stars and deletions set by clients are lost at the end of the session. Check the server's flag storage (index permissions, quota).",
	CodeProtocolExpungeInFetch:  "The server announced an EXPUNGE in the middle of a FETCH, which RFC 9051 forbids: clients may apply changes to the wrong messages. Fix the server (or the proxy reordering responses).",
	CodeFetchSizeMismatch:       "RFC822.SIZE is smaller than the message: clients that size their downloads by it truncate mail. The server's size index is stale or wrong.",
	CodeProtocolNoRevision:      "The server does not claim IMAP4rev1 or IMAP4rev2 in CAPABILITY: strict clients refuse such a server; fix its capability configuration.",
	CodeServerBug:               "The server reports an internal error (SERVERBUG): check its logs.",
	CodeServerLimit:             "The server hit a limit (LIMIT): reduce the request size or raise the server's limits.",
	CodeServerOverquota:         "The account is over quota: delete mail or raise the quota.",
	CodeServerThrottled:         "The server is slowing down or refusing this account's requests for a while: wait, then use fewer connections and commands.",

	CodeSecurityPlaintextLogin: "The server accepts passwords without TLS: disable plaintext authentication (LOGINDISABLED) and require TLS.",
	CodeCheckCanceled:          "The check was interrupted before it finished.",
}

func diag(code, phase, evidence string) Diagnosis {
	return Diagnosis{Code: code, Phase: phase, Evidence: evidence, Advice: advice[code]}
}

// Codes returns every diagnosis code the tester can give, sorted, for
// validating expectations such as a scenario's [expect] table.
func Codes() []string {
	out := make([]string, 0, len(advice))
	for code := range advice {
		out = append(out, code)
	}
	slices.Sort(out)
	return out
}

// Advice returns what a person can do about a code ("" for an unknown
// code), for diagnoses made outside the walk, such as the monitor's.
func Advice(code string) string { return advice[code] }
