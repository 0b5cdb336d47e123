package faults

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test in the package must leave no goroutine behind, the timer
// goroutines a connection owns included.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
