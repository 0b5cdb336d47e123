package verify

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test in the package must leave no goroutine behind: the servers,
// testers and worker pool a run starts.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
