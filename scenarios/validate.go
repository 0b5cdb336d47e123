package scenarios

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/imapfault/imapfault/client/phase"
)

var (
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	codeRE = regexp.MustCompile(`^[a-z_]+(\.[a-z_]+)?$`)
	flagRE = regexp.MustCompile(`^\\?[A-Za-z0-9$_.-]+$`)

	specialUses = []string{`\All`, `\Archive`, `\Drafts`, `\Flagged`, `\Junk`, `\Sent`, `\Trash`}
	clientAuths = []string{"login", "plain", "xoauth2", "oauthbearer"}
	// testerPhases are the tester's own: one list, in client/phase.
	testerPhases = phase.Names()
)

func applyDefaults(s *Scenario) {
	if s.cache == nil {
		s.cache = &seedCache{seeds: map[*Mailbox]cachedSeeds{}}
	}
	if s.Layer == "" {
		s.Layer = "none"
	}
	if s.Server.TLS == "" {
		s.Server.TLS = TLSNone
	}
	if s.Server.Certificate == "" {
		s.Server.Certificate = CertValid
	}
	if len(s.Server.Hostnames) == 0 {
		s.Server.Hostnames = []string{"localhost", "127.0.0.1", "::1"}
	}
	if s.Server.PlaintextAuth == nil {
		plain := s.Server.TLS == TLSNone
		s.Server.PlaintextAuth = &plain
	}
	if len(s.Server.AuthMechanisms) == 0 {
		s.Server.AuthMechanisms = []string{"PLAIN"}
		for _, u := range s.Users {
			if len(u.Tokens) > 0 || len(u.TokenErrors) > 0 {
				s.Server.AuthMechanisms = append(s.Server.AuthMechanisms, "XOAUTH2", "OAUTHBEARER")
				break
			}
		}
	}
	if s.Client.TLS == "" {
		s.Client.TLS = s.Server.TLS
	}
	if s.Client.User == "" && len(s.Users) > 0 {
		s.Client.User = s.Users[0].Name
	}
	if s.Client.Auth == "" {
		s.Client.Auth = "login"
	}
	defaultClientSecret(s)
	if s.Client.Mailbox == "" {
		s.Client.Mailbox = DefaultMailbox
	}
	if s.Client.Timeout == 0 {
		s.Client.Timeout = DefaultClientTimeout
	}
	if s.Client.TrustCA == nil {
		trust := true
		s.Client.TrustCA = &trust
	}
	if s.Expect.Diagnosis == "" {
		s.Expect.Diagnosis = "ok"
	}
}

// defaultClientSecret gives the tester the [client] user's own secret
// from [[users]] when [client] names none, as the docs promise: its
// password, or for the OAuth methods its first token. A user without one
// is reported by validateClient.
func defaultClientSecret(s *Scenario) {
	cl := &s.Client
	if cl.Password != "" || cl.Token != "" {
		return
	}
	for _, u := range s.Users {
		if u.Name != cl.User {
			continue
		}
		if oauthAuth(cl.Auth) {
			if len(u.Tokens) > 0 {
				cl.Token = u.Tokens[0]
			}
		} else {
			cl.Password = u.Password
		}
		return
	}
}

func oauthAuth(auth string) bool {
	a := strings.ToLower(auth)
	return a == "xoauth2" || a == "oauthbearer"
}

func oneOf(c *collector, p, v string, allowed []string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.add(p, "%q is not allowed (allowed: %s)", v, strings.Join(allowed, ", "))
}

func validate(c *collector, s *Scenario) {
	if !nameRE.MatchString(s.Name) {
		c.add("name", "%q: use lower-case letters, digits and dashes", s.Name)
	}
	oneOf(c, "layer", s.Layer, layers)
	oneOf(c, "server.tls", s.Server.TLS, tlsModes)
	oneOf(c, "server.certificate", s.Server.Certificate, certKinds)
	for i, m := range s.Server.AuthMechanisms {
		oneOf(c, fmt.Sprintf("server.auth_mechanisms[%d]", i), strings.ToUpper(m), authMechs)
	}
	for i, cp := range s.Server.Capabilities {
		if cp == "" || strings.ContainsAny(cp, " []\r\n") {
			c.add(fmt.Sprintf("server.capabilities[%d]", i), "%q is not a capability name", cp)
		}
	}
	if err := s.Server.Limits.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			key, msg, _ := strings.Cut(line, ": ")
			c.add("server.limits."+key, "%s", msg)
		}
	}
	users := map[string]*User{}
	for i := range s.Users {
		validateUser(c, s, i, users)
	}
	validateClient(c, s, users)
	if !codeRE.MatchString(s.Expect.Diagnosis) {
		c.add("expect.diagnosis", "%q is not a diagnosis code such as auth.failed", s.Expect.Diagnosis)
	}
	if s.Expect.Phase != "" {
		oneOf(c, "expect.phase", s.Expect.Phase, testerPhases)
	}
	for ph, b := range s.Expect.Durations {
		p := "expect.durations." + ph
		oneOf(c, p, ph, testerPhases)
		if b.Max > 0 && b.Min > b.Max {
			c.add(p, "min %v is above max %v", b.Min, b.Max)
		}
	}
}

func validateUser(c *collector, s *Scenario, i int, users map[string]*User) {
	u := &s.Users[i]
	p := fmt.Sprintf("users[%d]", i)
	switch {
	case u.Name == "":
		c.add(p+".name", "a user needs a name")
	case users[u.Name] != nil:
		c.add(p+".name", "user %q is declared twice", u.Name)
	}
	users[u.Name] = u
	for tok, status := range u.TokenErrors {
		oneOf(c, p+".token_errors."+tok, status, []string{"invalid_token", "insufficient_scope", "invalid_request"})
	}
	switch {
	case u.AnyPassword && (u.Password != "" || len(u.Tokens) > 0 || len(u.TokenErrors) > 0):
		c.add(p+".any_password", "user %q logs in with any password or token: leave out password, tokens and token_errors, or any_password", u.Name)
	case !u.AnyPassword && u.Password == "" && len(u.Tokens) == 0:
		c.add(p+".password", "user %q can never log in: give a password, tokens or any_password = true", u.Name)
	}
	boxes := map[string]bool{}
	for j := range u.Mailboxes {
		m := &u.Mailboxes[j]
		mp := fmt.Sprintf("%s.mailboxes[%d]", p, j)
		key := m.Name
		if strings.EqualFold(key, "INBOX") {
			key = "INBOX"
			m.Name = "INBOX"
		}
		switch {
		case m.Name == "":
			c.add(mp+".name", "a mailbox needs a name")
		case boxes[key]:
			c.add(mp+".name", "mailbox %q is declared twice for user %q", m.Name, u.Name)
		}
		boxes[key] = true
		if m.SpecialUse != "" {
			oneOf(c, mp+".special_use", m.SpecialUse, specialUses)
		}
		for k, pattern := range m.Files {
			validateFile(c, s, fmt.Sprintf("%s.files[%d]", mp, k), pattern, true)
		}
		if g := m.Generate; g != nil && (g.Count <= 0 || g.Count > MaxGenerate) {
			c.add(mp+".generate.count", "%d is outside 1..%d", g.Count, MaxGenerate)
		}
		for k, msg := range m.Messages {
			validateMessage(c, s, fmt.Sprintf("%s.messages[%d]", mp, k), msg)
		}
	}
}

func validateMessage(c *collector, s *Scenario, p string, m Message) {
	given := 0
	for _, set := range []bool{m.File != "", m.Raw != "", m.From != "" || m.To != "" || m.Subject != "" || m.Body != ""} {
		if set {
			given++
		}
	}
	if given != 1 {
		c.add(p, "give exactly one of: file, raw, or headers (from, to, subject, body)")
	}
	if m.File != "" {
		validateFile(c, s, p+".file", m.File, false)
	}
	for i, f := range m.Flags {
		if !flagRE.MatchString(f) {
			c.add(fmt.Sprintf("%s.flags[%d]", p, i), "%q is not a flag such as \\Seen or $Label1", f)
		}
	}
}

// validateFile checks that a message file pattern stays inside the
// scenario's folder and matches something.
func validateFile(c *collector, s *Scenario, p, pattern string, glob bool) {
	fsys, name := s.resolve(pattern)
	folder := "the scenario's folder"
	if name != pattern {
		folder = "the built-in library"
	}
	clean := path.Clean(name)
	if path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(name, `\`) {
		c.add(p, "%q leaves %s: name files below it with forward slashes", pattern, folder)
		return
	}
	if fsys == nil {
		c.add(p, "%q: this scenario has no folder to read files from (the built-in messages are %q)", pattern, LibraryPrefix+"messages/*.eml")
		return
	}
	matches := []string{clean}
	if glob {
		var err error
		matches, err = globFS(fsys, clean)
		switch {
		case err != nil:
			c.add(p, "%q: %v", pattern, err)
			return
		case len(matches) == 0:
			c.add(p, "%q matches no file in %s%s%s", pattern, folder, whyNoMatch(fsys, clean), libraryHint(name, pattern))
			return
		}
	}
	// A name can stay inside the folder and its file not: a symbolic link
	// out of it is refused when opened, and reported here.
	for _, m := range matches {
		if _, err := fs.Stat(fsys, m); err != nil {
			c.add(p, "%v%s", err, libraryHint(name, pattern))
		}
	}
}

// libraryHint points a relative name that matched nothing locally at the
// built-in library when it would match there, as in a built-in scenario
// copied without "scenarios show" or "scenarios export".
func libraryHint(name, pattern string) string {
	if name != pattern {
		return ""
	}
	if m, _ := globFS(library(), path.Clean(name)); len(m) > 0 {
		return fmt.Sprintf(" (the built-in library has it: write %q, or run \"imapfault scenarios export NAME DIR\" for a copy with its files)", LibraryPrefix+pattern)
	}
	return ""
}

// whyNoMatch says why a pattern matched nothing when the reason is not a
// missing file: a symbolic link out of the folder, refused when opened.
func whyNoMatch(fsys fs.FS, pattern string) string {
	for p := pattern; p != "." && p != "/"; p = path.Dir(p) {
		if strings.ContainsAny(p, `*?[\`) {
			continue
		}
		if _, err := fs.Stat(fsys, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Sprintf(" (%v)", err)
		}
	}
	return ""
}
