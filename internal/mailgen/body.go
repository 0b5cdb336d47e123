package mailgen

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math"
	"mime/quotedprintable"
	"strings"
)

// wrapWidth matches what most clients use for format=fixed plain text.
const wrapWidth = 72

// paragraphs returns prose of roughly size bytes. English text is built
// from a word pool; other languages from whole sentences, mixed with some
// English the way real multilingual business mail often is.
func (g *generator) paragraphs(size int, lang string) []string {
	// One builder holds every paragraph, which are slices of its string:
	// a builder per paragraph cost an allocation and a copy each.
	var p strings.Builder
	p.Grow(size + 640)
	var ends []int
	total := 0
	for total < size {
		start := p.Len()
		for s := 3 + g.rng.IntN(5); s > 0; s-- {
			if p.Len() > start {
				p.WriteByte(' ')
			}
			if lang != "" && g.rng.IntN(3) != 0 {
				pool := sentencesByLang[lang]
				p.WriteString(pool[g.rng.IntN(len(pool))])
				continue
			}
			g.sentence(&p)
		}
		ends = append(ends, p.Len())
		total += p.Len() - start + 4
	}
	all := p.String()
	out := make([]string, len(ends))
	start := 0
	for i, end := range ends {
		out[i], start = all[start:end], end
	}
	return out
}

// sentence appends one capitalised English sentence.
func (g *generator) sentence(p *strings.Builder) {
	n := 6 + g.rng.IntN(13)
	for i := range n {
		w := words[g.rng.IntN(len(words))]
		if i == 0 {
			// The pool is lower-case ASCII (or "I"), so capitalising one
			// byte suffices and avoids strings.ToUpper's allocation.
			c := w[0]
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			p.WriteByte(c)
			p.WriteString(w[1:])
			continue
		}
		p.WriteByte(' ')
		p.WriteString(w)
	}
	if g.rng.IntN(6) == 0 {
		p.WriteByte('?')
	} else {
		p.WriteByte('.')
	}
}

// wrap appends text broken at spaces into CRLF lines of at most width
// bytes (longer only for single unbreakable tokens), each prefixed. The
// text holds single spaces only (the pools and the sentences built from
// them), so a line is the longest run of words that fits, written at once:
// word by word, this loop was a fifth of generation time (issue 19).
func wrap(b *bytes.Buffer, text, prefix string, width int) {
	avail := width - len(prefix)
	for text != "" {
		b.WriteString(prefix)
		if len(text) <= avail {
			b.WriteString(text)
			b.WriteString("\r\n")
			return
		}
		k := strings.LastIndexByte(text[:avail+1], ' ')
		if k <= 0 {
			// A token longer than the line goes alone on its own.
			if k = strings.IndexByte(text, ' '); k < 0 {
				k = len(text)
			}
		}
		b.WriteString(text[:k])
		b.WriteString("\r\n")
		text = text[min(k+1, len(text)):]
	}
}

// textBody renders the plain-text part with CRLF line endings in b, a
// buffer reused from one message to the next.
func textBody(b *bytes.Buffer, c *content) []byte {
	b.Reset()
	b.Grow(c.size() + 512)
	b.WriteString(c.greeting)
	b.WriteString("\r\n\r\n")
	for _, p := range c.paras {
		wrap(b, p, "", wrapWidth)
		b.WriteString("\r\n")
	}
	b.WriteString(c.signoff)
	b.WriteString("\r\n")
	if c.quoted != nil {
		b.WriteString("\r\n")
		b.WriteString(c.quoteHeader)
		b.WriteString("\r\n")
		for _, p := range c.quoted {
			wrap(b, p, "> ", wrapWidth)
			b.WriteString(">\r\n")
		}
	}
	return b.Bytes()
}

// htmlBody renders the same content as the HTML alternative in b, a
// buffer reused from one message to the next.
func htmlBody(b *bytes.Buffer, c *content) []byte {
	b.Reset()
	b.Grow(c.size()*5/4 + 1024)
	b.WriteString("<!DOCTYPE html>\r\n<html>\r\n<head>\r\n" +
		"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n" +
		"</head>\r\n<body>\r\n<div style=\"font-family: Arial, Helvetica, sans-serif; font-size: 14px;\">\r\n")
	b.WriteString("<p>" + htmlEscape(c.greeting) + "</p>\r\n")
	for _, p := range c.paras {
		wrap(b, "<p>"+htmlEscape(p)+"</p>", "", wrapWidth)
	}
	b.WriteString("<p>" + strings.ReplaceAll(htmlEscape(c.signoff), "\r\n", "<br>\r\n") + "</p>\r\n")
	if c.quoted != nil {
		b.WriteString("<div>" + htmlEscape(c.quoteHeader) + "</div>\r\n<blockquote type=\"cite\">\r\n")
		for _, p := range c.quoted {
			wrap(b, "<p>"+htmlEscape(p)+"</p>", "", wrapWidth)
		}
		b.WriteString("</blockquote>\r\n")
	}
	b.WriteString("</div>\r\n</body>\r\n</html>\r\n")
	return b.Bytes()
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func htmlEscape(s string) string { return htmlEscaper.Replace(s) }

// writeEncoded appends body using the transfer encoding named by cte.
func writeEncoded(b *bytes.Buffer, body []byte, cte string) {
	if cte != "quoted-printable" {
		b.Write(body)
		return
	}
	w := quotedprintable.NewWriter(b)
	w.Write(body) // writes to a bytes.Buffer cannot fail
	w.Close()
	// The writer leaves no trailing line break when the input ended in one
	// it consumed; multipart boundaries need the body to end in CRLF.
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
}

// bodyCTE picks the transfer encoding a typical client would for body:
// ASCII goes as 7bit, UTF-8 mostly as quoted-printable, sometimes raw 8bit.
func (g *generator) bodyCTE(body []byte) string {
	for _, c := range body {
		if c >= 0x80 {
			if g.rng.IntN(3) == 0 {
				return "8bit"
			}
			return "quoted-printable"
		}
	}
	return "7bit"
}

// randomBytes returns n pseudo-random bytes starting with magic.
func (g *generator) randomBytes(n int, magic string) []byte {
	buf := make([]byte, (n+7)&^7)
	for i := 0; i < len(buf); i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], g.rng.Uint64())
	}
	copy(buf, magic)
	return buf[:n]
}

// writeBase64 appends data as base64 in 76-character CRLF lines, the
// MIME limit.
func writeBase64(b *bytes.Buffer, data []byte) {
	const chunk = 57 // 57 raw bytes encode to exactly 76 characters
	var line [76]byte
	for len(data) > 0 {
		n := min(chunk, len(data))
		base64.StdEncoding.Encode(line[:], data[:n])
		b.Write(line[:base64.StdEncoding.EncodedLen(n)])
		b.WriteString("\r\n")
		data = data[n:]
	}
}

// logNormal draws from a log-normal distribution clamped to [lo, hi]; it
// yields the long tail that real mailbox sizes show.
func (g *generator) logNormal(median float64, sigma float64, lo, hi int) int {
	v := int(median * math.Exp(sigma*g.rng.NormFloat64()))
	return max(lo, min(hi, v))
}
