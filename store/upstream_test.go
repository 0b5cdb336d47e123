package store

import (
	"os"
	"strings"
	"testing"
)

// TestUpstreamVersion: UPSTREAM.md names the go-imap version go.mod
// requires, so that a go.mod bump is a reminder to compare the fork with
// the new imapmemserver.
func TestUpstreamVersion(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("UPSTREAM.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/emersion/go-imap/v2" {
			if !strings.Contains(string(doc), "go-imap "+f[1]) {
				t.Errorf("store/UPSTREAM.md does not name go-imap %s, the version go.mod requires: compare the fork with it and update the list of changes", f[1])
			}
			return
		}
	}
	t.Error("go.mod does not require github.com/emersion/go-imap/v2")
}
