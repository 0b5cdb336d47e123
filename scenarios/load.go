package scenarios

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/internal/tomlpos"
)

// rawFile is the file's top-level table: its faults key is decoded by
// decodeFaults, the others into the Scenario.
type rawFile struct {
	Scenario
	Faults struct{} `toml:"faults"`
}

// Defaults a scenario gets for what it leaves out. The client timeout is
// the tester's own default: a scenario that needs a phase to time out
// quickly says so for that phase ([client] timeouts), so that the other
// phases keep a bound that holds on a loaded machine.
const (
	DefaultClientTimeout = 10 * time.Second
	DefaultMailbox       = "INBOX"
)

// LoadFile reads and validates a scenario file; message files resolve
// relative to its folder. checks run after validation, their problems
// reported with the rest.
func LoadFile(path string, checks ...Check) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, rootFS(filepath.Dir(path)), checks...)
}

// Report records a problem at a key of a scenario ("expect.warnings[1]"),
// which an error gives with the key's line.
type Report func(path, format string, args ...any)

// Check is a validation that needs what this package does not know, such
// as the tester's diagnosis codes: lint runs it with the file's own
// checks, so that every problem is reported at once, each at its line.
type Check func(s *Scenario, report Report)

// Check runs checks on a scenario already loaded, reporting at the lines
// it was loaded from.
func (s *Scenario) Check(checks ...Check) error {
	file := s.Source
	if file == "" {
		file = "scenario " + s.Name
	}
	c := &collector{file: file, lines: s.lines}
	for _, check := range checks {
		check(s, c.add)
	}
	return c.err()
}

// rootFS reads the files below a scenario's folder. Unlike os.DirFS it
// refuses a symbolic link that leads out of the folder, so that a scenario
// cannot make the server read (and serve) a file elsewhere.
type rootFS string

// Open implements fs.FS.
func (d rootFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	f, err := os.OpenInRoot(string(d), name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Parse decodes and validates a scenario. file names it in errors; files
// resolves the message files it names (nil: it may name none); checks run
// last, on what could be decoded, even when there were problems before.
func Parse(file string, data []byte, files fs.FS, checks ...Check) (*Scenario, error) {
	// Only a syntax error stops here: values are decoded key by key
	// below, so that every wrong one is reported at once.
	var top map[string]any
	src := string(data)
	md, err := toml.Decode(src, &top)
	if err != nil {
		return nil, ErrorList{tomlpos.DecodeError(file, err)}
	}
	c := &collector{file: file, lines: tomlpos.NewLazy(src, md)}
	if len(md.Keys()) == 0 {
		c.add("", "the file is empty: a scenario needs at least [[users]] or [[faults]] (start from \"imapfault scenarios show healthy\")")
		return nil, c.err()
	}
	var raw rawFile
	decodeTable(c, top, reflect.ValueOf(&raw).Elem(), "", "faults")
	s := &raw.Scenario
	s.Source = file
	s.Files = files
	if f, ok := top["faults"]; ok {
		s.Faults = decodeFaults(c, f, s)
	}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	applyReplay(c, s)
	applyFlavor(c, s)
	applyDefaults(s)
	validate(c, s)
	s.lines = c.lines
	for _, check := range checks {
		check(s, c.add)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	// The scenario keeps the file's text for the lines of a later Check,
	// not its decoded form.
	c.lines.Release()
	return s, nil
}

// Validate fills in defaults and checks a scenario built in Go code, as
// Parse does for a file.
func (s *Scenario) Validate() error {
	file := s.Source
	if file == "" {
		file = "scenario " + s.Name
	}
	c := &collector{file: file}
	applyReplay(c, s)
	applyFlavor(c, s)
	applyDefaults(s)
	validate(c, s)
	for i, f := range s.Faults {
		if f.Action == nil {
			c.add(fmt.Sprintf("faults[%d]", i), "no action")
			continue
		}
		if err := f.When.ValidateFor(f.Action); err != nil {
			c.add(fmt.Sprintf("faults[%d].when", i), "%v", err)
		}
		if err := f.Action.Validate(); err != nil {
			c.add(fmt.Sprintf("faults[%d].%s", i, f.Action.Kind()), "%v", err)
		}
	}
	return c.err()
}

// decodeFaults turns each [[faults]] table into a faults.Fault: "when"
// says where, and exactly one other key names the action.
func decodeFaults(c *collector, raw any, s *Scenario) []faults.Fault {
	tbls, ok := tables(raw)
	if !ok {
		c.fail("faults", "%s", typeMessage(raw, reflect.TypeFor[[]faults.Fault]()))
		return nil
	}
	var out []faults.Fault
	for i, tbl := range tbls {
		path := fmt.Sprintf("faults[%d]", i)
		var when faults.When
		whenOK := true
		if p, ok := tbl["when"]; ok {
			whenOK = decodeValue(c, p, reflect.ValueOf(&when).Elem(), path+".when")
			if written, ok := p.(map[string]any); ok {
				checkExplicitZeros(c, when, written, path+".when")
			}
		}
		var kinds []faults.Kind
		known := false
		keys := c.inOrder(tbl, path)
		for _, k := range keys {
			if kind, err := faults.LookupKind(k.key); err == nil {
				kinds = append(kinds, kind)
			}
			known = known || k.key == "known"
		}
		if known {
			for _, k := range keys {
				if len(kinds) == 0 && k.key != "when" && k.key != "known" {
					c.unknown(k.path, k.key)
				}
			}
			// known = "entry" is a reply with a provider's exact text, from
			// the providers knowledge base.
			var id string
			switch {
			case len(kinds) > 0:
				c.add(path, "known and %s are two actions: give each its own [[faults]] table", kinds[0].Name)
				c.ignore(path)
			case !decodeLeaf(tbl["known"], reflect.ValueOf(&id).Elem()):
				c.add(path+".known", "must be a string naming a knowledge base message")
			case !whenOK:
			default:
				if f, ok := knownFault(c, path+".known", s, when, id); ok {
					if err := f.When.Validate(); err != nil {
						c.add(path+".when", "%v", strings.TrimPrefix(err.Error(), "when: "))
					}
					out = append(out, f)
				}
			}
			continue
		}
		sort.Slice(kinds, func(a, b int) bool { return kinds[a].Name < kinds[b].Name })
		switch len(kinds) {
		case 0:
			c.add(path, "no action: a fault needs one of: %s, known", faults.KindNames())
			c.ignore(path)
			continue
		case 1:
		default:
			c.add(path, "%s and %s are two actions: give each its own [[faults]] table", kinds[0].Name, kinds[1].Name)
			c.ignore(path)
			continue
		}
		f := faults.Fault{When: when, Action: kinds[0].New()}
		errs := len(c.errs)
		decodeTable(c, tbl, reflect.ValueOf(f.Action).Elem(), path, "when")
		actionOK := len(c.errs) == errs
		if whenOK {
			if err := f.When.ValidateFor(f.Action); err != nil {
				c.add(path+".when", "%v", strings.TrimPrefix(err.Error(), "when: "))
			}
		}
		if actionOK {
			if err := f.Action.Validate(); err != nil {
				c.add(path+"."+kinds[0].Name, "%v", err)
			}
		}
		if whenOK && actionOK {
			out = append(out, f)
		}
	}
	return out
}

// checkExplicitZeros reports a when key written as zero: zero is what
// leaving the key out means, so "nth = 0" would silently match every
// occurrence and "probability = 0" would fire every time.
func checkExplicitZeros(c *collector, w faults.When, written map[string]any, path string) {
	v := reflect.ValueOf(w)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		key := t.Field(i).Tag.Get("toml")
		p := path + "." + key
		if _, ok := written[key]; !ok || !v.Field(i).IsZero() {
			continue
		}
		switch key {
		case "nth", "connection", "first":
			c.add(p, "%s = 0 means no %s: counts start at 1 (leave the key out to match every one)", key, key)
		case "after_bytes":
			c.add(p, "after_bytes = 0 would be no trigger: give at least 1, or leave it out")
		case "after", "every":
			c.add(p, "%s = 0 would be no timer: give a positive duration such as \"3s\", or leave it out", key)
		case "probability":
			c.add(p, "probability = 0 would fire every time (0 means unset): give a value above 0 and at most 1, or leave it out")
		}
	}
}

// allowedKeys is derived from the struct tags, so that it cannot drift
// from what the decoder accepts.
var allowedKeys = map[string]string{
	"":                         tomlKeys(rawFile{}),
	"server":                   tomlKeys(Server{}),
	"server.limits":            tomlKeys(faults.Limits{}),
	"users":                    tomlKeys(User{}),
	"users.mailboxes":          tomlKeys(Mailbox{}),
	"users.mailboxes.messages": tomlKeys(Message{}),
	"client":                   tomlKeys(Client{}),
	"expect":                   tomlKeys(Expect{}),
	"faults.when":              tomlKeys(faults.When{}),
	"replay":                   tomlKeys(Replay{}),
	"replay.steps":             tomlKeys(Step{}),
}

// tomlKeys lists the TOML keys of a struct, embedded structs flattened.
func tomlKeys(v any) string {
	var keys []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			if tag := f.Tag.Get("toml"); tag != "" && tag != "-" {
				keys = append(keys, tag)
			}
		}
	}
	walk(reflect.TypeOf(v))
	return strings.Join(keys, ", ")
}
