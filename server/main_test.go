package server

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test in the package must leave no goroutine behind once its
// servers are closed.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
