package scenarios

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// decodeTable decodes the keys of a TOML table into the struct dst, key
// by key, so that a value of the wrong type is reported at its own key and
// hides none of the others. A key dst has no field for is unknown, unless
// it is one of also (decoded elsewhere).
func decodeTable(c *collector, md toml.MetaData, tbl map[string]toml.Primitive, dst reflect.Value, path string, also ...string) {
	for _, key := range c.inOrder(tbl, path) {
		prim := tbl[key]
		f := fieldByTag(dst, key)
		switch {
		case f.IsValid():
			decodeValue(c, md, prim, f, joinPath(path, key))
		case !slices.Contains(also, key):
			c.unknown(joinPath(path, key), key)
		}
	}
}

// decodeValue decodes prim into v: a table key by key and an array of
// tables element by element, so that each wrong value is reported at its
// own path and hides none of the others. It reports whether all went well.
func decodeValue(c *collector, md toml.MetaData, prim toml.Primitive, v reflect.Value, path string) bool {
	errs := len(c.errs)
	t := v.Type()
	switch {
	case t == durationType:
		decodeDuration(c, md, prim, v, path)
	case t.Kind() == reflect.Pointer && isTable(t.Elem()):
		e := reflect.New(t.Elem())
		if decodeValue(c, md, prim, e.Elem(), path) {
			v.Set(e)
		}
	case isTable(t):
		var sub map[string]toml.Primitive
		if err := md.PrimitiveDecode(prim, &sub); err != nil {
			c.fail(path, "%s", typeMessage(md, prim, t))
			break
		}
		decodeTable(c, md, sub, v, path)
	case t.Kind() == reflect.Slice && elemIsTable(t.Elem()):
		var subs []toml.Primitive
		if err := md.PrimitiveDecode(prim, &subs); err != nil {
			c.fail(path, "%s", typeMessage(md, prim, t))
			break
		}
		s := reflect.MakeSlice(t, len(subs), len(subs))
		for i, p := range subs {
			decodeValue(c, md, p, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		var sub map[string]toml.Primitive
		if err := md.PrimitiveDecode(prim, &sub); err != nil {
			c.fail(path, "%s", typeMessage(md, prim, t))
			break
		}
		m := reflect.MakeMap(t)
		for _, k := range c.inOrder(sub, path) {
			p := sub[k]
			e := reflect.New(t.Elem()).Elem()
			if decodeValue(c, md, p, e, joinPath(path, k)) {
				m.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
			}
		}
		v.Set(m)
	default:
		if err := md.PrimitiveDecode(prim, v.Addr().Interface()); err != nil {
			v.Set(reflect.Zero(t))
			c.fail(path, "%s", typeMessage(md, prim, t))
		}
	}
	return len(c.errs) == errs
}

// decodeDuration takes only a string such as "3s": the toml library reads
// a bare integer as nanoseconds, which no one writing "delay = 5" means.
func decodeDuration(c *collector, md toml.MetaData, prim toml.Primitive, v reflect.Value, path string) {
	var got any
	md.PrimitiveDecode(prim, &got)
	str, ok := got.(string)
	if !ok {
		msg := fmt.Sprintf("want %s, got %s", typeName(durationType), valueName(got))
		if n, isInt := got.(int64); isInt {
			msg += fmt.Sprintf(" (write \"%ds\" for seconds: a bare number would be nanoseconds)", n)
		}
		c.fail(path, "%s", msg)
		return
	}
	d, err := time.ParseDuration(str)
	if err != nil {
		c.fail(path, "%s", durationMessage(str))
		return
	}
	v.SetInt(int64(d))
}

// inOrder returns a table's keys in file order, so that errors on one
// line come out in the same order every time.
func (c *collector) inOrder(tbl map[string]toml.Primitive, path string) []string {
	keys := slices.Sorted(maps.Keys(tbl))
	slices.SortStableFunc(keys, func(a, b string) int {
		return c.pos.Line(joinPath(path, a)) - c.pos.Line(joinPath(path, b))
	})
	return keys
}

var (
	timeType      = reflect.TypeOf(time.Time{})
	primitiveType = reflect.TypeOf(toml.Primitive{})
)

// isTable reports whether t is decoded from a TOML table key by key: a
// struct, but not a date-time or a toml.Primitive (decoded later).
func isTable(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t != timeType && t != primitiveType
}

func elemIsTable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return isTable(t)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fieldByTag finds the field of struct v whose toml tag is key, looking
// into embedded structs after v's own fields.
func fieldByTag(v reflect.Value, key string) reflect.Value {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("toml") == key {
			return v.Field(i)
		}
	}
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Anonymous {
			if f := fieldByTag(v.Field(i), key); f.IsValid() {
				return f
			}
		}
	}
	return reflect.Value{}
}

// typeMessage says what a key wants and what it got instead, in the
// file's terms rather than Go's.
func typeMessage(md toml.MetaData, prim toml.Primitive, want reflect.Type) string {
	var got any
	md.PrimitiveDecode(prim, &got)
	if s, ok := got.(string); ok && want == durationType {
		return durationMessage(s)
	}
	if n, ok := got.(int64); ok && isInt(want) {
		lo, hi := intRange(want)
		return fmt.Sprintf("%d is out of range: want an integer from %d to %d", n, lo, hi)
	}
	return fmt.Sprintf("want %s, got %s", typeName(want), valueName(got))
}

var durationType = reflect.TypeOf(time.Duration(0))

func isInt(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

func intRange(t reflect.Type) (lo int64, hi uint64) {
	bits := t.Bits()
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return 0, 1<<bits - 1
	}
	return -1 << (bits - 1), 1<<(bits-1) - 1
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return `a duration such as "3s" or "500ms"`
	case t == timeType:
		return "a date-time such as 2026-11-02T12:05:00Z"
	case isInt(t):
		return "an integer"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(typeName(t.Elem()), "a "), "an ") + "s"
	case reflect.Pointer:
		return typeName(t.Elem())
	case reflect.Struct, reflect.Map:
		return "a table"
	}
	return t.String()
}

func valueName(v any) string {
	switch x := v.(type) {
	case string:
		return "the string " + strconv.Quote(x)
	case int64:
		return fmt.Sprintf("the integer %d", x)
	case float64:
		return fmt.Sprintf("the number %v", x)
	case bool:
		return fmt.Sprintf("%v", x)
	case []any:
		return "an array"
	case []map[string]any:
		return "an array of tables"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date-time"
	}
	return fmt.Sprintf("%v", v)
}

// durationWordRE matches a duration written in words, as in "3 seconds".
var durationWordRE = regexp.MustCompile(`^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$`)

var durationUnits = map[string]string{
	"ms": "ms", "msec": "ms", "msecs": "ms", "millisecond": "ms", "milliseconds": "ms",
	"s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
	"m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
	"h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
}

// durationMessage explains a string that is not a Go duration, with the
// spelling to use when the intent is clear.
func durationMessage(s string) string {
	const units = "a number and a unit, no space: 500ms, 3s, 1m30s, 2h"
	if m := durationWordRE.FindStringSubmatch(s); m != nil {
		if u, ok := durationUnits[strings.ToLower(m[2])]; ok {
			return fmt.Sprintf("%q is not a duration: write %q (%s)", s, m[1]+u, units)
		}
	}
	return fmt.Sprintf("%q is not a duration (%s)", s, units)
}
