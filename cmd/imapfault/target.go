package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/imapfault/imapfault/client"
)

// target is where check connects, from HOST[:PORT] or a pasted URL.
type target struct {
	host, port string
	tls        client.TLSMode // set by imaps://; "" leaves it to --tls or the port
	user       string         // from imap://USER@HOST
}

// urlSchemes are the URL forms check accepts: what mail clients and
// server documentation print. imaps is IMAP over implicit TLS (RFC 8314).
var urlSchemes = map[string]struct {
	port string
	tls  client.TLSMode
}{
	"imap":  {"143", ""},
	"imaps": {"993", client.TLSImplicit},
}

const targetForms = "HOST, HOST:PORT, imap://HOST[:PORT] or imaps://HOST[:PORT]"

// parseTarget reads check's one argument. A bare host gets port 993 when
// --tls is implicit, 143 otherwise.
func parseTarget(arg string, tlsFlag client.TLSMode) (target, error) {
	scheme, _, isURL := strings.Cut(arg, "://")
	if !isURL {
		host, port, err := net.SplitHostPort(arg)
		if err != nil {
			host = strings.TrimSuffix(strings.TrimPrefix(arg, "["), "]")
			port = "143"
			if tlsFlag == client.TLSImplicit {
				port = "993"
			}
		}
		if host == "" {
			return target{}, fmt.Errorf("target %q: empty host (want %s)", arg, targetForms)
		}
		return target{host: host, port: port}, nil
	}
	def, ok := urlSchemes[strings.ToLower(scheme)]
	if !ok {
		return target{}, fmt.Errorf("target %q: check tests IMAP, not %s:// (want %s)", arg, scheme, targetForms)
	}
	u, err := url.Parse(arg)
	if err != nil {
		return target{}, fmt.Errorf("target %q: %v (want %s)", arg, err, targetForms)
	}
	t := target{host: u.Hostname(), port: u.Port(), tls: def.tls}
	switch {
	case t.host == "":
		return target{}, fmt.Errorf("target %q: empty host (want %s)", arg, targetForms)
	case u.User != nil:
		if _, has := u.User.Password(); has {
			return target{}, fmt.Errorf("target %q: a password in the URL would show in the process list: give it in $IMAPFAULT_PASSWORD, --password-file or the prompt", u.Redacted())
		}
		t.user = u.User.Username()
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return target{}, fmt.Errorf("target %q: check reads only the scheme, user, host and port of a URL; give a mailbox with --mailbox", arg)
	}
	if t.port == "" {
		t.port = def.port
	}
	if t.tls != "" && tlsFlag != "" && tlsFlag != t.tls {
		return target{}, fmt.Errorf("target %q means --tls %s, but --tls %s was given: use imap:// with --tls, or drop --tls", arg, t.tls, tlsFlag)
	}
	return t, nil
}
