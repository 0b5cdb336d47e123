package providers

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// file is knowledge.toml's shape.
type file struct {
	Product []productDef `toml:"product"`
	Message []messageDef `toml:"message"`
	Flavor  []flavorDef  `toml:"flavor"`
}

type productDef struct {
	ID                  string   `toml:"id"`
	Name                string   `toml:"name"`
	Greeting            string   `toml:"greeting"`
	Capabilities        []string `toml:"capabilities"`
	IDName              string   `toml:"id_name"`
	ExampleGreeting     string   `toml:"example_greeting"`
	ExampleCapabilities string   `toml:"example_capabilities"`
	Source              string   `toml:"source"`
}

type messageDef struct {
	ID       string `toml:"id"`
	Provider string `toml:"provider"`
	Pattern  string `toml:"pattern"`
	Quote    string `toml:"quote"`
	Example  string `toml:"example"`
	Code     string `toml:"code"`
	Meaning  string `toml:"meaning"`
	Advice   string `toml:"advice"`
	Help     string `toml:"help"`
	Source   string `toml:"source"`
	Generic  bool   `toml:"generic"`
}

// Error is a problem in a knowledge file, at a line when one is known.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

var (
	idRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	codeRE = regexp.MustCompile(`^[a-z]+\.[a-z_0-9]+$`)
)

// Parse reads a knowledge file strictly: unknown keys, missing fields,
// duplicate IDs, patterns that do not compile or do not match their own
// example, and sources that are not https URLs are errors naming the
// file and line.
func Parse(name string, data []byte) (*Base, error) {
	var f file
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, &Error{File: name, Line: perr.Position.Line, Msg: perr.Message}
		}
		return nil, &Error{File: name, Msg: err.Error()}
	}
	text := string(data)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, &Error{File: name, Line: lineOfKey(text, k[len(k)-1]), Msg: fmt.Sprintf("unknown key %q", k.String())}
	}
	var errs []error
	fail := func(id, msg string, args ...any) {
		errs = append(errs, &Error{File: name, Line: lineOfID(text, id), Msg: fmt.Sprintf("%q: ", id) + fmt.Sprintf(msg, args...)})
	}
	b := &Base{}
	seen := map[string]bool{}
	for _, p := range f.Product {
		if !idRE.MatchString(p.ID) || seen["product "+p.ID] {
			fail(p.ID, "product id must be unique, lower case letters, digits and dashes")
			continue
		}
		seen["product "+p.ID] = true
		prod := Product{ID: p.ID, Name: p.Name, Capabilities: p.Capabilities, ExampleGreeting: p.ExampleGreeting,
			ExampleCapabilities: p.ExampleCapabilities, Source: p.Source}
		if p.Greeting != "" {
			re, err := regexp.Compile(p.Greeting)
			if err != nil {
				fail(p.ID, "greeting: %v", err)
				continue
			}
			prod.Greeting = re
		}
		if p.IDName != "" {
			re, err := regexp.Compile(p.IDName)
			if err != nil {
				fail(p.ID, "id_name: %v", err)
				continue
			}
			prod.IDName = re
		}
		switch {
		case p.Name == "":
			fail(p.ID, "name is missing")
		case prod.Greeting == nil && len(p.Capabilities) == 0 && prod.IDName == nil:
			fail(p.ID, "a product needs a greeting pattern, capabilities or an id_name to be recognised by")
		case checkURL(p.Source) != nil:
			fail(p.ID, "source: %v", checkURL(p.Source))
		case p.ExampleGreeting == "":
			fail(p.ID, "example_greeting is missing: record the greeting the source shows")
		default:
			b.Products = append(b.Products, prod)
		}
	}
	for _, m := range f.Message {
		if !idRE.MatchString(m.ID) || seen["message "+m.ID] {
			fail(m.ID, "message id must be unique, lower case letters, digits and dashes")
			continue
		}
		seen["message "+m.ID] = true
		re, err := regexp.Compile(m.Pattern)
		if err != nil {
			fail(m.ID, "pattern: %v", err)
			continue
		}
		e := Entry{ID: m.ID, Provider: m.Provider, Pattern: re, Quote: m.Quote, Example: m.Example, Code: m.Code,
			Meaning: m.Meaning, Advice: m.Advice, Help: m.Help, Source: m.Source, Generic: m.Generic}
		switch {
		case !seen["product "+m.Provider]:
			fail(m.ID, "provider %q is not a product of this file", m.Provider)
		case m.Pattern == "" || m.Quote == "" || m.Example == "" || m.Meaning == "" || m.Advice == "":
			fail(m.ID, "pattern, quote, example, meaning and advice are all required")
		case !codeRE.MatchString(m.Code):
			fail(m.ID, "code %q is not a diagnosis code (area.name)", m.Code)
		case !strings.Contains(m.Example, m.Quote):
			fail(m.ID, "example %q does not contain the quote %q", m.Example, m.Quote)
		case !re.MatchString(StripTag(m.Example)):
			fail(m.ID, "pattern %q does not match its own example %q", m.Pattern, StripTag(m.Example))
		case checkURL(m.Source) != nil:
			fail(m.ID, "source: %v", checkURL(m.Source))
		case m.Help != "" && checkURL(m.Help) != nil:
			fail(m.ID, "help: %v", checkURL(m.Help))
		default:
			b.Entries = append(b.Entries, e)
		}
	}
	products := map[string]bool{}
	for _, p := range b.Products {
		products[p.ID] = true
	}
	for _, fd := range f.Flavor {
		if seen["flavor "+fd.ID] {
			fail(fd.ID, "flavor id must be unique")
			continue
		}
		seen["flavor "+fd.ID] = true
		if err := checkFlavor(fd, products); err != nil {
			errs = append(errs, &Error{File: name, Line: lineOf(text, "[[flavor]]\nid = \""+fd.ID+"\""), Msg: fmt.Sprintf("flavor %q: %v", fd.ID, err)})
			continue
		}
		greetingCaps := fd.GreetingCapabilities == nil || *fd.GreetingCapabilities
		b.Flavors = append(b.Flavors, Flavor{ID: fd.ID, Greeting: fd.Greeting, GreetingCapabilities: greetingCaps, Capabilities: fd.Capabilities,
			CapabilitiesAfterLogin: fd.CapabilitiesAfterLogin, Delimiter: fd.Delimiter, IDResponse: fd.IDResponse,
			Folders: fd.Folders, Source: fd.Source, IDSource: fd.IDSource})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return b, nil
}

// checkURL accepts an absolute http(s) URL: sources are public pages.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

// lineOfID finds the line that declares id, so that an error points at
// its entry.
func lineOfID(text, id string) int {
	return lineOf(text, `id = "`+id+`"`)
}

func lineOfKey(text, key string) int { return lineOf(text, key+" =") }

func lineOf(text, needle string) int {
	i := strings.Index(text, needle)
	if i < 0 || needle == "" {
		return 0
	}
	return strings.Count(text[:i], "\n") + 1
}
