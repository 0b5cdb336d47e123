package mailgen

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// content is the human-readable part of a message, rendered once as text
// and, for multipart/alternative, again as HTML.
type content struct {
	greeting    string
	paras       []string
	signoff     string
	quoteHeader string
	quoted      []string
}

func (c *content) size() int {
	n := len(c.greeting) + len(c.signoff)
	for _, p := range c.paras {
		n += len(p) + 4
	}
	for _, p := range c.quoted {
		n += len(p) + 8
	}
	return n
}

// kind is the MIME structure of a generated message.
type kind int

const (
	kindPlain kind = iota
	kindAlternative
	kindMixed
)

// message builds message number i, dated date.
func (g *generator) message(i int, date time.Time) Message {
	r := g.rng
	zone := zones[r.IntN(len(zones))]
	date = date.In(time.FixedZone(zone.name, zone.off))

	var parent *threadRef
	if len(g.recent) > 0 && r.IntN(5) == 0 {
		parent = &g.recent[r.IntN(len(g.recent))]
	}
	from := g.sender(parent)
	var list *mailingList
	if parent == nil && r.IntN(14) == 0 {
		list = &mailingLists[r.IntN(len(mailingLists))]
	}

	subject := g.subject(from, parent)
	id := g.messageID(i, date, from)
	var refs []string
	if parent != nil {
		refs = append(append(refs, parent.refs...), parent.id)
		// Long threads keep the root and the most recent ancestors, as
		// clients do, so the header stays bounded without losing threading.
		if len(refs) > 10 {
			refs = append(refs[:1:1], refs[len(refs)-9:]...)
		}
	}

	k := kindPlain
	switch n := r.IntN(100); {
	case n < 4:
		k = kindMixed
	case n < 14:
		k = kindAlternative
	}

	c := g.content(from, parent, k)

	attSize := 0
	if k == kindMixed {
		// Capped so that the whole message stays under about 200 KB.
		attSize = g.logNormal(30_000, 0.9, 2_000, 140_000)
	}

	// The message is written in the generator's buffer, reused from one
	// message to the next, and kept as an exact copy: a buffer sized by an
	// estimate kept half as much again as the message for good (issue 19).
	b := &g.buf
	b.Reset()
	g.traceHeaders(b, date, from, list)

	useB := r.IntN(2) == 0
	writeHeader(b, "Date", formatDate(date))
	writeHeader(b, "From", formatAddress(from, useB))
	if list != nil {
		writeHeader(b, "To", list.name+"@"+list.host())
	} else {
		writeHeader(b, "To", formatAddress(g.owner, useB))
		if r.IntN(6) == 0 {
			writeHeader(b, "Cc", formatAddress(g.randomPerson(), useB)+", "+formatAddress(g.randomPerson(), !useB))
		}
	}
	writeHeader(b, "Subject", encodeWord(subject, useB))
	writeHeader(b, "Message-ID", id)
	if parent != nil {
		writeHeader(b, "In-Reply-To", parent.id)
		writeHeader(b, "References", strings.Join(refs, " "))
	}
	if list != nil {
		listHeaders(b, *list)
	}
	if r.IntN(3) == 0 {
		writeHeader(b, "User-Agent", userAgents[r.IntN(len(userAgents))])
	}
	writeHeader(b, "MIME-Version", "1.0")
	g.writeBody(b, c, k, i, attSize)

	g.remember(threadRef{subject: subject, from: from, id: id, refs: refs, date: date})
	return Message{Raw: bytes.Clone(b.Bytes()), Date: date, Flags: g.flags(date)}
}

// sender picks the From person; replies come from earlier correspondents
// often enough that threads look like conversations.
func (g *generator) sender(parent *threadRef) person {
	if parent != nil && g.rng.IntN(2) == 0 {
		return parent.from
	}
	return g.randomPerson()
}

func (g *generator) randomPerson() person {
	r := g.rng
	if r.IntN(8) == 0 {
		return intlPeople[r.IntN(len(intlPeople))]
	}
	first := firstNames[r.IntN(len(firstNames))]
	last := lastNames[r.IntN(len(lastNames))]
	local := strings.ToLower(first) + "." + strings.ToLower(strings.ReplaceAll(last, "'", ""))
	if r.IntN(4) == 0 {
		local = strings.ToLower(first[:1] + strings.ReplaceAll(last, "'", ""))
	}
	return person{name: first + " " + last, local: local, domain: domains[r.IntN(len(domains))]}
}

func (g *generator) subject(from person, parent *threadRef) string {
	r := g.rng
	if parent != nil {
		// One "Re: " only: most clients collapse repeated prefixes.
		return "Re: " + strings.TrimPrefix(parent.subject, "Re: ")
	}
	if from.lang != "" && r.IntN(2) == 0 {
		for {
			s := intlSubjects[r.IntN(len(intlSubjects))]
			if s.lang == from.lang || s.lang == "" {
				return fillNumber(s.text, r.IntN(9000)+1000)
			}
		}
	}
	if r.IntN(40) == 0 {
		s := intlSubjects[r.IntN(len(intlSubjects))]
		return fillNumber(s.text, r.IntN(9000)+1000)
	}
	return fillNumber(subjects[r.IntN(len(subjects))], r.IntN(9000)+1000)
}

// fillNumber substitutes n for a %d placeholder without fmt's cost on the
// common no-placeholder path.
func fillNumber(s string, n int) string {
	if !strings.Contains(s, "%d") {
		return s
	}
	return strings.Replace(s, "%d", strconv.Itoa(n), 1)
}

// messageID returns an ID unique within one Generate call because it
// embeds the message index; the random part only makes it look natural.
func (g *generator) messageID(i int, date time.Time, from person) string {
	return "<" + date.UTC().Format("20060102150405") + "." +
		strconv.FormatUint(g.rng.Uint64()>>12, 36) + "." + strconv.Itoa(i) +
		"@" + from.domain + ">"
}

func (g *generator) remember(t threadRef) {
	if len(g.recent) < recentCap {
		g.recent = append(g.recent, t)
		return
	}
	g.recent[g.next] = t
	g.next = (g.next + 1) % recentCap
}

// flags mimics a person who reads nearly everything older than a couple of
// days, answers some of it and flags a little.
func (g *generator) flags(date time.Time) []string {
	r := g.rng
	var f []string
	seen := r.IntN(100) < 50
	if g.now.Sub(date) > 48*time.Hour {
		seen = r.IntN(100) < 97
	}
	if seen {
		f = append(f, `\Seen`)
		if r.IntN(100) < 8 {
			f = append(f, `\Answered`)
		}
	}
	if r.IntN(100) < 3 {
		f = append(f, `\Flagged`)
	}
	if seen && r.IntN(100) < 2 {
		f = append(f, "$Forwarded")
	}
	return f
}

func (g *generator) content(from person, parent *threadRef, k kind) *content {
	r := g.rng
	size := g.logNormal(1800, 1.1, 300, 150_000)
	if k == kindMixed {
		size = min(size, 4000) // the attachment carries the bulk
	}
	c := &content{
		greeting: fmt.Sprintf(greetingsByLang[from.lang], "Alex"),
		paras:    g.paragraphs(size, from.lang),
		signoff:  "Best regards,\r\n" + from.name,
	}
	if r.IntN(3) == 0 {
		c.signoff += "\r\n-- \r\n" + from.name + "\r\n" + from.addr()
	}
	if parent != nil {
		c.quoteHeader = "On " + parent.date.Format("Mon, Jan 2, 2006 at 3:04 PM") + ", " + parent.from.name + " <" + parent.from.addr() + "> wrote:"
		c.quoted = g.paragraphs(200+r.IntN(600), parent.from.lang)
	}
	return c
}
