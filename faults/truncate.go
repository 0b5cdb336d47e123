package faults

import "fmt"

// Truncate cuts a literal short: the server announces {N} but sends only
// the given number of bytes, then closes the connection, as when a server
// process dies in the middle of a FETCH.
//
//	truncate = 100
type Truncate struct {
	Truncate int64 `toml:"truncate"`
}

// Kind implements Action.
func (*Truncate) Kind() string { return "truncate" }

// Validate implements Action.
func (t *Truncate) Validate() error {
	if t.Truncate < 0 {
		return fmt.Errorf("truncate: must be 0 or more bytes, got %d", t.Truncate)
	}
	return nil
}

// LiteralLimit implements LiteralFilter.
func (t *Truncate) LiteralLimit(size int64) int64 {
	return min(t.Truncate, size)
}
