// Package peer decides what a test does when a real peer it drives (a
// mail client, dovecot, prometheus, chromium, podman) is not installed:
// skip on a developer's machine, fail in CI, where a run that tested
// nothing must not pass.
package peer

import (
	"os"
	"testing"
)

// RequireEnv, set to 1 (as .ci/run sets it), makes a missing peer fail
// its tests instead of skipping them.
const RequireEnv = "IMAPFAULT_INTEROP_REQUIRE"

// Missing ends a test whose peer is not installed: a skip, or a failure
// when RequireEnv is 1. msg says what is missing and how to install it.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s (%s=1: every peer must be present)", msg, RequireEnv)
	}
	t.Skipf("%s (set %s=1 to fail instead)", msg, RequireEnv)
}
