package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/internal/tomlpos"
)

// faultSource names a fault given alone in errors, in place of a file.
const faultSource = "fault"

// ParseFault decodes one fault given as a JSON object in the shape of a
// scenario's [[faults]] table, such as
//
//	{"when": {"command": "LOGIN"}, "respond": "NO [UNAVAILABLE] try later"}
//
// It is validated by the same code as a scenario file's faults, so that a
// mistake gets the same message wherever it is made; the errors name the
// key (when.nth) rather than a line. Durations are strings as in a file
// ("1.5s").
func ParseFault(data []byte) (faults.Fault, error) {
	table, err := faultTable(data)
	if err != nil {
		return faults.Fault{}, ErrorList{{File: faultSource, Msg: err.Error()}}
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(map[string]any{"faults": []map[string]any{table}}); err != nil {
		return faults.Fault{}, ErrorList{{File: faultSource, Msg: err.Error()}}
	}
	var raw map[string]any
	md, err := toml.Decode(buf.String(), &raw)
	if err != nil {
		return faults.Fault{}, ErrorList{{File: faultSource, Msg: tomlpos.CleanMessage(err.Error())}}
	}
	c := &collector{file: faultSource, lines: tomlpos.NewLazy(buf.String(), md)}
	list := decodeFaults(c, raw["faults"], &Scenario{}) // a live fault may name any known message
	if len(c.errs) > 0 {
		// Lines of the generated text mean nothing to the sender, and the
		// path is relative to the one fault sent.
		for _, e := range c.errs {
			e.Line = 0
			e.Path = strings.TrimPrefix(strings.TrimPrefix(e.Path, "faults[0]"), ".")
		}
		return faults.Fault{}, c.errs
	}
	return list[0], nil
}

// faultTable decodes a JSON object into what the TOML encoder writes as a
// table: whole numbers become integers, and null, which TOML lacks, is
// refused.
func faultTable(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("not JSON: one object expected, found more after it")
	}
	table, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a fault is a JSON object such as {\"when\": {\"command\": \"LOGIN\"}, \"respond\": \"NO [UNAVAILABLE] try later\"}")
	}
	if err := tomlValues("", table); err != nil {
		return nil, err
	}
	return table, nil
}

func tomlValues(path string, v any) error {
	switch x := v.(type) {
	case nil:
		return fmt.Errorf("%s: null is not a value here: leave the key out", path)
	case map[string]any:
		for k, e := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if err := tomlValues(p, e); err != nil {
				return err
			}
			if n, ok := e.(json.Number); ok {
				x[k] = number(n)
			}
		}
	case []any:
		for i, e := range x {
			if err := tomlValues(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
			if n, ok := e.(json.Number); ok {
				x[i] = number(n)
			}
		}
	}
	return nil
}

func number(n json.Number) any {
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return f
}

// FaultTable is the inverse of ParseFault: the fault as the table a
// scenario file (or the JSON given to ParseFault) would hold, with the
// when keys left at their zero value left out. Durations are strings.
func FaultTable(f faults.Fault) (map[string]any, error) {
	var buf bytes.Buffer
	enc := toml.NewEncoder(&buf)
	// The action's keys first: after [when], they would belong to it.
	if f.Action != nil {
		if err := enc.Encode(f.Action); err != nil {
			return nil, err
		}
	}
	if err := enc.Encode(map[string]any{"when": f.When}); err != nil {
		return nil, err
	}
	table := map[string]any{}
	if _, err := toml.Decode(buf.String(), &table); err != nil {
		return nil, err
	}
	when, _ := table["when"].(map[string]any)
	for k, v := range when {
		switch v {
		case "", int64(0), 0.0, "0s", false:
			delete(when, k)
		}
	}
	if len(when) == 0 {
		delete(table, "when")
	}
	return table, nil
}

// ValidFlag reports whether f is a flag a scenario may give a message,
// such as \Seen or $Label1.
func ValidFlag(f string) bool { return flagRE.MatchString(f) }
