package imapframe

import "bytes"

// maxDigits is the most digits a literal's size may have: a number64
// (RFC 9051) has at most 19.
const maxDigits = 19

// LiteralSize returns the size of the literal announced at the end of
// line, before its CRLF or LF: "{12}", "{12+}" or "{12-}" (LITERAL+ and
// LITERAL-, nonSync set), also after "~" (a literal8). A size that is no
// number64 is no literal.
func LiteralSize(line []byte) (size int64, nonSync, ok bool) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	n := len(line)
	if n < 3 || line[n-1] != '}' {
		return 0, false, false
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false, false
	}
	num := line[open+1 : n-1]
	if k := len(num); k > 0 && (num[k-1] == '+' || num[k-1] == '-') {
		nonSync = true
		num = num[:k-1]
	}
	if len(num) == 0 || len(num) > maxDigits {
		return 0, false, false
	}
	const maxInt64 = 1<<63 - 1
	for _, c := range num {
		d := int64(c - '0')
		if c < '0' || c > '9' || size > (maxInt64-d)/10 {
			return 0, false, false
		}
		size = size*10 + d
	}
	return size, nonSync, true
}
