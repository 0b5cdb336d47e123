package faults

import (
	"strings"
	"testing"
	"time"
)

func TestWhenPoint(t *testing.T) {
	tests := []struct {
		w    When
		want Point
	}{
		{When{}, PointConnect},
		{When{Connection: 2}, PointConnect},
		{When{Phase: PhaseGreeting}, PointGreeting},
		{When{Command: "LOGIN"}, PointCommand},
		{When{Command: "LOGIN", Reply: "OK"}, PointReply},
		{When{AfterBytes: 10}, PointBytes},
		{When{After: time.Second}, PointTimer},
		{When{Phase: PhaseIdle, After: time.Second}, PointTimer},
		{When{Phase: PhaseIdle}, PointPhase},
	}
	for _, tt := range tests {
		if got := tt.w.Point(); got != tt.want {
			t.Errorf("%+v.Point() = %v, want %v", tt.w, got, tt.want)
		}
	}
}

func TestWhenValidate(t *testing.T) {
	tests := []struct {
		w    When
		want string // "" for valid
	}{
		{When{Command: "LOGIN", Nth: 2}, ""},
		{When{Phase: "selected"}, ""},
		{When{Phase: "logged-in"}, `unknown phase "logged-in"`},
		{When{Nth: 2}, "set when.command too"},
		{When{Reply: "OK"}, "needs when.command"},
		{When{Command: "LOGIN", Reply: "YES"}, "not a tagged status"},
		{When{Probability: 1.5}, "outside 0..1"},
		{When{After: -time.Second}, "must not be negative"},
		// Two triggers: Point used to pick one and ignore the other.
		{When{Command: "LOGIN", After: 5 * time.Second, AfterBytes: 10}, "command and after_bytes are two triggers"},
		{When{Command: "LOGIN", Every: time.Second}, "command and every are two triggers"},
		{When{AfterBytes: 10, After: time.Second}, "after_bytes and after are two triggers"},
		{When{AfterBytes: 10, Phase: PhaseIdle}, "when.phase: has no effect beside after_bytes"},
		{When{Command: "LOGIN", Phase: PhaseNotAuthenticated, Nth: 1, Connection: 2, First: 1, Probability: 0.5, Seed: 3}, ""},
		{When{Phase: PhaseIdle, Every: time.Second, First: 2}, ""},
		{When{Seed: 7}, "set when.probability too"},
		// Command names are IMAP's, with a hint for a typo.
		{When{Command: "FECTH"}, `"FECTH" is not an IMAP command: did you mean FETCH?`},
		{When{Command: "uid fecth"}, `did you mean UID FETCH?`},
		{When{Command: "UID LOGIN"}, "is not an IMAP command"},
		{When{Command: "XYZZY"}, "is not an IMAP command: (allowed: APPEND"},
		{When{Command: "uid fetch"}, ""},
		{When{Command: "LOGIN\r\n"}, "is not an IMAP command"},
	}
	for _, tt := range tests {
		err := tt.w.Validate()
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v.Validate() = %v, want %q", tt.w, err, tt.want)
		}
	}
}

// TestWhenValidateFor: an action that applies while its when holds (a
// filter) rejects the keys that time one firing, which it would ignore.
func TestWhenValidateFor(t *testing.T) {
	tests := []struct {
		w    When
		a    Action
		want string
	}{
		{When{Command: "FETCH", Nth: 2, Phase: PhaseSelected, First: 1}, &Rewrite{}, ""},
		{When{After: time.Second}, &Rewrite{}, "when.after: has no effect on rewrite, which applies while its when holds"},
		{When{AfterBytes: 10}, &Throttle{}, "when.after_bytes: has no effect on throttle"},
		{When{Command: "LOGIN", Reply: "OK"}, &Capabilities{}, "when.reply: has no effect on capabilities"},
		{When{After: time.Second}, &Drop{}, ""},
		{When{Command: "IDLE"}, &Ignore{}, ""},
		{When{Phase: PhaseIdle}, &Ignore{}, "when.command: ignore acts on a command as it arrives"},
		{When{Command: "IDLE", Reply: "OK"}, &Ignore{}, "without reply"},
		{When{Command: "FECTH"}, &Rewrite{}, "did you mean FETCH?"},
	}
	for _, tt := range tests {
		err := tt.w.ValidateFor(tt.a)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v.ValidateFor(%s) = %v, want %q", tt.w, tt.a.Kind(), err, tt.want)
		}
	}
}

// TestWhenTriggersMatchPoint ties the table of valid combinations to
// Point: each trigger's keys lead Point to the trigger's point, so that
// the two cannot drift apart.
func TestWhenTriggersMatchPoint(t *testing.T) {
	set := map[string]func(w *When){
		"command":     func(w *When) { w.Command = "LOGIN" },
		"after_bytes": func(w *When) { w.AfterBytes = 1 },
		"after":       func(w *When) { w.After = time.Second },
		"every":       func(w *When) { w.Every = time.Second },
		"phase":       func(w *When) { w.Phase = PhaseIdle },
	}
	for _, tr := range whenTriggers {
		for _, k := range tr.keys {
			var w When
			set[k](&w)
			if err := w.Validate(); err != nil {
				t.Errorf("when { %s } does not validate: %v", k, err)
			}
			if got := w.Point(); got != tr.point {
				t.Errorf("when { %s }.Point() = %v, want %v as whenTriggers says", k, got, tr.point)
			}
		}
	}
}

func TestWhenCommandMatch(t *testing.T) {
	tests := []struct {
		command, name string
		want          bool
	}{
		{"fetch", "UID FETCH", true},
		{"UID FETCH", "FETCH", false},
		// A refused login must refuse clients that log in with AUTHENTICATE.
		{"LOGIN", "AUTHENTICATE", true},
		{"AUTHENTICATE", "LOGIN", false},
	}
	for _, tt := range tests {
		if got := (When{Command: tt.command}).matchCommand(tt.name); got != tt.want {
			t.Errorf("When{Command: %q}.matchCommand(%q) = %v, want %v", tt.command, tt.name, got, tt.want)
		}
	}
}

// TestArmedFirstAndProbability: First caps the count over the whole run;
// a seeded probability gives the same sequence every time.
func TestArmedFirstAndProbability(t *testing.T) {
	a := newArmed(Fault{When: When{First: 2}, Action: &Drop{Drop: "fin"}}, 0)
	got := []bool{a.take(), a.take(), a.take()}
	if !got[0] || !got[1] || got[2] {
		t.Errorf("first=2 fired %v", got)
	}
	draw := func() (s string) {
		a := newArmed(Fault{When: When{Probability: 0.5, Seed: 42}, Action: &Drop{Drop: "fin"}}, 0)
		for i := 0; i < 32; i++ {
			if a.take() {
				s += "1"
			} else {
				s += "0"
			}
		}
		return s
	}
	first, second := draw(), draw()
	if first != second || !strings.Contains(first, "1") || !strings.Contains(first, "0") {
		t.Errorf("seeded draws %s and %s: want equal and mixed", first, second)
	}
}

// TestKindsSorted: LookupKind searches the table by binary search.
func TestKindsSorted(t *testing.T) {
	for i := 1; i < len(Kinds); i++ {
		if Kinds[i-1].Name >= Kinds[i].Name {
			t.Errorf("Kinds not sorted at %q, %q", Kinds[i-1].Name, Kinds[i].Name)
		}
	}
	for _, k := range Kinds {
		if got := k.New().Kind(); got != k.Name {
			t.Errorf("Kinds[%q].New().Kind() = %q", k.Name, got)
		}
	}
	if _, err := LookupKind("dlay"); err == nil || !strings.Contains(err.Error(), "known: capabilities, delay") {
		t.Errorf("LookupKind(dlay) = %v", err)
	}
}

// TestSetAtConnect: the server runs a connection's set-up in its accept
// loop only when no fault can make Connect wait.
func TestSetAtConnect(t *testing.T) {
	noIdle := &Capabilities{}
	noIdle.Capabilities.Remove = []string{"IDLE"}
	tests := []struct {
		name   string
		faults []Fault
		want   bool
	}{
		{"none", nil, false},
		{"delay at accept", []Fault{{Action: &Delay{Delay: time.Second}}}, true},
		{"banner on the second connection", []Fault{{When: When{Connection: 2}, Action: &Write{Write: "SSH-2.0-OpenSSH_9.6"}}}, true},
		{"delay before the greeting", []Fault{{When: When{Phase: PhaseGreeting}, Action: &Delay{Delay: time.Second}}}, false},
		{"drop after LOGIN", []Fault{{When: When{Command: "LOGIN"}, Action: &Drop{Drop: "rst"}}}, false},
		{"stall after a second", []Fault{{When: When{After: time.Second}, Action: &Stall{Stall: true}}}, false},
		{"capabilities", []Fault{{Action: noIdle}}, false},
	}
	for _, tt := range tests {
		set, err := NewSet(tt.faults)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := set.AtConnect(); got != tt.want {
			t.Errorf("%s: AtConnect() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
