// Package tomlpos gives TOML configuration files errors at file:line: the
// toml library reports lines only for syntax errors, and a validation
// error is useless without one. It knows no file format; the scenario and
// monitor config parsers both build on it.
package tomlpos

import (
	"bytes"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// Positions maps every key of a decoded file, written with array indexes
// ("users[1].mailboxes[0].name"), to the line it is on.
type Positions map[string]int

// Locate finds the line of every key md decoded from src, in one pass:
// loading stays linear in the file's size (issue 19). A path is built in
// one reused buffer and becomes a string once, as the map key: the
// intermediate strings and per-element maps it used to make cost as much
// as the toml library's own parse.
func Locate(src string, md toml.MetaData) Positions {
	text := blank(src)
	keys := md.Keys()
	pos := make(Positions, len(keys))
	arrays := map[string]*arrayState{} // indexed path of an array of tables -> its state
	// The cursor only moves forward, so the lines before it are counted
	// once, as it passes them: loading stays linear in the file's size.
	cursor, counted, line := 0, 0, 1
	types := &keyTypes{md: &md}
	var path []byte
	for _, key := range keys {
		path = path[:0]
		node := types
		for i, seg := range key {
			if len(path) > 0 {
				path = append(path, '.')
			}
			path = append(path, seg...)
			node = node.child(key[:i+1])
			if node.typ != "ArrayHash" {
				continue
			}
			a := arrays[string(path)]
			if a == nil {
				a = &arrayState{elem: -1}
				arrays[string(path)] = a
			}
			if i == len(key)-1 {
				// The array's own key: a [[header]] starts its next element.
				a.elem++
				clear(a.seen)
				continue
			}
			if child := key[i+1]; i+1 == len(key)-1 && !isTable(node.child(key).typ) {
				if a.seen[child] {
					// A repeated key inside an inline array starts its next element.
					a.elem++
					clear(a.seen)
				}
				if a.seen == nil {
					a.seen = map[string]bool{}
				}
				a.seen[child] = true
			}
			path = append(path, '[')
			path = strconv.AppendInt(path, int64(max(a.elem, 0)), 10)
			path = append(path, ']')
		}
		if at := findKey(text, key[len(key)-1], cursor); at >= 0 {
			cursor = at
		}
		line += strings.Count(text[counted:cursor], "\n")
		counted = cursor
		pos[string(path)] = line
	}
	return pos
}

// arrayState is where Locate is in one array of tables: its current
// element (-1 before the first) and, for an inline array, the keys that
// element has so far.
type arrayState struct {
	elem int
	seen map[string]bool
}

func isTable(typ string) bool { return typ == "Hash" || typ == "ArrayHash" }

// keyTypes is a tree of the file's keys and their TOML types. md.Type
// formats the whole key to look it up, which cost more than the rest of
// locate; a key's type does not change from one array element to the next.
type keyTypes struct {
	md   *toml.MetaData
	typ  string
	kids map[string]*keyTypes
}

// child returns the node of key, whose parent is t.
func (t *keyTypes) child(key toml.Key) *keyTypes {
	seg := key[len(key)-1]
	if c, ok := t.kids[seg]; ok {
		return c
	}
	if t.kids == nil {
		t.kids = map[string]*keyTypes{}
	}
	c := &keyTypes{md: t.md, typ: t.md.Type(key...)}
	t.kids[seg] = c
	return c
}

// Line returns the line of path, or of its nearest ancestor that has one.
func (p Positions) Line(path string) int {
	for path != "" {
		if l, ok := p[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// findKey returns the offset just past the start of the next definition
// of key at or after from: a bare or quoted key, preceded by the start of
// the search, white space or one of "{,.[", and followed by white space
// and "=", "." or "]". (It is the regular expression
// (^|[\s{,.\[])"?KEY"?\s*[=.\]], written out: a compiled expression per
// key cost more than the whole search.)
func findKey(text, key string, from int) int {
	if key == "" {
		return -1
	}
	for k := from; ; k++ {
		i := strings.Index(text[k:], key)
		if i < 0 {
			return -1
		}
		k += i
		if !keyEnds(text, k+len(key)) {
			continue
		}
		start := k // where the key's optional quote begins
		if start > from && text[start-1] == '"' {
			start--
		}
		switch {
		case start == from:
			return start + 1
		case keySeparator(text[start-1]):
			return start
		}
	}
}

// keyEnds reports whether what follows a key at end makes it a definition:
// an optional closing quote, white space, then "=", "." or "]".
func keyEnds(text string, end int) bool {
	if end < len(text) && text[end] == '"' {
		end++
	}
	for ; end < len(text); end++ {
		switch text[end] {
		case ' ', '\t', '\n', '\r', '\f':
			continue
		case '=', '.', ']':
			return true
		}
		return false
	}
	return false
}

func keySeparator(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '{', ',', '.', '[':
		return true
	}
	return false
}

// blank replaces comments and the contents of strings with spaces, keeping
// every newline, so that a key search cannot match inside them. It walks
// the text once: loading a file must stay linear in its size.
func blank(src string) string {
	b := []byte(src)
	for i := 0; i < len(b); i++ {
		// Jump to the next byte that can start a comment or a string.
		j := bytes.IndexAny(b[i:], "#\"'")
		if j < 0 {
			break
		}
		i += j
		switch {
		case b[i] == '#':
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		case (b[i] == '"' || b[i] == '\'') && (bytes.HasPrefix(b[i:], tripleBasic) || bytes.HasPrefix(b[i:], tripleLiteral)):
			delim := b[i : i+3]
			end := bytes.Index(b[i+3:], delim)
			if end < 0 {
				end = len(b) - i - 3
			}
			blankRange(b, i+3, i+3+end)
			i += 3 + end + 2
		case b[i] == '"' || b[i] == '\'':
			q := b[i]
			j := i + 1
			for ; j < len(b) && b[j] != q && b[j] != '\n'; j++ {
				if q == '"' && b[j] == '\\' {
					j++
				}
			}
			blankRange(b, i+1, min(j, len(b)))
			i = j
		}
	}
	return string(b)
}

var (
	tripleBasic   = []byte(`"""`)
	tripleLiteral = []byte("'''")
)

func blankRange(b []byte, from, to int) {
	for k := from; k < to && k < len(b); k++ {
		if b[k] != '\n' {
			b[k] = ' '
		}
	}
}

// Lazy finds the lines of a file's keys the first time one is asked for:
// a file without errors is never searched (Locate costs a quarter of
// loading a big file). It is safe for concurrent use.
type Lazy struct {
	once sync.Once
	src  string
	md   *toml.MetaData // nil once released: the source is decoded again
	pos  Positions
}

// NewLazy returns the lines of the keys md decoded from src, to be found
// when first asked for.
func NewLazy(src string, md toml.MetaData) *Lazy {
	return &Lazy{src: src, md: &md}
}

// Release drops the decoded file a Lazy holds for its first use, so that
// keeping the Lazy keeps only the source text; a later use decodes the
// source again. Call it before the Lazy is shared.
func (l *Lazy) Release() {
	if l != nil {
		l.md = nil
	}
}

// Positions returns the line of every key (nil for a nil Lazy).
func (l *Lazy) Positions() Positions {
	if l == nil {
		return nil
	}
	l.once.Do(func() {
		md := l.md
		if md == nil {
			var v any
			decoded, err := toml.Decode(l.src, &v)
			if err != nil { // the source decoded once: it cannot fail now
				l.pos = Positions{}
				return
			}
			md = &decoded
		}
		l.pos = Locate(l.src, *md)
		l.src, l.md = "", nil
	})
	return l.pos
}
