package mailgen

import (
	"bytes"
	"mime"
	"strings"
	"time"
)

// maxLine is where headers are folded; RFC 5322 recommends 78 characters.
const maxLine = 78

// writeHeader appends "Name: value" folded at spaces so that no line grows
// past maxLine unless a single token is longer than that.
func writeHeader(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(":")
	col := len(name) + 1
	// Tokens between single spaces, as strings.Split(value, " ") would
	// give them, without its slice.
	for i := 0; ; i++ {
		tok, rest, more := strings.Cut(value, " ")
		value = rest
		if i > 0 && col+1+len(tok) > maxLine {
			b.WriteString("\r\n")
			col = 0
		}
		b.WriteByte(' ')
		b.WriteString(tok)
		col += 1 + len(tok)
		if !more {
			break
		}
	}
	b.WriteString("\r\n")
}

// encodeWord returns s unchanged when it is ASCII and otherwise as RFC 2047
// encoded-words, alternating B and Q so that clients meet both encodings.
func encodeWord(s string, useB bool) string {
	if isASCII(s) {
		return s
	}
	// Upper-case B and Q are what mainstream clients emit; the standard
	// library writes lower case, which is legal but rarer in the wild.
	if useB {
		return strings.ReplaceAll(mime.BEncoding.Encode("UTF-8", s), "?b?", "?B?")
	}
	return strings.ReplaceAll(mime.QEncoding.Encode("UTF-8", s), "?q?", "?Q?")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// formatAddress renders a mailbox the way common clients do: encoded-words
// for non-ASCII names, quotes for names containing specials.
func formatAddress(p person, useB bool) string {
	switch {
	case p.name == "":
		return p.addr()
	case !isASCII(p.name):
		return encodeWord(p.name, useB) + " <" + p.addr() + ">"
	case strings.ContainsAny(p.name, `()<>[]:;@\,."'`):
		return `"` + strings.ReplaceAll(p.name, `"`, `\"`) + `" <` + p.addr() + ">"
	default:
		return p.name + " <" + p.addr() + ">"
	}
}

// dateLayout is RFC 5322 date-time with a zero-padded day, which every
// parser accepts.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

func formatDate(t time.Time) string { return t.Format(dateLayout) }
