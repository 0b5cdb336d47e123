package store

import (
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/google/go-cmp/cmp"
)

func TestParseAddressList(t *testing.T) {
	grp := func(name string) imap.Address { return imap.Address{Mailbox: name} }
	end := imap.Address{}
	tests := []struct {
		in   string
		want []imap.Address
	}{
		{"user@domain", []imap.Address{{Mailbox: "user", Host: "domain"}}},
		{"Real Name <user@domain>", []imap.Address{{Name: "Real Name", Mailbox: "user", Host: "domain"}}},
		{`"Doe, John" <john.doe@example.org>`, []imap.Address{{Name: "Doe, John", Mailbox: "john.doe", Host: "example.org"}}},
		{"user@domain (Real Name)", []imap.Address{{Name: "Real Name", Mailbox: "user", Host: "domain"}}},
		// RFC 5322 3.4.1: comments inside the address are not part of it.
		{"<user-from (comment)@ (comment) domain.org>", []imap.Address{{Mailbox: "user-from", Host: "domain.org"}}},
		{"<@route:user@domain>", []imap.Address{{Mailbox: "user", Host: "domain"}}},
		// RFC 3501 7.4.2: groups keep their start and end markers.
		{"group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;", []imap.Address{
			grp("group"), {Mailbox: "g1", Host: "d1.org"}, {Mailbox: "g2", Host: "d2.org"}, end,
			grp("group2"), {Mailbox: "g3", Host: "d3.org"}, end,
		}},
		{"group:;, group2: (foo) ;", []imap.Address{grp("group"), end, grp("group2"), end}},
		{"groupname: groupuser1@domain.org, groupuser2@domain.org;,\r\n  groupname2: groupuser3@domain.org;", []imap.Address{
			grp("groupname"), {Mailbox: "groupuser1", Host: "domain.org"}, {Mailbox: "groupuser2", Host: "domain.org"}, end,
			grp("groupname2"), {Mailbox: "groupuser3", Host: "domain.org"}, end,
		}},
		{"a@b, c@d", []imap.Address{{Mailbox: "a", Host: "b"}, {Mailbox: "c", Host: "d"}}},
		{"=?utf-8?q?J=C3=B6rg?= Doe <j@d>", []imap.Address{{Name: "Jörg Doe", Mailbox: "j", Host: "d"}}},
		{"user@[192.0.2.1]", []imap.Address{{Mailbox: "user", Host: "[192.0.2.1]"}}},
		// What cannot be read is skipped up to the next comma.
		{"undisclosed-recipients, x@y", []imap.Address{{Mailbox: "x", Host: "y"}}},
		{"<broken, a@b", []imap.Address{{Mailbox: "a", Host: "b"}}},
		{"", nil},
		{"(only a comment)", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, parseAddressList(tt.in)); diff != "" {
			t.Errorf("parseAddressList(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestMatchAddressFields(t *testing.T) {
	tests := []struct {
		value, pattern string
		want           bool
	}{
		{"<user-from (comment)@ (comment) domain.org>", "user-from@domain.org", true},
		{"user-from@domain.org (RealFrom)", "realfrom", true},
		{"RealFrom <user-from@domain.org>", "realfrom <user-from", true},
		{"user-from1@domain.org, user-from2@domain.org", "user-from@domain.org", false},
		{"user (comment) @domain.org", "comment", false},
		{"undisclosed recipients", "undisclosed", true},
	}
	for _, tt := range tests {
		if got := matchAddressFields([]string{tt.value}, tt.pattern); got != tt.want {
			t.Errorf("matchAddressFields(%q, %q) = %v, want %v", tt.value, tt.pattern, got, tt.want)
		}
	}
}

// FuzzParseAddressList: any header value parses without a panic, and a
// group's markers always pair up.
func FuzzParseAddressList(f *testing.F) {
	for _, s := range []string{"a@b", "g: a@b;", "\"x\" <@r:a@b> (c)", "(((", "<", "g:;;,", "=?utf-8?q?=C3?= <a@b>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		open := false
		for _, a := range parseAddressList(s) {
			switch {
			case a.Host != "":
			case a.Mailbox != "":
				if open {
					t.Fatalf("%q: a group starts inside a group", s)
				}
				open = true
			default:
				if !open {
					t.Fatalf("%q: a group ends that never started", s)
				}
				open = false
			}
		}
		if open {
			t.Fatalf("%q: a group never ends", s)
		}
	})
}
