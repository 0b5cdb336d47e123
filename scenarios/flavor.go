package scenarios

import (
	"regexp"
	"slices"
	"strings"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/providers"
)

// Flavours are owned by the providers knowledge base: a scenario's
// flavor names one of its [[flavor]] tables, and a fault's known names one
// of its messages. Both are checked here, with the file's line.

// knowledge returns the knowledge base, or records why it cannot.
func knowledge(c *collector) *providers.Base {
	kb, err := providers.Default()
	if err != nil {
		c.add("flavor", "the providers knowledge base does not load: %v", err)
		return nil
	}
	return kb
}

// applyFlavor gives a flavoured scenario its server's face: greeting,
// capabilities before and after login, hierarchy delimiter and folders as
// faults placed before the scenario's own, and auth mechanisms, ID answer
// and folders as settings the scenario left unset. It runs once per
// scenario.
func applyFlavor(c *collector, s *Scenario) {
	if s.Flavor == "" || s.flavored {
		return
	}
	kb := knowledge(c)
	if kb == nil {
		return
	}
	f := kb.Flavor(s.Flavor)
	if f == nil {
		c.add("flavor", "%q is not a flavour (allowed: %s)", s.Flavor, strings.Join(kb.FlavorIDs(), ", "))
		return
	}
	s.flavored = true
	if s.Server.Capabilities == nil {
		s.Server.Capabilities = slices.Clone(f.Capabilities)
	}
	if s.Server.ID == nil {
		// The wire layer answers ID (faults.ConnOptions.ID), checking the
		// client's arguments as for the server's own answer.
		s.Server.ID = slices.Clone(f.IDResponse)
	}
	if len(s.Server.AuthMechanisms) == 0 {
		for _, cp := range f.Capabilities {
			if m, ok := strings.CutPrefix(strings.ToUpper(cp), "AUTH="); ok && slices.Contains(authMechs, m) {
				s.Server.AuthMechanisms = append(s.Server.AuthMechanisms, m)
			}
		}
	}
	s.Faults = append(flavorFaults(f), s.Faults...)
	for i := range s.Users {
		for _, fo := range f.Folders {
			if !slices.ContainsFunc(s.Users[i].Mailboxes, func(m Mailbox) bool { return m.Name == fo.Name }) {
				s.Users[i].Mailboxes = append(s.Users[i].Mailboxes, Mailbox{Name: fo.Name, SpecialUse: fo.SpecialUse})
			}
		}
	}
}

// flavorFaults are the faults that make the fake server look like f.
func flavorFaults(f *providers.Flavor) []faults.Fault {
	out := []faults.Fault{{Action: &faults.Greeting{Greeting: f.Greeting}}}
	if !f.GreetingCapabilities {
		r := &faults.Rewrite{}
		r.Rewrite.Match, r.Rewrite.Replace = `^\* OK \[CAPABILITY [^\]]*\] `, `* OK `
		out = append(out, faults.Fault{When: faults.When{Phase: faults.PhaseGreeting}, Action: r})
	}
	caps := &faults.Capabilities{}
	for _, cp := range f.CapabilitiesAfterLogin {
		if !slices.Contains(f.Capabilities, cp) {
			caps.Capabilities.Add = append(caps.Capabilities.Add, cp)
		}
	}
	for _, cp := range f.Capabilities {
		if !slices.Contains(f.CapabilitiesAfterLogin, cp) {
			caps.Capabilities.Remove = append(caps.Capabilities.Remove, cp)
		}
	}
	if len(caps.Capabilities.Add)+len(caps.Capabilities.Remove) > 0 {
		// The reply to LOGIN (and AUTHENTICATE) is written before the
		// session's phase moves on: it takes the post-login list too.
		out = append(out, faults.Fault{When: faults.When{Command: "LOGIN"}, Action: caps})
		for _, ph := range []string{faults.PhaseAuthenticated, faults.PhaseSelected, faults.PhaseIdle} {
			out = append(out, faults.Fault{When: faults.When{Phase: ph}, Action: caps})
		}
	}
	if f.Delimiter != "/" {
		d := strings.ReplaceAll(f.Delimiter, `\`, `\\`)
		out = append(out,
			rewrite("LIST", `^(\* LIST \([^)]*\)) "/"`, `$1 "`+d+`"`),
			rewrite("LSUB", `^(\* LSUB \([^)]*\)) "/"`, `$1 "`+d+`"`),
			rewrite("NAMESPACE", `^\* NAMESPACE \(\("([^"]*)" "/"\)\)`, `* NAMESPACE (("$1" "`+d+`"))`))
	}
	for _, fo := range f.Folders {
		if fo.Noselect {
			out = append(out, rewrite("LIST", `^\* LIST \([^)]*\) ("[^"]*") "?`+regexp.QuoteMeta(fo.Name)+`"?$`,
				`* LIST (\HasChildren \Noselect) $1 "`+fo.Name+`"`))
		}
	}
	for i := range out {
		// The values above are well formed; Validate compiles rewrites.
		_ = out[i].Action.Validate()
	}
	return out
}

func rewrite(command, match, replace string) faults.Fault {
	r := &faults.Rewrite{}
	r.Rewrite.Match, r.Rewrite.Replace = match, replace
	return faults.Fault{When: faults.When{Command: command}, Action: r}
}

// knownFault turns `known = "gmail-too-many-connections"` into the
// server's reply with that message's exact text.
func knownFault(c *collector, path string, s *Scenario, when faults.When, id string) (faults.Fault, bool) {
	kb := knowledge(c)
	if kb == nil {
		return faults.Fault{}, false
	}
	e := kb.Entry(id)
	if e == nil {
		var ids []string
		for _, x := range kb.Entries {
			if s.Flavor == "" || x.Provider == s.Flavor {
				ids = append(ids, x.ID)
			}
		}
		c.add(path, "%q is not a known message (known: %s)", id, strings.Join(ids, ", "))
		return faults.Fault{}, false
	}
	if s.Flavor != "" && e.Provider != s.Flavor {
		c.add(path, "%q is %s's message, but the scenario's flavor is %q", id, e.Provider, s.Flavor)
		return faults.Fault{}, false
	}
	text := providers.StripTag(e.Example)
	// An untagged example (Gmail's WEBALERT) is sent as the reply.
	text = strings.TrimPrefix(text, "* ")
	return faults.Fault{When: when, Action: &faults.Respond{Respond: text}}, true
}
