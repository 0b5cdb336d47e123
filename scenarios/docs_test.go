package scenarios

import (
	"os"
	"strings"
	"testing"
)

// TestDocsExample keeps the annotated example in docs/scenarios.md valid.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## A complete example\n\n```toml\n")
	if !ok {
		t.Fatal("no TOML example in docs/scenarios.md")
	}
	example, _, _ := strings.Cut(rest, "```")
	// No folder of its own: a reader copies the example anywhere.
	sc, err := Parse("docs/scenarios.md", []byte(example), nil)
	if err != nil {
		t.Fatalf("the documented example does not parse:\n%v", err)
	}
	if len(sc.Faults) != 2 || sc.Expect.Diagnosis != "auth.failed" {
		t.Errorf("example decoded to %d faults, diagnosis %q", len(sc.Faults), sc.Expect.Diagnosis)
	}
}
