package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// fileRefs returns every message file name or pattern the scenario names,
// as written, in file order.
func (s *Scenario) fileRefs() []string {
	var refs []string
	for _, u := range s.Users {
		for _, m := range u.Mailboxes {
			refs = append(refs, m.Files...)
			for _, msg := range m.Messages {
				if msg.File != "" {
					refs = append(refs, msg.File)
				}
			}
		}
	}
	return refs
}

// Standalone returns a built-in scenario's TOML text rewritten to work
// from any folder: each message file it names relative to the library
// gets the library: prefix, which keeps reaching the embedded files. It
// is what "imapfault scenarios show" prints, for users to copy and edit.
func Standalone(name string) ([]byte, error) {
	src, err := Source(name)
	if err != nil {
		return nil, err
	}
	sc, err := Builtin(name)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, ref := range sc.fileRefs() {
		if seen[ref] || strings.HasPrefix(ref, LibraryPrefix) {
			continue
		}
		seen[ref] = true
		for _, q := range []string{`"`, `'`} {
			src = bytes.ReplaceAll(src, []byte(q+ref+q), []byte(q+LibraryPrefix+ref+q))
		}
	}
	return src, nil
}

// Export writes a built-in scenario into dir as NAME.toml, with copies of
// the message files it names beside it (at the same relative paths, the
// library: prefix removed), so that both can be edited. It creates dir if
// needed and refuses to overwrite a file that differs, before writing
// anything. It returns the files written, the scenario first.
func Export(name, dir string) ([]string, error) {
	src, err := Source(name)
	if err != nil {
		return nil, err
	}
	sc, err := Builtin(name)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{name + ".toml": nil}
	order := []string{name + ".toml"}
	for _, ref := range sc.fileRefs() {
		fsys, pattern := sc.resolve(ref)
		src = bytes.ReplaceAll(src, []byte(`"`+ref+`"`), []byte(`"`+pattern+`"`))
		matches, err := globFS(fsys, path.Clean(pattern))
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", name, ref, err)
		}
		for _, m := range matches {
			if _, ok := files[m]; ok {
				continue
			}
			data, err := fs.ReadFile(fsys, m)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			files[m] = data
			order = append(order, m)
		}
	}
	files[name+".toml"] = src
	var out []string
	for _, rel := range order {
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		old, err := os.ReadFile(dst)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, err
		case !bytes.Equal(old, files[rel]):
			return nil, fmt.Errorf("%s exists and differs from the built-in: move it away or export into another folder", dst)
		}
		out = append(out, dst)
	}
	for _, rel := range order {
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(dst, files[rel], 0o644); err != nil {
			return nil, err
		}
	}
	return out, nil
}
