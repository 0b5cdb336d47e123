package faults

import (
	"os"
	"strings"
	"testing"
)

// TestCatalogueDocumented keeps docs/faults.md in step with Kinds.
func TestCatalogueDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/faults.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Kinds {
		if !strings.Contains(string(doc), "| `"+k.Name+"` |") {
			t.Errorf("docs/faults.md has no row for the %q action", k.Name)
		}
	}
}
