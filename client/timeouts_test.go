package client

import (
	"strings"
	"testing"
	"time"

	"github.com/imapfault/imapfault/client/phase"
)

// TestPhaseTimeoutsOptions: a phase timeout names a phase of the walk and
// is positive; the idle hold must fit the idle phase's own bound.
func TestPhaseTimeoutsOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string // "" for none
	}{
		{"one phase", Options{PhaseTimeouts: map[phase.Phase]time.Duration{"greeting": time.Second}}, ""},
		{"unknown phase", Options{PhaseTimeouts: map[phase.Phase]time.Duration{"login": time.Second}}, `phase "login": no such phase`},
		{"zero", Options{PhaseTimeouts: map[phase.Phase]time.Duration{"auth": 0}}, "not a positive duration"},
		{"hold within the idle bound", Options{StepTimeout: time.Second, IdleHold: 2 * time.Second, PhaseTimeouts: map[phase.Phase]time.Duration{"idle": 4 * time.Second}}, ""},
		{"hold past the idle bound", Options{IdleHold: 2 * time.Second, PhaseTimeouts: map[phase.Phase]time.Duration{"idle": time.Second}}, "half the idle phase's timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Addr = "127.0.0.1:143"
			o, err := tt.opts.withDefaults()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("withDefaults() = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("withDefaults() = %v, want an error containing %q", err, tt.wantErr)
			case err == nil:
				for ph, d := range tt.opts.PhaseTimeouts {
					if got := o.timeout(ph); got != d {
						t.Errorf("timeout(%s) = %v, want %v", ph, got, d)
					}
				}
				if got := o.timeout(phase.Connect); got != o.StepTimeout {
					t.Errorf("timeout(connect) = %v, want the step timeout %v", got, o.StepTimeout)
				}
			}
		})
	}
}
