package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/imapfault/imapfault/client/phase"
)

func validateClient(c *collector, s *Scenario, users map[string]*User) {
	cl := &s.Client
	if cl.TLS != s.Server.TLS || slices.Contains(tlsModes, s.Server.TLS) {
		// A TLS mode copied from a bad server.tls is reported there.
		oneOf(c, "client.tls", cl.TLS, tlsModes)
	}
	oneOf(c, "client.auth", strings.ToLower(cl.Auth), clientAuths)
	if cl.Timeout < 0 {
		c.add("client.timeout", "must not be negative")
	}
	for _, ph := range slices.Sorted(maps.Keys(cl.Timeouts)) {
		p := "client.timeouts." + string(ph)
		oneOf(c, p, string(ph), testerPhases)
		if cl.Timeouts[ph] <= 0 {
			c.add(p, "%v: write a positive duration such as \"1s\"", cl.Timeouts[ph])
		}
	}
	idle, key := cl.Timeout, "client.timeout"
	if d, ok := cl.Timeouts[phase.Idle]; ok {
		idle, key = d, "client.timeouts.idle"
	}
	if cl.IdleHold < 0 || cl.IdleHold > idle/2 {
		c.add("client.idle_hold", "%v: want 0 up to half of %s (%v)", cl.IdleHold, key, idle/2)
	}
	if cl.User == "" {
		return
	}
	u := users[cl.User]
	if u == nil {
		c.add("client.user", "no user %q in [[users]]", cl.User)
		return
	}
	// An empty secret is never what a copied scenario means: the tester
	// would send it and report auth.failed for the wrong reason.
	for i := range s.Users {
		if s.Users[i].Name == cl.User && (c.isBroken(fmt.Sprintf("users[%d].password", i)) || c.isBroken(fmt.Sprintf("users[%d].tokens", i))) {
			return // its secret is reported as undecodable
		}
	}
	switch {
	case oauthAuth(cl.Auth) && cl.Token == "":
		c.add("client.token", "user %q has no token to log in with %s: set [client] token or give the user tokens", cl.User, strings.ToLower(cl.Auth))
	case !oauthAuth(cl.Auth) && cl.Password == "":
		c.add("client.password", "user %q has no password: set [client] password, or auth = \"xoauth2\" with a token", cl.User)
	}
	if strings.EqualFold(cl.Mailbox, "INBOX") {
		return
	}
	for _, m := range u.Mailboxes {
		if m.Name == cl.Mailbox {
			return
		}
	}
	c.add("client.mailbox", "user %q has no mailbox %q", cl.User, cl.Mailbox)
}
