package status

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/imapfault/imapfault/client"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestOf(t *testing.T) {
	warn := []client.Diagnosis{{Code: client.CodeAuthSlow}}
	tests := []struct {
		name string
		rep  client.Report
		want State
	}{
		{"ok", client.Report{Diagnosis: client.Diagnosis{Code: client.CodeOK}}, OK},
		{"warning", client.Report{Diagnosis: client.Diagnosis{Code: client.CodeOK}, Warnings: warn}, Warning},
		{"failed with warnings", client.Report{Diagnosis: client.Diagnosis{Code: client.CodeAuthFailed}, Warnings: warn}, Critical},
		{"canceled", client.Report{Diagnosis: client.Diagnosis{Code: client.CodeCheckCanceled}}, Unknown},
	}
	for _, tt := range tests {
		if got := Of(&tt.rep); got != tt.want {
			t.Errorf("Of(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestStateText(t *testing.T) {
	for _, s := range []State{OK, Warning, Critical, Unknown} {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back State
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("UnmarshalText(%s) = %v, %v; want %v", b, back, err, s)
		}
	}
	if _, err := State(7).MarshalText(); err == nil {
		t.Error("MarshalText(7) = nil error")
	}
	if _, err := Parse("down"); err == nil {
		t.Error(`Parse("down") = nil error`)
	}
}
