package faults

import (
	"slices"
	"strings"
)

// rewritesCaps reports whether the transport policy or a fault may change
// the capability lists the server sends; when neither can, they go out
// unparsed.
func (c *Conn) rewritesCaps() bool {
	return c.opts.Capabilities != nil || c.opts.StartTLS != nil || c.opts.RequireTLSForAuth || c.set.capFaults || len(c.opts.ID) > 0
}

// adjustCaps applies the transport policy and the capability faults.
// note says whether the lists go to the client, so that a capability
// fault that changes one is noted in the transcript.
func (c *Conn) adjustCaps(caps []string, active func(*armed, *Command) bool, note bool) []string {
	if c.opts.Capabilities != nil {
		caps = append([]string(nil), c.opts.Capabilities...)
	} else {
		// The rules below append to caps: keep the caller's list intact,
		// for it to see whether anything changed.
		caps = slices.Clip(caps)
		// go-imap lists only the capabilities it knows; ID is the wire
		// layer's (local.go), in every state, as Dovecot lists it.
		if len(c.opts.ID) > 0 && !hasCap(caps, "ID") {
			caps = append(caps, "ID")
		}
	}
	isTLS := c.TLS()
	p := c.getPhase()
	preAuth := p == phaseNotAuthenticated || p == phaseGreeting
	if c.opts.StartTLS != nil && !isTLS && preAuth && !hasCap(caps, "STARTTLS") {
		caps = append(caps, "STARTTLS")
	}
	if c.opts.RequireTLSForAuth && !isTLS && preAuth {
		kept := caps[:0:0]
		for _, cp := range caps {
			if !strings.HasPrefix(strings.ToUpper(cp), "AUTH=") {
				kept = append(kept, cp)
			}
		}
		caps = kept
		if !hasCap(caps, "LOGINDISABLED") {
			caps = append(caps, "LOGINDISABLED")
		}
	}
	for _, a := range c.set.armed {
		if f, ok := a.Action.(*Capabilities); ok && active(a, nil) {
			before := caps
			caps = f.apply(caps)
			if note && !slices.Equal(before, caps) {
				c.noteActed(a)
			}
		}
	}
	return caps
}

// advertises reports whether the capabilities the client is shown now
// include name. A server that hides STARTTLS or announces LOGINDISABLED
// must also refuse the command, as a real one does: clients that send it
// regardless (fetchmail with TLS required, imaplib's login) would
// otherwise succeed where a customer's client fails.
func (c *Conn) advertises(name string) bool {
	return hasCap(c.adjustCaps(nil, c.filterMatches, false), name)
}

func hasCap(caps []string, name string) bool {
	for _, c := range caps {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}
