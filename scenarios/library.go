package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
)

//go:embed library
var libraryFS embed.FS

// library is the folder of built-in scenarios; their message files resolve
// inside it, as a user's files resolve inside the user's folder.
func library() fs.FS { return libraryFiles }

var libraryFiles = func() fs.FS {
	sub, err := fs.Sub(libraryFS, "library")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return sub
}()

// libraryRaw holds the library's message files as served (CRLF), read
// once: they are part of the binary and never change, and each server of
// a built-in scenario kept a copy of its own (1.5 MB for healthy's INBOX;
// issue 19). It never holds more than the library's own size.
var libraryRaw sync.Map // file name -> []byte, not to be modified

// libraryMessage returns a library message file as served.
func libraryMessage(name string) ([]byte, error) {
	if raw, ok := libraryRaw.Load(name); ok {
		return raw.([]byte), nil
	}
	raw, err := fs.ReadFile(libraryFiles, name)
	if err != nil {
		return nil, err
	}
	stored, _ := libraryRaw.LoadOrStore(name, crlf(raw))
	return stored.([]byte), nil
}

// Names returns the names of the built-in scenarios, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(library(), ".")
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".toml") {
			names = append(names, strings.TrimSuffix(e.Name(), ".toml"))
		}
	}
	sort.Strings(names)
	return names
}

// Source returns a built-in scenario's TOML text, for users to copy.
func Source(name string) ([]byte, error) {
	data, err := fs.ReadFile(library(), name+".toml")
	if err != nil {
		return nil, fmt.Errorf("no built-in scenario %q (run \"imapfault scenarios\" for the list)", name)
	}
	return data, nil
}

// Builtin loads a built-in scenario by name.
func Builtin(name string) (*Scenario, error) {
	data, err := Source(name)
	if err != nil {
		return nil, err
	}
	return Parse("builtin:"+name+".toml", data, library())
}

// All loads every built-in scenario.
func All() ([]*Scenario, error) {
	var out []*Scenario
	for _, name := range Names() {
		s, err := Builtin(name)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Load takes what a user typed: a built-in name, or a path to a file.
func Load(nameOrPath string) (*Scenario, error) {
	if strings.HasSuffix(nameOrPath, ".toml") || strings.ContainsRune(nameOrPath, os.PathSeparator) || path.IsAbs(nameOrPath) {
		return LoadFile(nameOrPath)
	}
	if _, err := os.Stat(nameOrPath); err == nil && !isBuiltin(nameOrPath) {
		return LoadFile(nameOrPath)
	}
	return Builtin(nameOrPath)
}

func isBuiltin(name string) bool {
	for _, n := range Names() {
		if n == name {
			return true
		}
	}
	return false
}
