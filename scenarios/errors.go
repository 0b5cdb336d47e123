package scenarios

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a scenario file, at the key it concerns.
type Error struct {
	File string
	Line int // 0 when unknown
	Path string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// ErrorList is every problem found in one file, in line order. A scenario
// is validated whole so that lint can report everything at once.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find the individual errors.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// collector gathers errors with their lines while a file is validated.
type collector struct {
	file string
	pos  positions
	errs ErrorList
	// skip holds paths already reported whole, whose keys need no
	// unknown-key error of their own.
	skip []string
	// broken holds the paths whose values failed to decode.
	broken map[string]bool
}

func (c *collector) ignore(path string) { c.skip = append(c.skip, path) }

// fail reports a value that could not be decoded, and marks its path so
// that validation, which sees a zero value there, adds no error of its own.
func (c *collector) fail(path, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: c.file, Line: c.pos.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
	if c.broken == nil {
		c.broken = map[string]bool{}
	}
	c.broken[path] = true
}

// isBroken reports whether path or a table above it failed to decode.
func (c *collector) isBroken(path string) bool {
	for p := path; p != ""; {
		if c.broken[p] {
			return true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return false
}

func (c *collector) ignored(path string) bool {
	for _, s := range c.skip {
		if path == s || strings.HasPrefix(path, s+".") {
			return true
		}
	}
	return false
}

// add reports a problem at path, unless its value failed to decode: that
// is reported already, and validation saw a zero value in its place.
func (c *collector) add(path, format string, args ...any) {
	if c.isBroken(path) {
		return
	}
	c.errs = append(c.errs, &Error{File: c.file, Line: c.pos.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// unknown reports a key no table has, once, with the keys allowed there.
func (c *collector) unknown(path, key string) {
	if c.ignored(path) {
		return
	}
	for _, e := range c.errs {
		if e.Path == path {
			return
		}
	}
	parent := stripIndexes(path)
	if i := strings.LastIndex(parent, "."); i >= 0 {
		parent = parent[:i]
	} else {
		parent = ""
	}
	hint := ""
	if allowed, ok := allowedKeys[parent]; ok {
		hint = " (allowed: " + allowed + ")"
	}
	c.add(path, "unknown key %q%s", key, hint)
}

func (c *collector) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].Line < c.errs[j].Line })
	return c.errs
}
