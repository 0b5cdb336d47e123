package scenarios

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/imapfault/imapfault/internal/tomlpos"
)

// Error is one problem in a scenario file, at the key it concerns.
type Error = tomlpos.Error

// ErrorList is every problem found in one file, in line order. A scenario
// is validated whole so that lint can report everything at once.
type ErrorList = tomlpos.ErrorList

// collector gathers errors with their lines while a file is validated.
type collector struct {
	file  string
	lines *tomlpos.Lazy // nil: no lines (a scenario built in code)
	errs  ErrorList
	// skip holds paths already reported whole, whose keys need no
	// unknown-key error of their own.
	skip map[string]bool
	// broken holds the paths whose values failed to decode.
	broken map[string]bool
	// fieldIndex caches the toml keys of each struct type decoded.
	fieldIndex map[reflect.Type]map[string][]int
}

func (c *collector) ignore(path string) {
	if c.skip == nil {
		c.skip = map[string]bool{}
	}
	c.skip[path] = true
}

// fail reports a value that could not be decoded, and marks its path so
// that validation, which sees a zero value there, adds no error of its own.
func (c *collector) fail(path, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: c.file, Line: c.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
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
	for p := path; len(c.skip) > 0; {
		if c.skip[p] {
			return true
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
	return false
}

// add reports a problem at path, unless its value failed to decode: that
// is reported already, and validation saw a zero value in its place.
func (c *collector) add(path, format string, args ...any) {
	if c.isBroken(path) {
		return
	}
	c.errs = append(c.errs, &Error{File: c.file, Line: c.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// line is the line of path in the file (0: unknown).
func (c *collector) line(path string) int { return c.lines.Positions().Line(path) }

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
	parent := tomlpos.StripIndexes(path)
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
