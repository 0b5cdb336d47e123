package store

import (
	"testing"

	"go.uber.org/goleak"
)

// The store starts no goroutine of its own; IDLE's waits belong to the
// caller. Nothing may be left running after a test.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
