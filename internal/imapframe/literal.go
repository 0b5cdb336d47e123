package imapframe

// maxDigits is the most digits a literal's size may have: a number64
// (RFC 9051) has at most 19.
const maxDigits = 19

// LiteralSize returns the size of the literal announced at the end of
// line, before its CRLF or LF if it has one: "{12}", "{12+}" or "{12-}"
// (LITERAL+ and LITERAL-, nonSync set), also after "~" (a literal8). A
// size that is no number64 is no literal. It takes the tester's string
// lines and the wire's bytes alike, and allocates nothing.
func LiteralSize[T string | []byte](line T) (size int64, nonSync, ok bool) {
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
	}
	if n > 0 && line[n-1] == '\r' {
		n--
	}
	if n < 3 || line[n-1] != '}' {
		return 0, false, false
	}
	open := n - 2
	for open >= 0 && line[open] != '{' {
		open--
	}
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
	for i := 0; i < len(num); i++ {
		c := num[i]
		d := int64(c - '0')
		if c < '0' || c > '9' || size > (maxInt64-d)/10 {
			return 0, false, false
		}
		size = size*10 + d
	}
	return size, nonSync, true
}
