package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test in the package must leave no goroutine behind: the load
// workers and idle connections a run starts.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
