package faults

import "testing"

func TestValidMUTF7(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"INBOX", true},
		{"p&AOQA5A-", true},   // "pää"
		{"&-", true},          // "&"
		{"a&-b&AOQ-", true},   // "a&bä"
		{"&Jjo-!", true},      // "☺!"
		{"&2D3eAA-", true},    // a surrogate pair
		{"&", false},          // no end of shift
		{"&Jjo", false},       // no end of shift
		{"&AGE-", false},      // "a" must not be encoded
		{"&AOQ-&AOQ-", false}, // adjacent shifts
		{"&2D0-", false},      // an unpaired surrogate
		{"&AO-", false},       // an odd number of bytes
		{"!#$&'+,-.0123456789:;<=>?@^_`|[}%*", false},
		{"%*", true},
		{"caf\xc3\xa9", true}, // raw UTF-8 is accepted, as go-imap does
		{"bad\xff", false},
		{"tab\there", false},
	}
	for _, tt := range tests {
		if got := validMUTF7([]byte(tt.in)); got != tt.want {
			t.Errorf("validMUTF7(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"NIL", true},
		{"nil", true},
		{`("name" "Thunderbird" "version" "128.0")`, true},
		{`("name" NIL)`, true},
		{`()`, true},
		{`("name" "a \"quoted\" (value)")`, true},
		{`("name")`, false},
		{`(name "x")`, false},
		{`("name" "x"`, false},
		{`("name" "x)`, false},
		{``, false},
		{`"name"`, false},
	}
	for _, tt := range tests {
		if got := validID([]byte(tt.in)); got != tt.want {
			t.Errorf("validID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIDAnswer(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"name", "imapfault"}, `* ID ("name" "imapfault")` + "\r\n"},
		{[]string{"name", "GImap", "vendor", "Google, Inc."}, `* ID ("name" "GImap" "vendor" "Google, Inc.")` + "\r\n"},
		{[]string{"name", `a "b" \c`}, `* ID ("name" "a \"b\" \\c")` + "\r\n"},
		{[]string{"name"}, `* ID ("name" NIL)` + "\r\n"},
	}
	for _, tt := range tests {
		if got := idAnswer(tt.in); got != tt.want {
			t.Errorf("idAnswer(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCommandArgs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a1 LIST \"\" \"&\"\r\n", `"" "&"`},
		{"a1 ID NIL\r\n", "NIL"},
		{"a1 NOOP\r\n", ""},
	}
	for _, tt := range tests {
		if got := string(commandArgs([]byte(tt.in))); got != tt.want {
			t.Errorf("commandArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzLocalArgs: the checks on ID and LIST arguments never panic, and
// printable ASCII without "&" is always valid modified UTF-7.
func FuzzLocalArgs(f *testing.F) {
	for _, s := range []string{`"" "&"`, `("name" "x")`, "&AOQ-", `"\`, "&2D3eAA-", "(((", `"" (a "b&-")`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		validID([]byte(s))
		validMUTF7Args([]byte(s))
		plain := true
		for i := 0; i < len(s); i++ {
			plain = plain && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '&'
		}
		if plain && !validMUTF7([]byte(s)) {
			t.Fatalf("printable ASCII %q is not valid modified UTF-7", s)
		}
	})
}

// TestLocalReplyRelayed: in front of a real server (imapfault proxy) the
// wire layer answers nothing itself, so that the real server's answers
// to ID and to a LIST of an invalid name reach the client.
func TestLocalReplyRelayed(t *testing.T) {
	set, err := NewSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		line string
		name string
	}{
		{"a1 ID NIL\r\n", "ID"},
		{"a2 LIST \"\" \"&\"\r\n", "LIST"},
	} {
		for _, relayed := range []bool{false, true} {
			c := newConn(set, nil, 1, &ConnOptions{ID: []string{"name", "imapfault"}, Relayed: relayed})
			c.phase = phaseAuthenticated
			got := c.localReply(&Command{Tag: "a", Name: tt.name}, []byte(tt.line))
			if (got == nil) != relayed {
				t.Errorf("relayed=%v: localReply(%q) = %q, want an answer only when not relayed", relayed, tt.line, got)
			}
		}
	}
}
