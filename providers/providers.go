// Package providers is the knowledge base of IMAP servers and providers:
// how to recognise a server from its greeting and capabilities, and what
// the well-known texts of each mean. It is data (knowledge.toml, one
// table in one file) and a small API over it, shared by the tester
// (naming the server, refining a diagnosis) and the fake server's
// flavours. It imports nothing of this module.
package providers

import (
	_ "embed"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

//go:embed knowledge.toml
var knowledge []byte

// Product is a server software or provider the tester can recognise.
type Product struct {
	ID   string // stable name, e.g. "gmail"; also a flavour's name
	Name string // for people, e.g. "Gmail (Gimap)"
	// Greeting, when set, must match the greeting line.
	Greeting *regexp.Regexp
	// Capabilities must all be present (case-insensitively).
	Capabilities []string
	// IDName, when set, names the product by the "name" field of its ID
	// answer, for a server whose greeting and capabilities say nothing.
	IDName *regexp.Regexp
	// ExampleGreeting and ExampleCapabilities are recorded from Source;
	// a test proves that they identify this product.
	ExampleGreeting     string
	ExampleCapabilities string
	Source              string
}

// Entry is one well-known server text and what it means.
type Entry struct {
	ID       string
	Provider string // a Product's ID
	// Pattern matches a status line without its tag: "NO [ALERT] ...",
	// "BAD ...", "OK ...", "BYE ...".
	Pattern *regexp.Regexp
	// Quote is the text exactly as Source shows it; Example is the whole
	// wire line around it (the same when the source shows the line).
	Quote   string
	Example string
	Code    string // the diagnosis code the text supports
	Meaning string
	Advice  string
	Help    string // the provider's own help page, when there is one
	Source  string // the public page that shows the text on the wire
	// Generic marks a text too common to name its provider alone: the
	// entry applies only where the server was identified as Provider.
	Generic bool
}

// Base is a parsed knowledge base.
type Base struct {
	Products []Product
	Entries  []Entry
	Flavors  []Flavor
}

var defaultBase = sync.OnceValues(func() (*Base, error) { return Parse("knowledge.toml", knowledge) })

// Default returns the built-in knowledge base. The embedded file is
// checked by this package's tests, so an error here is a build defect.
func Default() (*Base, error) { return defaultBase() }

// Product returns the product with this ID, or nil.
func (b *Base) Product(id string) *Product {
	for i := range b.Products {
		if b.Products[i].ID == id {
			return &b.Products[i]
		}
	}
	return nil
}

// Identification is the product a greeting and capabilities point to.
type Identification struct {
	Product  *Product
	Evidence []string // the clues that matched, for a person to read
}

// Identify names the product whose every clue matches the greeting and
// the capability lists (any of them may hold a clue: before and after
// login differ). Greeting patterns see the greeting without its response
// code. Products are tried in file order, which lists the more
// specific before the general (Microsoft 365 before Exchange); the first
// whose clues all match wins. It returns a zero Identification when none
// does.
func (b *Base) Identify(greeting string, capLists ...[]string) Identification {
	have := map[string]bool{}
	for _, l := range capLists {
		for _, c := range l {
			have[strings.ToUpper(c)] = true
		}
	}
	text := greetingText(greeting)
	for i := range b.Products {
		p := &b.Products[i]
		var ev []string
		if p.Greeting != nil {
			if !p.Greeting.MatchString(text) {
				continue
			}
			ev = append(ev, fmt.Sprintf("greeting %q", clip(greeting)))
		}
		ok := true
		for _, c := range p.Capabilities {
			if !have[strings.ToUpper(c)] {
				ok = false
				break
			}
			ev = append(ev, "capability "+c)
		}
		if ok && len(ev) > 0 {
			return Identification{Product: p, Evidence: ev}
		}
	}
	return Identification{}
}

// greetingText drops a response code from a greeting ("* OK [CAPABILITY
// ...] text" becomes "* OK text"): servers add or omit it by
// configuration, and a product's pattern speaks of its text.
func greetingText(g string) string {
	status, rest, ok := strings.Cut(g, " ")
	if !ok || status != "*" {
		return g
	}
	word, rest, _ := strings.Cut(rest, " ")
	if strings.HasPrefix(rest, "[") {
		if end := strings.Index(rest, "] "); end > 0 {
			return "* " + word + " " + rest[end+2:]
		}
	}
	return g
}

// IdentifyByID names the product whose IDName matches the name a server
// gave in its ID answer. It is the second evidence: the tester asks it
// only when the greeting and capabilities named nothing.
func (b *Base) IdentifyByID(name string) Identification {
	if name == "" {
		return Identification{}
	}
	for i := range b.Products {
		p := &b.Products[i]
		if p.IDName != nil && p.IDName.MatchString(name) {
			return Identification{Product: p, Evidence: []string{fmt.Sprintf("ID name %q", clip(name))}}
		}
	}
	return Identification{}
}

// Lookup returns the entries whose pattern matches a status line (tag
// included or not: a leading tag, "*" or "+" is stripped), in file order.
// product is the identified product's ID ("" when unknown): generic
// entries of other providers are left out.
func (b *Base) Lookup(line, product string) []*Entry {
	text := StripTag(line)
	var out []*Entry
	for i := range b.Entries {
		e := &b.Entries[i]
		if e.Generic && e.Provider != product {
			continue
		}
		if e.Pattern.MatchString(text) {
			out = append(out, e)
		}
	}
	return out
}

// StripTag removes a line's tag when it starts with a status word after
// it, so that patterns never depend on a client's tag scheme.
func StripTag(line string) string {
	tag, rest, ok := strings.Cut(line, " ")
	if !ok {
		return line
	}
	word, _, _ := strings.Cut(rest, " ")
	if tag != "" && slices.Contains(statusWords, strings.ToUpper(word)) {
		return rest
	}
	return line
}

var statusWords = []string{"OK", "NO", "BAD", "BYE", "PREAUTH"}

func clip(s string) string {
	const n = 200
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
