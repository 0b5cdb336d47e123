package faults

import (
	"fmt"
	"strings"
)

// Capabilities edits every capability list the server sends, in the
// greeting, in CAPABILITY responses and in tagged OK codes.
//
//	capabilities = { remove = ["IDLE"], add = ["LOGINDISABLED"] }
type Capabilities struct {
	Capabilities struct {
		Add    []string `toml:"add"`
		Remove []string `toml:"remove"`
	} `toml:"capabilities"`
}

// Kind implements Action.
func (*Capabilities) Kind() string { return "capabilities" }

// Validate implements Action.
func (c *Capabilities) Validate() error {
	if len(c.Capabilities.Add)+len(c.Capabilities.Remove) == 0 {
		return fmt.Errorf("capabilities: give add or remove (or both)")
	}
	for _, cp := range append(append([]string(nil), c.Capabilities.Add...), c.Capabilities.Remove...) {
		if cp == "" || strings.ContainsAny(cp, " \r\n[]") {
			return fmt.Errorf("capabilities: %q is not a capability name", cp)
		}
	}
	return nil
}

// apply returns caps edited; Remove matches names case-insensitively and
// "AUTH=*" removes every mechanism.
func (c *Capabilities) apply(caps []string) []string {
	out := caps[:0:0]
	for _, cp := range caps {
		if !c.removes(cp) {
			out = append(out, cp)
		}
	}
	for _, cp := range c.Capabilities.Add {
		if !hasCap(out, cp) {
			out = append(out, cp)
		}
	}
	return out
}

func (c *Capabilities) removes(cp string) bool {
	for _, r := range c.Capabilities.Remove {
		if strings.EqualFold(r, cp) || (strings.EqualFold(r, "AUTH=*") && strings.HasPrefix(strings.ToUpper(cp), "AUTH=")) {
			return true
		}
	}
	return false
}
