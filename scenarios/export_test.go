package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// seedSubjects loads every mailbox's messages of a scenario, as the server
// would, and returns them by mailbox, for comparing copies. Generated
// messages are left out: they depend on no file, and are slow to make.
func seedSubjects(t *testing.T, sc *Scenario) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for i := range sc.Users {
		for j := range sc.Users[i].Mailboxes {
			m := sc.Users[i].Mailboxes[j]
			m.Generate = nil
			seeds, err := sc.Seeds(&m, now)
			if err != nil {
				t.Fatalf("%s: seeds: %v", sc.Source, err)
			}
			key := sc.Users[i].Name + "/" + m.Name
			for _, s := range seeds {
				out[key] = append(out[key], string(s.Raw))
			}
		}
	}
	return out
}

// TestCopiesWorkAnywhere is the README's copy-and-edit workflow for every
// built-in scenario: what "scenarios show" prints and what "scenarios
// export" writes, in a folder of their own, load and validate and carry
// the same messages as the built-in. Both failed for every scenario with
// message files before the library: prefix and export.
func TestCopiesWorkAnywhere(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			builtin, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			want := seedSubjects(t, builtin)

			shown, err := Standalone(name)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "mine.toml")
			if err := os.WriteFile(file, shown, 0o644); err != nil {
				t.Fatal(err)
			}
			sc, err := LoadFile(file)
			if err != nil {
				t.Fatalf("the shown copy does not load:\n%v", err)
			}
			if diff := cmp.Diff(want, seedSubjects(t, sc)); diff != "" {
				t.Errorf("the shown copy's messages (-builtin +copy):\n%s", diff)
			}

			dir := t.TempDir()
			written, err := Export(name, dir)
			if err != nil {
				t.Fatal(err)
			}
			if written[0] != filepath.Join(dir, name+".toml") {
				t.Errorf("Export() wrote %v first, want the scenario", written[0])
			}
			sc, err = LoadFile(written[0])
			if err != nil {
				t.Fatalf("the exported copy does not load:\n%v", err)
			}
			if diff := cmp.Diff(want, seedSubjects(t, sc)); diff != "" {
				t.Errorf("the exported copy's messages (-builtin +copy):\n%s", diff)
			}
			data, _ := os.ReadFile(written[0])
			if strings.Contains(string(data), LibraryPrefix) {
				t.Errorf("the exported copy still reaches into the library:\n%s", data)
			}
			// Exporting again over an identical copy is fine.
			if _, err := Export(name, dir); err != nil {
				t.Errorf("Export() again: %v", err)
			}
		})
	}
}

func TestExportRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "messages", "01-plain.eml")
	os.MkdirAll(filepath.Dir(mine), 0o755)
	os.WriteFile(mine, []byte("my own edits"), 0o644)
	_, err := Export("login-rejected", dir)
	if err == nil || !strings.Contains(err.Error(), mine+" exists and differs") {
		t.Fatalf("Export() = %v, want a refusal naming %s", err, mine)
	}
	// Nothing was written: no half-applied export.
	if _, err := os.Stat(filepath.Join(dir, "login-rejected.toml")); err == nil {
		t.Error("Export() wrote the scenario although it refused")
	}
	if got, _ := os.ReadFile(mine); string(got) != "my own edits" {
		t.Errorf("Export() changed the user's file to %q", got)
	}
}

// TestLibraryPrefix: library: names reach the embedded messages from a
// file anywhere; a relative name that only the library has gets a hint.
func TestLibraryPrefix(t *testing.T) {
	base := "name = \"x\"\n[[users]]\nname = \"a\"\npassword = \"p\"\n"
	tests := []struct {
		name, mailbox, wantErr string
	}{
		{"glob", `mailboxes = [{ name = "INBOX", files = ["library:messages/0[1-2]-*.eml"] }]`, ""},
		{"inline file", "mailboxes = [{ name = \"INBOX\", messages = [{ file = \"library:messages/01-plain.eml\" }] }]", ""},
		{"no such library file", `mailboxes = [{ name = "INBOX", files = ["library:messages/*.msg"] }]`,
			`x.toml:5: users[0].mailboxes[0].files[0]: "library:messages/*.msg" matches no file in the built-in library`},
		{"leaves the library", `mailboxes = [{ name = "INBOX", files = ["library:../library.go"] }]`,
			`x.toml:5: users[0].mailboxes[0].files[0]: "library:../library.go" leaves the built-in library: name files below it with forward slashes`},
		{"relative name only the library has", `mailboxes = [{ name = "INBOX", files = ["messages/0[1-4]-*.eml"] }]`,
			`x.toml:5: users[0].mailboxes[0].files[0]: "messages/0[1-4]-*.eml" matches no file in the scenario's folder (the built-in library has it: write "library:messages/0[1-4]-*.eml", or run "imapfault scenarios export NAME DIR" for a copy with its files)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "x.toml")
			os.WriteFile(file, []byte(base+tt.mailbox+"\n"), 0o644)
			sc, err := LoadFile(file)
			got := ""
			if err != nil {
				got = strings.TrimPrefix(err.Error(), dir+string(filepath.Separator))
			}
			if got != tt.wantErr {
				t.Fatalf("LoadFile() = %q, want %q", got, tt.wantErr)
			}
			if err == nil && len(seedSubjects(t, sc)["a/INBOX"]) == 0 {
				t.Error("no messages loaded from the library")
			}
		})
	}
}
