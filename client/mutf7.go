package client

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
)

var mutf7Enc = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// encodeMailbox encodes a mailbox name in modified UTF-7 (RFC 3501
// §5.1.3), as servers expect it until UTF8=ACCEPT is enabled, which the
// tester never does.
func encodeMailbox(s string) string {
	var b strings.Builder
	var run []rune
	flush := func() {
		if len(run) == 0 {
			return
		}
		u := utf16.Encode(run)
		buf := make([]byte, 2*len(u))
		for i, c := range u {
			buf[2*i], buf[2*i+1] = byte(c>>8), byte(c)
		}
		b.WriteByte('&')
		b.WriteString(mutf7Enc.EncodeToString(buf))
		b.WriteByte('-')
		run = run[:0]
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			run = append(run, r)
			continue
		}
		flush()
		if r == '&' {
			b.WriteString("&-")
		} else {
			b.WriteRune(r)
		}
	}
	flush()
	return b.String()
}
