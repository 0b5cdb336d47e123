package recorder_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestImports keeps the recorder off the layers it must not know: it
// sees sessions through relay's Observer and writes the scenario format,
// never the fake server, its faults or the tester.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{"server", "faults", "client", "store", "verify"}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			for _, pkg := range forbidden {
				if strings.Trim(imp.Path.Value, `"`) == "github.com/imapfault/imapfault/"+pkg {
					t.Errorf("%s imports %s", f, imp.Path.Value)
				}
			}
		}
	}
}
