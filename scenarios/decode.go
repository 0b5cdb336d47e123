package scenarios

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The file is decoded once, by the toml library, into its generic form
// (tables as map[string]any, arrays as []any or []map[string]any); the
// values are then set key by key from that tree here. Decoding each key
// with the library's Primitive values cost as much as parsing the file
// (issue 19: a 5 MB scenario), and every key is walked here anyway, so
// that an unknown key is found where it is rather than through the
// library's list of undecoded keys.

// decodeTable decodes the keys of a TOML table into the struct dst, key
// by key, so that a value of the wrong type is reported at its own key and
// hides none of the others. The keys in also are decoded elsewhere; any
// other key dst has no field for is unknown.
func decodeTable(c *collector, tbl map[string]any, dst reflect.Value, path string, also ...string) {
	fields := c.fields(dst.Type())
	for _, k := range c.inOrder(tbl, path) {
		if slices.Contains(also, k.key) {
			continue
		}
		if idx, ok := fields[k.key]; ok {
			decodeValue(c, tbl[k.key], dst.FieldByIndex(idx), k.path)
		} else {
			c.unknown(k.path, k.key)
		}
	}
}

// decodeValue decodes raw into v: a table key by key and an array of
// tables element by element, so that each wrong value is reported at its
// own path and hides none of the others. It reports whether all went well.
func decodeValue(c *collector, raw any, v reflect.Value, path string) bool {
	errs := len(c.errs)
	t := v.Type()
	switch {
	case t == durationType:
		decodeDuration(c, raw, v, path)
	case t.Kind() == reflect.Pointer:
		e := reflect.New(t.Elem())
		if decodeValue(c, raw, e.Elem(), path) {
			v.Set(e)
		}
	case isTable(t):
		sub, ok := raw.(map[string]any)
		if !ok {
			c.fail(path, "%s", typeMessage(raw, t))
			break
		}
		decodeTable(c, sub, v, path)
	case t.Kind() == reflect.Slice && elemIsTable(t.Elem()):
		subs, ok := tables(raw)
		if !ok {
			c.fail(path, "%s", typeMessage(raw, t))
			break
		}
		s := reflect.MakeSlice(t, len(subs), len(subs))
		for i, sub := range subs {
			decodeValue(c, sub, s.Index(i), path+"["+strconv.Itoa(i)+"]")
		}
		v.Set(s)
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		sub, ok := raw.(map[string]any)
		if !ok {
			c.fail(path, "%s", typeMessage(raw, t))
			break
		}
		m := reflect.MakeMap(t)
		for _, k := range c.inOrder(sub, path) {
			e := reflect.New(t.Elem()).Elem()
			if decodeValue(c, sub[k.key], e, k.path) {
				m.SetMapIndex(reflect.ValueOf(k.key).Convert(t.Key()), e)
			}
		}
		v.Set(m)
	default:
		if !decodeLeaf(raw, v) {
			v.Set(reflect.Zero(t))
			c.fail(path, "%s", typeMessage(raw, t))
		}
	}
	return len(c.errs) == errs
}

// tables returns the elements of an array of tables, written either as
// [[header]] tables or as an inline array of inline tables.
func tables(raw any) ([]map[string]any, bool) {
	switch x := raw.(type) {
	case []map[string]any:
		return x, true
	case []any:
		out := make([]map[string]any, len(x))
		for i, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			out[i] = m
		}
		return out, true
	}
	return nil, false
}

// decodeLeaf sets a value that is not a table from raw, with the toml
// library's rules for the kinds a scenario uses (an integer fits its Go
// type; a number may be written as an integer; a date-time may be a
// string), except that a negative integer never fits an unsigned one. It
// reports whether raw fit.
func decodeLeaf(raw any, v reflect.Value) bool {
	if v.Type() == timeType {
		var text string
		switch x := raw.(type) {
		case time.Time:
			text = x.Format(time.RFC3339Nano)
		case string:
			text = x
		default:
			return false
		}
		return v.Addr().Interface().(*time.Time).UnmarshalText([]byte(text)) == nil
	}
	switch v.Kind() {
	case reflect.String:
		s, ok := raw.(string)
		v.SetString(s)
		return ok
	case reflect.Bool:
		b, ok := raw.(bool)
		v.SetBool(b)
		return ok
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := raw.(int64)
		if !ok || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
		return true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := raw.(int64)
		if !ok || n < 0 || v.OverflowUint(uint64(n)) {
			return false
		}
		v.SetUint(uint64(n))
		return true
	case reflect.Float32, reflect.Float64:
		switch x := raw.(type) {
		case float64:
			v.SetFloat(x)
			return !v.OverflowFloat(x)
		case int64:
			v.SetFloat(float64(x))
			return true
		}
		return false
	case reflect.Slice:
		arr, ok := raw.([]any)
		if !ok {
			return false
		}
		s := reflect.MakeSlice(v.Type(), len(arr), len(arr))
		for i, e := range arr {
			if !decodeLeaf(e, s.Index(i)) {
				return false
			}
		}
		v.Set(s)
		return true
	}
	return false
}

// decodeDuration takes only a string such as "3s": the toml library reads
// a bare integer as nanoseconds, which no one writing "delay = 5" means.
func decodeDuration(c *collector, raw any, v reflect.Value, path string) {
	str, ok := raw.(string)
	if !ok {
		msg := fmt.Sprintf("want %s, got %s", typeName(durationType), valueName(raw))
		if n, isInt := raw.(int64); isInt {
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

// fields returns the field index of each toml key of struct type t, a
// struct's own fields before those of the structs it embeds; it is made
// once per type and parse, not once per key.
func (c *collector) fields(t reflect.Type) map[string][]int {
	if f, ok := c.fieldIndex[t]; ok {
		return f
	}
	f := map[string][]int{}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := 0; i < t.NumField(); i++ {
			if tag := t.Field(i).Tag.Get("toml"); tag != "" && tag != "-" {
				if _, taken := f[tag]; !taken {
					f[tag] = append(slices.Clip(index), i)
				}
			}
		}
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).Anonymous {
				walk(t.Field(i).Type, append(slices.Clip(index), i))
			}
		}
	}
	walk(t, nil)
	if c.fieldIndex == nil {
		c.fieldIndex = map[reflect.Type]map[string][]int{}
	}
	c.fieldIndex[t] = f
	return f
}

// inOrder returns a table's keys with their paths, sorted, so that the
// errors come out in the same order every time: the collector then sorts
// them by line, stably. (Sorting by line here looked up every key's line,
// a third of the decoding of a file with 100,000 tables.)
func (c *collector) inOrder(tbl map[string]any, path string) []keyPath {
	kps := make([]keyPath, 0, len(tbl))
	for k := range tbl {
		kps = append(kps, keyPath{key: k, path: joinPath(path, k)})
	}
	slices.SortFunc(kps, func(a, b keyPath) int { return strings.Compare(a.key, b.key) })
	return kps
}

// keyPath is a key of a table and its path in the file.
type keyPath struct{ key, path string }

var timeType = reflect.TypeOf(time.Time{})

// isTable reports whether t is decoded from a TOML table key by key: a
// struct, but not a date-time.
func isTable(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t != timeType
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

// typeMessage says what a key wants and what it got instead, in the
// file's terms rather than Go's.
func typeMessage(got any, want reflect.Type) string {
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
