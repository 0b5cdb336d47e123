package store

import (
	"reflect"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// TestValidFlag: the bare FETCH writes only flags go-imap's encoder would
// (isValidFlag: one atom, a backslash allowed first); any other makes the
// FETCH go through go-imap, which refuses it as before.
func TestValidFlag(t *testing.T) {
	tests := []struct {
		flag imap.Flag
		want bool
	}{
		{imap.FlagSeen, true},
		{"$Forwarded", true},
		{"NonJunk", true},
		{"Müll", true}, // bytes >= 0xa0 are atom chars to go-imap
		{"", false},
		{"two words", false},
		{`a\b`, false},
		{"(x", false},
		{"x)", false},
		{"{3}", false},
		{"50%", false},
		{"a*", false},
		{`"q"`, false},
		{"a]", false},
		{"tab\t", false},
		{"del\x7f", false},
		{"c1\x85", false},
	}
	for _, tt := range tests {
		if got := validFlag(tt.flag); got != tt.want {
			t.Errorf("validFlag(%q) = %v, want %v", tt.flag, got, tt.want)
		}
	}
}

// TestBareFetch: only a FETCH of flags and UIDs skips go-imap's writer.
func TestBareFetch(t *testing.T) {
	// A field go-imap adds to FetchOptions is a FETCH item bareFetch
	// does not know, and would write without.
	if n := reflect.TypeFor[imap.FetchOptions]().NumField(); n != 11 {
		t.Fatalf("imap.FetchOptions has %d fields, bareFetch knows 11: teach it the new ones", n)
	}
	tests := []struct {
		name string
		o    imap.FetchOptions
		want bool
	}{
		{"flags", imap.FetchOptions{Flags: true}, true},
		{"uid", imap.FetchOptions{UID: true}, true},
		{"both", imap.FetchOptions{UID: true, Flags: true}, true},
		{"size", imap.FetchOptions{Flags: true, RFC822Size: true}, false},
		{"date", imap.FetchOptions{Flags: true, InternalDate: true}, false},
		{"envelope", imap.FetchOptions{Envelope: true}, false},
		{"structure", imap.FetchOptions{BodyStructure: &imap.FetchItemBodyStructure{}}, false},
		{"body", imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}, false},
		{"binary", imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{{}}}, false},
		{"binary size", imap.FetchOptions{BinarySectionSize: []*imap.FetchItemBinarySectionSize{{}}}, false},
		{"modseq", imap.FetchOptions{Flags: true, ModSeq: true}, false},
		{"changedsince", imap.FetchOptions{Flags: true, ChangedSince: 3}, false},
	}
	for _, tt := range tests {
		if got := bareFetch(&tt.o); got != tt.want {
			t.Errorf("%s: bareFetch = %v, want %v", tt.name, got, tt.want)
		}
	}
}
