package relay

import "bytes"

// stripCompress removes COMPRESS=... from a capability list in line (an
// untagged CAPABILITY response or a [CAPABILITY ...] response code), and
// returns line itself when it has none. The relay must see every byte as
// plaintext (its Observer and the faults in front of it read IMAP), so it
// cannot let the client and the upstream agree on RFC 4978 compression.
func stripCompress(line []byte) []byte {
	if !bytes.Contains(bytes.ToUpper(line), []byte("COMPRESS=")) {
		return line
	}
	text := bytes.TrimRight(line, "\r\n")
	eol := line[len(text):]
	tag, rest, _ := bytes.Cut(text, []byte(" "))
	word, after, _ := bytes.Cut(rest, []byte(" "))
	var head, list, end []byte
	switch {
	case string(tag) == "*" && bytes.EqualFold(word, []byte("CAPABILITY")):
		head, list = text[:len(text)-len(after)], after
	default:
		open := bytes.Index(text, []byte("[CAPABILITY "))
		if open < 0 {
			return line
		}
		close := bytes.IndexByte(text[open:], ']')
		if close < 0 {
			return line
		}
		start := open + len("[CAPABILITY ")
		head, list, end = text[:start], text[start:open+close], text[open+close:]
	}
	var kept [][]byte
	for _, c := range bytes.Fields(list) {
		if !bytes.HasPrefix(bytes.ToUpper(c), []byte("COMPRESS=")) {
			kept = append(kept, c)
		}
	}
	out := append([]byte(nil), head...)
	out = append(out, bytes.Join(kept, []byte(" "))...)
	out = append(out, end...)
	return append(out, eol...)
}
