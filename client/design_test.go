package client

import (
	"os"
	"strings"
	"testing"
)

// TestCodesInDesign keeps the taxonomy in docs/design.md, which codes.go
// cites, in step with the codes the tester reports.
func TestCodesInDesign(t *testing.T) {
	doc, err := os.ReadFile("../docs/design.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Codes() {
		if !strings.Contains(string(doc), "`"+c+"`") {
			t.Errorf("docs/design.md does not list the code %s", c)
		}
	}
}
