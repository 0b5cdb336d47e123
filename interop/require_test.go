//go:build interop

package interop

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMissingPeer runs a test whose peer is missing in a child process:
// it skips when IMAPFAULT_INTEROP_REQUIRE is unset, and fails when it is 1,
// as in CI, where a skipped peer used to leave the run green.
func TestMissingPeer(t *testing.T) {
	if os.Getenv("IMAPFAULT_INTEROP_CHILD") == "1" {
		missing(t, "frobmail is not installed")
		return
	}
	for _, tt := range []struct {
		require  string
		fails    bool
		contains string
	}{
		{"", false, "--- SKIP: TestMissingPeer"},
		{"1", true, "IMAPFAULT_INTEROP_REQUIRE=1: every peer must be present"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMissingPeer$", "-test.v")
		// The child must not write the results table over the real one.
		cmd.Env = append(os.Environ(), "IMAPFAULT_INTEROP_CHILD=1", requireEnv+"="+tt.require, tableEnv+"=")
		out, err := cmd.CombinedOutput()
		cancel()
		if (err != nil) != tt.fails || !strings.Contains(string(out), tt.contains) {
			t.Errorf("%s=%q: err %v, output:\n%s\nwant failure %v and %q", requireEnv, tt.require, err, out, tt.fails, tt.contains)
		}
	}
}
