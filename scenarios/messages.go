package scenarios

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/mail"
	"sort"
	"strings"
	"time"

	"github.com/imapfault/imapfault/internal/mailgen"
)

// Seed is one message to put in a mailbox when the server starts: its
// RFC 5322 text (CRLF), internal date and flags. It is mailgen's Message,
// so that a mailbox of generated messages alone is seeded from the shared
// set itself, with no copy per scenario.
type Seed = mailgen.Message

// Seeds returns the messages of a mailbox in the order they are appended:
// files, then inline messages, then generated ones. now, to the hour,
// anchors generated and undated messages. The result is cached on the
// scenario, since a test suite or verify run starts the same scenario's
// server many times; callers must not modify it.
func (s *Scenario) Seeds(m *Mailbox, now time.Time) ([]Seed, error) {
	anchor := now.Truncate(time.Hour)
	if s.cache == nil {
		seeds, _, err := s.loadSeeds(m, anchor)
		return seeds, err
	}
	s.cache.Lock()
	defer s.cache.Unlock()
	if c, ok := s.cache.seeds[m]; ok && c.anchor.Equal(anchor) {
		return c.seeds, nil
	}
	seeds, keep, err := s.loadSeeds(m, anchor)
	if err != nil {
		return nil, err
	}
	s.cache.seeds[m] = cachedSeeds{anchor: anchor, seeds: seeds, keep: keep}
	return seeds, nil
}

type cachedSeeds struct {
	anchor time.Time
	seeds  []Seed
	keep   *mailgen.Set // holds the shared messages the seeds point into
}

// loadSeeds also returns the generated set the seeds share with other
// scenarios, which stays in memory while a holder keeps it.
func (s *Scenario) loadSeeds(m *Mailbox, now time.Time) ([]Seed, *mailgen.Set, error) {
	var out []Seed
	for _, pattern := range m.Files {
		fsys, pat := s.resolve(pattern)
		names, err := globFS(fsys, pat)
		if err != nil {
			return nil, nil, fmt.Errorf("mailbox %q: files %q: %w", m.Name, pattern, err)
		}
		for _, name := range names {
			seed, err := fileSeed(fsys, name, now)
			if err != nil {
				return nil, nil, fmt.Errorf("mailbox %q: %w", m.Name, err)
			}
			out = append(out, seed)
		}
	}
	for i, msg := range m.Messages {
		seed, err := s.inlineSeed(msg, now)
		if err != nil {
			return nil, nil, fmt.Errorf("mailbox %q: messages[%d]: %w", m.Name, i, err)
		}
		out = append(out, seed)
	}
	var keep *mailgen.Set
	if g := m.Generate; g != nil {
		keep = mailgen.Shared(g.Count, g.Seed, now)
		if out == nil {
			return keep.Messages, keep, nil
		}
		out = append(out, keep.Messages...)
	}
	return out, keep, nil
}

// LibraryPrefix starts a message file name that resolves among the
// built-in library's files (scenarios/library, embedded in the binary)
// rather than in the scenario's own folder: "library:messages/01-plain.eml".
// It lets a copy of a built-in scenario keep its messages wherever it is.
const LibraryPrefix = "library:"

// resolve returns the file system a message file name or pattern refers
// to, and the name within it.
func (s *Scenario) resolve(name string) (fs.FS, string) {
	if rest, ok := strings.CutPrefix(name, LibraryPrefix); ok {
		return library(), rest
	}
	return s.Files, name
}

func fileSeed(fsys fs.FS, name string, now time.Time) (Seed, error) {
	if fsys == nil {
		return Seed{}, fmt.Errorf("%s: the scenario has no folder to read files from", name)
	}
	if fsys == libraryFiles {
		raw, err := libraryMessage(name)
		if err != nil {
			return Seed{}, err
		}
		return Seed{Raw: raw, Date: headerDate(raw, now)}, nil
	}
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return Seed{}, err
	}
	return Seed{Raw: crlf(raw), Date: headerDate(raw, now)}, nil
}

func (s *Scenario) inlineSeed(msg Message, now time.Time) (Seed, error) {
	var raw []byte
	switch {
	case msg.File != "":
		fsys, name := s.resolve(msg.File)
		seed, err := fileSeed(fsys, name, now)
		if err != nil {
			return Seed{}, err
		}
		raw = seed.Raw
	case msg.Raw != "":
		raw = crlf([]byte(msg.Raw))
	default:
		raw = compose(msg, now)
	}
	date := msg.Date
	if date.IsZero() {
		date = headerDate(raw, now)
	}
	return Seed{Raw: raw, Date: date, Flags: msg.Flags}, nil
}

// compose builds a minimal valid message from inline headers and a body.
func compose(m Message, now time.Time) []byte {
	date := m.Date
	if date.IsZero() {
		date = now
	}
	from := m.From
	if from == "" {
		from = "sender@example.com"
	}
	to := m.To
	if to == "" {
		to = "recipient@example.com"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n", from, to, m.Subject, date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%d.inline@imapfault.example>\r\n", date.UnixNano())
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.Write(crlf([]byte(m.Body)))
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// crlf normalises line endings: IMAP literals carry CRLF, and files edited
// on Unix usually do not.
// A text that needs nothing is returned as is.
func crlf(b []byte) []byte {
	bare := 0
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			bare++
		}
	}
	if bare == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+bare)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

func headerDate(raw []byte, fallback time.Time) time.Time {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return fallback
	}
	if d, err := msg.Header.Date(); err == nil {
		return d
	}
	return fallback
}

// globFS is fs.Glob with "**"-free patterns, sorted, refusing to leave the
// root (fs.FS already forbids "..", this keeps the error readable).
func globFS(fsys fs.FS, pattern string) ([]string, error) {
	if strings.Contains(pattern, "..") {
		return nil, fmt.Errorf("%q leaves the scenario's folder", pattern)
	}
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}
