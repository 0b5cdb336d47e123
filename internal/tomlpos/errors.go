package tomlpos

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Error is one problem in a file, at the key it concerns.
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

// ErrorList is every problem found in one file, in line order: a file is
// validated whole so that lint can report everything at once.
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

// Collector gathers errors with their lines while a file is validated.
type Collector struct {
	File string
	Pos  Positions
	Errs ErrorList
}

// Add records a problem at path (as Positions writes it).
func (c *Collector) Add(path, format string, args ...any) {
	c.Errs = append(c.Errs, &Error{File: c.File, Line: c.Pos.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Err returns the problems in line order, or nil.
func (c *Collector) Err() error {
	if len(c.Errs) == 0 {
		return nil
	}
	sort.SliceStable(c.Errs, func(i, j int) bool { return c.Errs[i].Line < c.Errs[j].Line })
	return c.Errs
}

// Indexed returns the indexed path ("targets[2].naem") of a key the toml
// library reports without indexes, taking the first in line order not
// already taken (so that repeated unknown keys get each its own line).
func (c *Collector) Indexed(key toml.Key, taken map[string]bool) string {
	want := key.String()
	best := ""
	for path := range c.Pos {
		if taken[path] || StripIndexes(path) != want {
			continue
		}
		if best == "" || c.Pos[path] < c.Pos[best] {
			best = path
		}
	}
	if best == "" {
		return want
	}
	taken[best] = true
	return best
}

// StripIndexes turns "targets[2].name" into "targets.name". It is written
// out rather than a regular expression: a scenario with 100,000 tables
// strips as many paths when it has an unknown key.
func StripIndexes(path string) string {
	if !strings.Contains(path, "[") {
		return path
	}
	b := make([]byte, 0, len(path))
	for i := 0; i < len(path); i++ {
		if path[i] == '[' {
			if j := strings.IndexByte(path[i:], ']'); j > 1 && allDigits(path[i+1:i+j]) {
				i += j
				continue
			}
		}
		b = append(b, path[i])
	}
	return string(b)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// tomlLineRE matches the toml library's decoding errors, which carry the
// line and key in their text rather than in a ParseError.
var tomlLineRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// DecodeError turns an error of toml.Decode into an Error at its line.
func DecodeError(file string, err error) *Error {
	var perr toml.ParseError
	if errors.As(err, &perr) {
		return &Error{File: file, Line: perr.Position.Line, Path: perr.LastKey, Msg: CleanMessage(perr.Message)}
	}
	if m := tomlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Path: m[2], Msg: m[3]}
	}
	return &Error{File: file, Msg: CleanMessage(err.Error())}
}

// CleanMessage strips the toml library's prefixes from an error text.
func CleanMessage(msg string) string {
	if m := tomlLineRE.FindStringSubmatch(msg); m != nil {
		return m[3]
	}
	return strings.TrimPrefix(msg, "toml: ")
}
