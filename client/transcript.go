package client

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds that keep the transcript small whatever the server sends.
const (
	maxEvents    = 4000
	maxEventText = 2000
	mask         = "********"
)

// transcript collects the redacted events of all sessions of one check.
type transcript struct {
	start    time.Time
	logger   *slog.Logger
	redactor *redactor

	mu      sync.Mutex
	events  []Event
	dropped int
}

func newTranscript(start time.Time, logger *slog.Logger, r *redactor) *transcript {
	return &transcript{start: start, logger: logger, redactor: r}
}

// add records one event; text is redacted and bounded before it is kept
// or logged, so nothing downstream ever sees a secret.
func (t *transcript) add(session int, dir, text string) {
	text = printable(t.redactor.redact(text))
	if len(text) > maxEventText {
		text = text[:maxEventText] + "… (" + strconv.Itoa(len(text)-maxEventText) + " more bytes)"
	}
	e := Event{Elapsed: time.Since(t.start), Session: session, Dir: dir, Text: text}
	t.logger.LogAttrs(context.Background(), slog.LevelDebug, "imap",
		slog.Int("session", session), slog.String("dir", dir), slog.String("text", text))
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.events) >= maxEvents {
		t.dropped++
		return
	}
	t.events = append(t.events, e)
}

func (t *transcript) snapshot() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]Event(nil), t.events...)
	if t.dropped > 0 {
		out = append(out, Event{Elapsed: time.Since(t.start), Dir: "==",
			Text: "transcript truncated: " + strconv.Itoa(t.dropped) + " more events"})
	}
	return out
}

// redactor replaces every known secret, and the encodings it travels in,
// with a mask. The commands that carry secrets are also logged in a masked
// form; this is the second line of defence, for servers that echo input.
type redactor struct {
	secrets []string
}

func newRedactor(secrets ...string) *redactor {
	r := &redactor{}
	for _, s := range secrets {
		r.addSecret(s)
	}
	return r
}

func (r *redactor) addSecret(s string) {
	if len(s) < 3 {
		// Masking a one- or two-character secret everywhere would mask
		// the transcript instead; such a secret is masked where it is sent.
		if s != "" {
			r.secrets = append(r.secrets, quote(s))
		}
		return
	}
	r.secrets = append(r.secrets, quote(s), s, base64.StdEncoding.EncodeToString([]byte(s)))
}

// addBlob registers a SASL message as sent on the wire (base64).
func (r *redactor) addBlob(b64 string) {
	if b64 != "" {
		r.secrets = append(r.secrets, b64)
	}
}

func (r *redactor) redact(s string) string {
	for _, sec := range r.secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, mask)
		}
	}
	return s
}

// printable escapes control bytes, so that a server cannot rewrite what a
// terminal shows of the transcript (a bare CR, escape sequences).
func printable(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }
