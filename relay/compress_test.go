package relay

import (
	"bytes"
	"testing"
)

func TestStripCompress(t *testing.T) {
	tests := []struct{ in, want string }{
		{"* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE IDLE\r\n", "* CAPABILITY IMAP4rev1 IDLE\r\n"},
		{"* OK [CAPABILITY IMAP4rev1 compress=deflate] hi\r\n", "* OK [CAPABILITY IMAP4rev1] hi\r\n"},
		{"a OK [CAPABILITY COMPRESS=DEFLATE COMPRESS=X IDLE] done\n", "a OK [CAPABILITY IDLE] done\n"},
		{"* 1 FETCH (BODY[] \"COMPRESS=DEFLATE\")\r\n", "* 1 FETCH (BODY[] \"COMPRESS=DEFLATE\")\r\n"},
		{"* OK [CAPABILITY COMPRESS=DEFLATE\r\n", "* OK [CAPABILITY COMPRESS=DEFLATE\r\n"},
		{"* OK no caps\r\n", "* OK no caps\r\n"},
	}
	for _, tt := range tests {
		if got := string(stripCompress([]byte(tt.in))); got != tt.want {
			t.Errorf("stripCompress(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzStripCompress checks that stripping COMPRESS keeps a line a line,
// whatever the upstream sends.
func FuzzStripCompress(f *testing.F) {
	f.Add([]byte("* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n"))
	f.Add([]byte("* CAPABILITY compress=deflate IDLE\n"))
	f.Add([]byte("a OK [CAPABILITY COMPRESS=DEFLATE\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		i := bytes.IndexByte(in, '\n')
		if i < 0 {
			return
		}
		line := in[:i+1]
		s := stripCompress(line)
		if bytes.Count(s, []byte("\n")) != 1 || s[len(s)-1] != '\n' {
			t.Fatalf("stripCompress(%q) = %q: not one line", line, s)
		}
	})
}
