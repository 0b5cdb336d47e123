package recorder

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// transformer rewrites the upstream's lines as the options ask, with
// pseudonyms that stay the same within a file. Every line it returns is
// valid UTF-8 (the file is text): a byte that is not becomes '?', so that
// a literal keeps its size.
type transformer struct {
	anonymize, stub bool
	hosts           map[string]string // lower-case host name or IP -> pseudonym
	emails          map[string]int    // lower-case address -> its number
	subjects        map[string]int    // subject as sent -> its number
	names           map[string]int    // display name -> its number
}

func newTransformer(o Options) *transformer {
	return &transformer{anonymize: o.Anonymize, stub: o.StubBodies, hosts: map[string]string{},
		emails: map[string]int{}, subjects: map[string]int{}, names: map[string]int{}}
}

var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+=-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+`)
	hostRE  = regexp.MustCompile(`(?i)\b([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\b`)
	ipv4RE  = regexp.MustCompile(`\b(\d{1,3}\.){3}\d{1,3}\b`)
	// blobRE is a base64 blob in brackets, as Exchange puts its back-end
	// server's name (UTF-16, base64) at the end of its greeting.
	blobRE = regexp.MustCompile(`\[([A-Za-z0-9+/]{16,}={0,2})\]`)
)

// text rewrites a human-readable text: the greeting, a status, an
// untagged OK/NO/BAD/BYE, an ID answer.
func (t *transformer) text(s string) string {
	if t.anonymize {
		s = emailRE.ReplaceAllStringFunc(s, t.email)
		s = blobRE.ReplaceAllStringFunc(s, t.blob)
		s = ipv4RE.ReplaceAllStringFunc(s, t.host)
		s = hostRE.ReplaceAllStringFunc(s, t.host)
	}
	return validUTF8(s)
}

// line rewrites an untagged line: its text, or its messages.
func (t *transformer) line(s string) string {
	toks := tokens([]byte(s))
	if len(toks) >= 2 && string(toks[0].value) == "*" {
		switch w := strings.ToUpper(string(toks[1].value)); w {
		case "OK", "NO", "BAD", "BYE", "PREAUTH", "ID":
			return t.text(s)
		}
		if len(toks) >= 4 && strings.EqualFold(string(toks[2].value), "FETCH") && toks[3].kind == open && (t.anonymize || t.stub) {
			return validUTF8(t.fetch([]byte(s), toks))
		}
	}
	return validUTF8(s)
}

func (t *transformer) host(h string) string {
	key := strings.ToLower(h)
	if p, ok := t.hosts[key]; ok {
		return p
	}
	n := len(t.hosts) + 1
	p := fmt.Sprintf("host%d.example.net", n)
	if ipv4RE.MatchString(h) {
		p = fmt.Sprintf("192.0.2.%d", n%254+1)
	}
	t.hosts[key] = p
	return p
}

// sizedHost is a host's pseudonym as long as the original, for the
// inside of a message: "host1xxx.example.net", or shorter forms.
func (t *transformer) sizedHost(h string) string {
	p := t.host(h)
	if ipv4RE.MatchString(h) {
		return fit(p, len(h))
	}
	label, _, _ := strings.Cut(p, ".")
	return sized(len(h), label+".example.net", label+".ex.net", label+".io")
}

// sized is the first candidate that fits size, padded after its first
// part (before the first '.' or '@') with x; x alone when none fits.
func sized(size int, candidates ...string) string {
	for _, s := range candidates {
		if len(s) <= size {
			i := strings.IndexAny(s, ".@")
			return s[:i] + strings.Repeat("x", size-len(s)) + s[i:]
		}
	}
	return strings.Repeat("x", size)
}

// blob replaces a bracketed base64 blob with the base64 of a host
// pseudonym, in UTF-16 when the blob was.
func (t *transformer) blob(s string) string {
	b64 := s[1 : len(s)-1]
	dec, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return s
	}
	utf16 := len(dec)%2 == 0 && len(dec) > 0
	var name []byte
	for i := 0; i < len(dec); i++ {
		if i%2 == 1 && dec[i] != 0 {
			utf16 = false
		}
		if i%2 == 0 {
			name = append(name, dec[i])
		}
	}
	if !utf16 {
		name = dec
	}
	p := []byte(t.host(string(name)))
	if utf16 {
		wide := make([]byte, 0, 2*len(p))
		for _, c := range p {
			wide = append(wide, c, 0)
		}
		p = wide
	}
	return "[" + base64.StdEncoding.EncodeToString(p) + "]"
}

// email is the pseudonym of an address, as long as the original: the
// same everywhere in a file, and a literal keeps its size.
func (t *transformer) email(e string) string {
	key := strings.ToLower(e)
	n, ok := t.emails[key]
	if !ok {
		n = len(t.emails) + 1
		t.emails[key] = n
	}
	return sized(len(e), fmt.Sprintf("user%d@example.com", n), fmt.Sprintf("u%d@example.com", n), fmt.Sprintf("u%d@ex.com", n), fmt.Sprintf("u%d@x.io", n))
}

// subject is the pseudonym of a subject, as long as the original.
func (t *transformer) subject(s string) string {
	n, ok := t.subjects[s]
	if !ok {
		n = len(t.subjects) + 1
		t.subjects[s] = n
	}
	return fit(fmt.Sprintf("Subject %d", n), len(s))
}

func (t *transformer) name(s string) string {
	n, ok := t.names[s]
	if !ok {
		n = len(t.names) + 1
		t.names[s] = n
	}
	return fmt.Sprintf("Person %d", n)
}

// fit pads p with spaces, or cuts it, to size bytes.
func fit(p string, size int) string {
	if len(p) >= size {
		return p[:size]
	}
	return p + strings.Repeat(" ", size-len(p))
}

// node is a token, or a parenthesised list of nodes.
type node struct {
	tok  token
	list []node
}

// parse reads the list that starts at toks[i] (an open), returning it
// and the index after it; an unclosed list ends with the tokens.
func parse(toks []token, i int) (node, int) {
	n := node{tok: toks[i]}
	for i++; i < len(toks); i++ {
		switch toks[i].kind {
		case closing:
			return n, i + 1
		case open:
			var child node
			child, i = parse(toks, i)
			n.list = append(n.list, child)
			i--
		default:
			n.list = append(n.list, node{tok: toks[i]})
		}
	}
	return n, i
}

// edit replaces line[start:end].
type edit struct {
	start, end int
	repl       []byte
}

// fetch rewrites the messages of a FETCH line: envelopes, bodies,
// headers. A literal keeps its size; only a quoted string in an envelope
// may change length.
func (t *transformer) fetch(line []byte, toks []token) string {
	items, _ := parse(toks, 3)
	var edits []edit
	for i := 0; i+1 < len(items.list); i += 2 {
		key, val := items.list[i], items.list[i+1]
		if key.tok.kind != atom {
			continue
		}
		name := strings.ToUpper(string(key.tok.value))
		switch {
		case name == "ENVELOPE" && t.anonymize:
			edits = append(edits, t.envelope(val)...)
		case val.tok.kind == literal || val.tok.kind == quoted:
			section, isBody := bodySection(name)
			if !isBody {
				continue
			}
			data := slices.Clone(val.tok.value)
			if t.anonymize {
				data = t.message(data)
			}
			if t.stub {
				data = stub(data, section)
			}
			edits = append(edits, edit{val.tok.start, val.tok.end, encodeLike(val.tok, data)})
		}
	}
	var out bytes.Buffer
	at := 0
	for _, e := range edits {
		out.Write(line[at:e.start])
		out.Write(e.repl)
		at = e.end
	}
	out.Write(line[at:])
	return out.String()
}

// bodySection reads a FETCH item that carries message data: its section
// ("" for the whole message, TEXT, HEADER, 1.2...), and whether it is one.
func bodySection(item string) (string, bool) {
	switch item {
	case "RFC822":
		return "", true
	case "RFC822.TEXT":
		return "TEXT", true
	case "RFC822.HEADER":
		return "HEADER", true
	}
	for _, p := range []string{"BODY[", "BINARY["} {
		if rest, ok := strings.CutPrefix(item, p); ok {
			sec, _, ok := strings.Cut(rest, "]")
			return sec, ok
		}
	}
	return "", false
}

// encodeLike writes data as tok was written: a literal with its new
// size, or a quoted string.
func encodeLike(tok token, data []byte) []byte {
	if tok.kind == literal {
		return append([]byte("{"+strconv.Itoa(len(data))+"}\r\n"), data...)
	}
	return quote(data)
}

func quote(s []byte) []byte {
	var b bytes.Buffer
	b.WriteByte('"')
	for _, c := range s {
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.Bytes()
}

// envelope anonymizes an ENVELOPE: its subject, the names and addresses
// of its address lists, and the host names in its message ids.
func (t *transformer) envelope(env node) []edit {
	var edits []edit
	str := func(n node, f func(string) string) {
		if s, ok := n.tok.str(); ok && n.tok.kind != atom {
			edits = append(edits, edit{n.tok.start, n.tok.end, encodeLike(n.tok, []byte(f(s)))})
		}
	}
	for i, field := range env.list {
		switch {
		case i == 1:
			str(field, func(s string) string { return t.subject(s) })
		case i >= 2 && i <= 7:
			for _, addr := range field.list {
				if len(addr.list) != 4 {
					continue
				}
				str(addr.list[0], t.name)
				mbox, _ := addr.list[2].tok.str()
				host, _ := addr.list[3].tok.str()
				if addr.list[2].tok.kind == atom || addr.list[3].tok.kind == atom {
					continue // NIL: a group's start or end
				}
				local, domain, _ := strings.Cut(t.email(mbox+"@"+host), "@")
				str(addr.list[2], func(string) string { return local })
				str(addr.list[3], func(string) string { return domain })
			}
		case i == 8 || i == 9:
			str(field, func(s string) string {
				return emailRE.ReplaceAllStringFunc(s, t.email)
			})
		}
	}
	return edits
}

// addressHeaderRE is an address header whose display name comes before
// the address in angle brackets.
var addressHeaderRE = regexp.MustCompile(`(?im)^(from|to|cc|bcc|reply-to|sender):[ \t]*("?)([^"<\r\n]+?)("?)[ \t]*<`)

// message anonymizes a message or part of one, keeping its size: every
// address, the display names of the address headers, the host names
// and addresses of the header, and the Subject header's text.
func (t *transformer) message(data []byte) []byte {
	data = emailRE.ReplaceAllFunc(data, func(e []byte) []byte { return []byte(t.email(string(e))) })
	headers := headerEnd(data)
	for _, m := range addressHeaderRE.FindAllSubmatchIndex(data[:headers], -1) {
		name := data[m[6]:m[7]]
		copy(name, fit(t.name(string(name)), len(name)))
	}
	head := ipv4RE.ReplaceAllFunc(data[:headers], func(h []byte) []byte { return []byte(t.sizedHost(string(h))) })
	head = hostRE.ReplaceAllFunc(head, func(h []byte) []byte {
		if bytes.Contains(h, []byte("example.")) || bytes.HasSuffix(h, []byte(".io")) {
			return h // a pseudonym already
		}
		return []byte(t.sizedHost(string(h)))
	})
	copy(data, head)
	for i := 0; i < headers; {
		end := bytes.IndexByte(data[i:headers], '\n')
		if end < 0 {
			end = headers - i - 1
		}
		lineEnd := i + end + 1
		if len(data[i:lineEnd]) > 8 && strings.EqualFold(string(data[i:i+8]), "subject:") {
			// The value runs on over folded lines.
			valStart := i + 8
			for valStart < lineEnd && data[valStart] == ' ' {
				valStart++
			}
			valEnd := lineEnd
			for valEnd < headers && (data[valEnd] == ' ' || data[valEnd] == '\t') {
				next := bytes.IndexByte(data[valEnd:headers], '\n')
				if next < 0 {
					valEnd = headers
					break
				}
				valEnd += next + 1
			}
			t.subjectInPlace(data[valStart:valEnd])
			lineEnd = valEnd
		}
		i = lineEnd
	}
	return data
}

// subjectInPlace writes a subject's pseudonym over a folded header value
// (line ends included), keeping the line ends and the space that folds.
func (t *transformer) subjectInPlace(v []byte) {
	v = bytes.TrimRight(v, "\r\n")
	key := strings.NewReplacer("\r\n", "", "\n", "").Replace(string(v))
	p := t.subject(key)
	j := 0
	for i := range v {
		switch {
		case v[i] == '\r' || v[i] == '\n':
		case i > 0 && v[i-1] == '\n':
			v[i] = ' '
			j++
		case j < len(p):
			v[i] = p[j]
			j++
		}
	}
}

// headerEnd is where a message's header ends: after its blank line, or
// the whole data.
func headerEnd(data []byte) int {
	if len(data) >= 2 && data[0] == '\r' && data[1] == '\n' {
		return 0
	}
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(data, []byte(sep)); i >= 0 {
			return i + len(sep)
		}
	}
	return len(data)
}

const filler = "loremipsumdolorsitametconsecteturadipiscingelitseddoeiusmodtemporincididunt"

// stub replaces the body text of a message section with generated text of
// the same size. Line ends, MIME boundary lines and the headers of the
// parts stay, so that the structure BODYSTRUCTURE describes still holds;
// letters only, so that a base64 part stays base64.
func stub(data []byte, section string) []byte {
	upper := strings.ToUpper(section)
	if strings.HasPrefix(upper, "HEADER") || strings.HasSuffix(upper, "MIME") || strings.HasSuffix(upper, "HEADER") || strings.Contains(upper, "HEADER.FIELDS") {
		return data
	}
	start := 0
	if section == "" {
		start = headerEnd(data)
	}
	inHeaders := false
	k := 0
	for i := start; i < len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			end = len(data) - i - 1
		}
		line := data[i : i+end+1]
		content := bytes.TrimRight(line, "\r\n")
		switch {
		case bytes.HasPrefix(content, []byte("--")):
			inHeaders = true // a boundary: the part's headers follow
		case inHeaders:
			inHeaders = len(content) > 0
		default:
			for j := range content {
				content[j] = filler[k%len(filler)]
				k++
			}
		}
		i += end + 1
	}
	return data
}

// validUTF8 replaces each byte that is not part of valid UTF-8 with '?'.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := []byte(s)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			b[i] = '?'
		}
		i += size
	}
	return string(b)
}
