package phase

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestValid(t *testing.T) {
	for _, p := range All() {
		if !Valid(string(p)) {
			t.Errorf("Valid(%q) = false", p)
		}
	}
	for _, name := range []string{"", "Connect", "login", "delete "} {
		if Valid(name) {
			t.Errorf("Valid(%q) = true", name)
		}
	}
	if len(Names()) != len(All()) {
		t.Errorf("Names() has %d names for %d phases", len(Names()), len(All()))
	}
}
