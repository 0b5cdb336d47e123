// Package tomlpos gives TOML configuration files errors at file:line: the
// toml library reports lines only for syntax errors, and a validation
// error is useless without one. It knows no file format; the scenario and
// monitor config parsers both build on it.
package tomlpos

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Positions maps every key of a decoded file, written with array indexes
// ("users[1].mailboxes[0].name"), to the line it is on.
type Positions map[string]int

// Locate finds the line of every key md decoded from src.
func Locate(src string, md toml.MetaData) Positions {
	text := blank(src)
	pos := Positions{}
	counters := map[string]int{}         // array instance -> current element
	seen := map[string]map[string]bool{} // element -> child keys, for inline arrays
	cursor := 0
	for _, key := range md.Keys() {
		path := ""
		for i, seg := range key {
			if path != "" {
				path += "."
			}
			path += seg
			plain := key[:i+1]
			if md.Type(plain...) != "ArrayHash" {
				continue
			}
			if i == len(key)-1 {
				if _, ok := counters[path]; !ok {
					counters[path] = -1
				}
				counters[path]++
				continue
			}
			elem := path + "[" + strconv.Itoa(counters[path]) + "]"
			child := key[i+1]
			if t := md.Type(key...); i+1 == len(key)-1 && t != "Hash" && t != "ArrayHash" {
				if seen[elem] == nil {
					seen[elem] = map[string]bool{}
				}
				if seen[elem][child] {
					// A repeated key inside an inline array starts its next element.
					counters[path]++
					elem = path + "[" + strconv.Itoa(counters[path]) + "]"
					seen[elem] = map[string]bool{}
				}
				seen[elem][child] = true
			}
			path = elem
		}
		if at := findKey(text, key[len(key)-1], cursor); at >= 0 {
			cursor = at
		}
		pos[path] = 1 + strings.Count(text[:cursor], "\n")
	}
	return pos
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

// findKey returns the offset of the next definition of key at or after
// from: a bare or quoted key followed by "=", "." or "]".
func findKey(text, key string, from int) int {
	re := regexp.MustCompile(`(^|[\s{,.\[])"?` + regexp.QuoteMeta(key) + `"?\s*[=.\]]`)
	loc := re.FindStringIndex(text[from:])
	if loc == nil {
		return -1
	}
	return from + loc[0] + 1
}

// blank replaces comments and the contents of strings with spaces, keeping
// every newline, so that a key search cannot match inside them.
func blank(src string) string {
	b := []byte(src)
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '#':
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		case strings.HasPrefix(string(b[i:]), `"""`) || strings.HasPrefix(string(b[i:]), `'''`):
			delim := string(b[i : i+3])
			end := strings.Index(string(b[i+3:]), delim)
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

func blankRange(b []byte, from, to int) {
	for k := from; k < to && k < len(b); k++ {
		if b[k] != '\n' {
			b[k] = ' '
		}
	}
}
