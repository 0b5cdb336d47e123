package store

import (
	"mime"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// RFC 5322 address lists as IMAP needs them: go-imap (through net/mail)
// drops group syntax, which ENVELOPE must show (RFC 3501 section 7.4.2),
// and a search on an address header must see the address without the
// comments RFC 5322 section 3.4.1 allows inside it. The parser is lenient
// as Dovecot's is: what it cannot read it skips to the next comma.

// addressHeaders are the fields SEARCH FROM/TO/CC/BCC (and HEADER on
// them) match as addresses rather than as text.
var addressHeaders = []string{"From", "Sender", "Reply-To", "To", "Cc", "Bcc"}

// extractEnvelope is imapserver.ExtractEnvelope with address lists that
// keep their groups (its own parses them with net/mail, which drops them:
// calling it and replacing the lists would parse every list twice).
func extractEnvelope(h textproto.Header) *imap.Envelope {
	mh := mail.Header{Header: gomessage.Header{Header: h}}
	date, _ := mh.Date()
	subject, _ := mh.Subject()
	inReplyTo, _ := mh.MsgIDList("In-Reply-To")
	messageID, _ := mh.MessageID()
	return &imap.Envelope{
		Date:      date,
		Subject:   subject,
		From:      parseAddressList(h.Get("From")),
		Sender:    parseAddressList(h.Get("Sender")),
		ReplyTo:   parseAddressList(h.Get("Reply-To")),
		To:        parseAddressList(h.Get("To")),
		Cc:        parseAddressList(h.Get("Cc")),
		Bcc:       parseAddressList(h.Get("Bcc")),
		InReplyTo: inReplyTo,
		MessageID: messageID,
	}
}

// matchAddressFields reports whether one of an address header's values,
// written without comments as `Name <mailbox@host>`, contains pattern
// (already lower case). A value with no address is matched as text.
func matchAddressFields(values []string, pattern string) bool {
	for _, v := range values {
		addrs := parseAddressList(v)
		if len(addrs) == 0 {
			if strings.Contains(strings.ToLower(v), pattern) {
				return true
			}
			continue
		}
		for _, a := range addrs {
			s := a.Mailbox
			if a.Host != "" {
				s = a.Name + " <" + a.Mailbox + "@" + a.Host + ">"
			}
			if strings.Contains(strings.ToLower(s), pattern) {
				return true
			}
		}
	}
	return false
}

// wordDecoder decodes RFC 2047 encoded words in display names, in any
// charset go-message knows.
var wordDecoder = mime.WordDecoder{CharsetReader: charset.Reader}

// parseAddressList reads an address list. A group is its start, an
// address with the group's name as Mailbox and no Host, then its members,
// then an empty address: the form ENVELOPE writes as (NIL NIL "g" NIL)
// ... (NIL NIL NIL NIL).
func parseAddressList(s string) []imap.Address {
	p := addrParser{s: s}
	var out []imap.Address
	for {
		p.skipCFWS()
		if p.eof() {
			return out
		}
		if c := p.peek(); c == ',' || c == ';' {
			p.i++ // a separator, or the end of a group that never began
			continue
		}
		out = p.item(out)
	}
}

type addrParser struct {
	s       string
	i       int
	comment string // the last comment skipped: a name when there is no phrase
}

func (p *addrParser) eof() bool  { return p.i >= len(p.s) }
func (p *addrParser) peek() byte { return p.s[p.i] }

// item reads one mailbox or group and appends it to out.
func (p *addrParser) item(out []imap.Address) []imap.Address {
	phrase, ok := p.words()
	p.skipCFWS()
	if !ok || p.eof() {
		p.skipItem()
		return out
	}
	switch p.peek() {
	case ':':
		p.i++
		// A group with no name has no start marker ENVELOPE could tell
		// from an end: its members are listed alone.
		name := decodePhrase(phrase)
		if name != "" {
			out = append(out, imap.Address{Mailbox: name})
		}
		for {
			p.skipCFWS()
			if p.eof() {
				break
			}
			if c := p.peek(); c == ';' {
				p.i++
				break
			} else if c == ',' {
				p.i++
				continue
			}
			out = p.mailbox(out)
		}
		if name == "" {
			return out
		}
		return append(out, imap.Address{})
	default:
		return p.mailboxAfter(out, phrase)
	}
}

// mailbox reads one mailbox (inside a group).
func (p *addrParser) mailbox(out []imap.Address) []imap.Address {
	phrase, ok := p.words()
	p.skipCFWS()
	if !ok || p.eof() {
		p.skipItem()
		return out
	}
	return p.mailboxAfter(out, phrase)
}

// mailboxAfter reads the rest of a mailbox whose first words were read:
// an angle address, or the domain of an addr-spec.
func (p *addrParser) mailboxAfter(out []imap.Address, phrase []string) []imap.Address {
	switch p.peek() {
	case '<':
		p.i++
		local, host := p.angle()
		if local == "" {
			return out
		}
		name := decodePhrase(phrase)
		if name == "" {
			name = p.trailingComment()
		}
		return append(out, imap.Address{Name: name, Mailbox: local, Host: host})
	case '@':
		p.i++
		p.comment = ""
		host := p.domain()
		p.skipCFWS()
		if len(phrase) == 0 || host == "" {
			p.skipItem()
			return out
		}
		return append(out, imap.Address{Name: p.comment, Mailbox: strings.Join(phrase, ""), Host: host})
	}
	// A mailbox with no domain is skipped, as go-imap does.
	p.skipItem()
	return out
}

// angle reads `[route:] local@domain >` after the '<'. The route is
// dropped: go-imap's Address has no field for it.
func (p *addrParser) angle() (local, host string) {
	p.skipCFWS()
	if !p.eof() && p.peek() == '@' {
		for !p.eof() && p.peek() != ':' && p.peek() != '>' {
			p.i++
		}
		if !p.eof() && p.peek() == ':' {
			p.i++
		}
	}
	words, _ := p.words()
	local = strings.Join(words, "")
	p.skipCFWS()
	if !p.eof() && p.peek() == '@' {
		p.i++
		host = p.domain()
	}
	p.skipCFWS()
	if !p.eof() && p.peek() == '>' {
		p.i++
	}
	if host == "" {
		return "", ""
	}
	return local, host
}

// domain reads a dot-atom or a domain literal, comments allowed between.
func (p *addrParser) domain() string {
	p.skipCFWS()
	if !p.eof() && p.peek() == '[' {
		start := p.i
		for !p.eof() && p.peek() != ']' {
			p.i++
		}
		if !p.eof() {
			p.i++
		}
		return p.s[start:p.i]
	}
	words, _ := p.words()
	return strings.Join(words, "")
}

// words reads atoms, quoted strings and dots, with comments and spaces
// between them dropped except one space between two words. ok is false
// when it stopped at a character that cannot follow a phrase.
func (p *addrParser) words() (words []string, ok bool) {
	for {
		space := p.skipCFWS()
		if p.eof() {
			return words, true
		}
		c := p.peek()
		switch {
		case c == '"':
			w := p.quoted()
			if space && len(words) > 0 {
				words = append(words, " ")
			}
			words = append(words, w)
		case c == '.':
			p.i++
			words = append(words, ".")
		case isAtext(c):
			start := p.i
			for !p.eof() && isAtext(p.peek()) {
				p.i++
			}
			if space && len(words) > 0 {
				words = append(words, " ")
			}
			words = append(words, p.s[start:p.i])
		case c == '<' || c == '@' || c == ':' || c == ',' || c == ';' || c == '>':
			return words, true
		default:
			return words, false
		}
	}
}

// quoted reads a quoted string after its opening quote's position.
func (p *addrParser) quoted() string {
	p.i++
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		p.i++
		switch c {
		case '"':
			return b.String()
		case '\\':
			if !p.eof() {
				b.WriteByte(p.peek())
				p.i++
			}
		case '\r', '\n':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// skipCFWS skips spaces, line breaks and (nested) comments, keeping the
// last comment's text; it reports whether it skipped anything.
func (p *addrParser) skipCFWS() bool {
	skipped := false
	for !p.eof() {
		switch c := p.peek(); c {
		case ' ', '\t', '\r', '\n':
			p.i++
		case '(':
			p.comment = p.commentText()
		default:
			return skipped
		}
		skipped = true
	}
	return skipped
}

func (p *addrParser) commentText() string {
	depth := 0
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		p.i++
		switch c {
		case '(':
			if depth > 0 {
				b.WriteByte(c)
			}
			depth++
		case ')':
			depth--
			if depth == 0 {
				return strings.TrimSpace(b.String())
			}
			b.WriteByte(c)
		case '\\':
			if !p.eof() {
				b.WriteByte(p.peek())
				p.i++
			}
		case '\r', '\n':
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

// trailingComment is the comment after an address, Dovecot's display
// name for `user@domain (Real Name)`.
func (p *addrParser) trailingComment() string {
	p.comment = ""
	p.skipCFWS()
	return p.comment
}

// skipItem skips to the next comma or semicolon outside quotes and
// comments.
func (p *addrParser) skipItem() {
	for !p.eof() {
		switch p.peek() {
		case ',', ';':
			return
		case '"':
			p.quoted()
		case '(':
			p.commentText()
		default:
			p.i++
		}
	}
}

func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80:
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// decodePhrase joins a display name's words and decodes its RFC 2047
// encoded words.
func decodePhrase(words []string) string {
	s := strings.Join(words, "")
	if dec, err := wordDecoder.DecodeHeader(s); err == nil {
		return dec
	}
	return s
}

// matchHeaderField matches one SEARCH header criterion: address fields as
// addresses, others as text.
func matchHeaderField(h mail.Header, c imap.SearchCriteriaHeaderField) bool {
	isAddress := slices.ContainsFunc(addressHeaders, func(k string) bool { return strings.EqualFold(k, c.Key) })
	if c.Value == "" || !isAddress {
		return matchHeaderFields(h.FieldsByKey(c.Key), c.Value)
	}
	return matchAddressFields(h.Values(c.Key), strings.ToLower(c.Value))
}
