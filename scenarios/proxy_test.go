package scenarios

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestForProxy(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // "line: key" of each error
	}{
		{"faults and certificate", "name = \"p\"\ndescription = \"d\"\n[server]\ncertificate = \"expired\"\nhostnames = [\"mail.example.com\"]\n[[faults]]\nwhen = { command = \"LOGIN\" }\nrespond = \"NO x\"\n", nil},
		{"flavor", "flavor = \"gmail\"\n[[faults]]\nstall = true\n", []string{"1: flavor"}},
		{"replay and client", "[[faults]]\nstall = true\n[client]\ntimeout = \"5s\"\n[replay]\ngreeting = \"* OK hi\"\n", []string{"3: client", "5: replay"}},
		{"server limits and capabilities", "[server]\ncapabilities = [\"IMAP4rev1\"]\n[server.limits]\nmax_line = 100\n", []string{"2: server.capabilities", "3: server.limits"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.toml", []byte(tt.src), nil, ForProxy)
			var got []string
			if err != nil {
				for _, line := range strings.Split(err.Error(), "\n") {
					if !strings.Contains(line, "means nothing in front of a real server") {
						t.Errorf("unexpected error %q", line)
						continue
					}
					head, _, _ := strings.Cut(strings.TrimPrefix(line, "p.toml:"), ": means")
					got = append(got, head)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
