package spell

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestClosest(t *testing.T) {
	list := []string{"FETCH", "STORE", "SELECT", "auth.failed", "auth.expired"}
	tests := []struct{ in, want string }{
		{"FECTH", "FETCH"},   // transposition
		{"FETC", "FETCH"},    // deletion
		{"SELCET", "SELECT"}, // transposition
		{"STOER", "STORE"},   // transposition
		{"auth.faild", "auth.failed"},
		{"XYZZY", ""}, // nothing near
		{"ID", ""},    // too short to guess
		{"", ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.in, list); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
