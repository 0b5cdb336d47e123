package scenarios

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/faults"
)

func TestParseFault(t *testing.T) {
	f, err := ParseFault([]byte(`{"when": {"command": "LOGIN", "first": 2}, "respond": "NO [UNAVAILABLE] try later"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := faults.Fault{When: faults.When{Command: "LOGIN", First: 2}, Action: &faults.Respond{Respond: "NO [UNAVAILABLE] try later"}}
	if d := cmp.Diff(want, f); d != "" {
		t.Errorf("ParseFault (-want +got):\n%s", d)
	}
	f, err = ParseFault([]byte(`{"when": {"phase": "idle", "after": "1.5s"}, "drop": "rst"}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.When.After.Seconds() != 1.5 {
		t.Errorf("after = %v, want 1.5s", f.When.After)
	}
}

// TestParseFaultErrors: a fault sent alone gets the message the same
// mistake gets in a scenario file, naming the key, without a line.
func TestParseFaultErrors(t *testing.T) {
	fileErr := func(fault string) string {
		_, err := Parse("s.toml", []byte("[[faults]]\n"+fault), nil)
		if err == nil {
			t.Fatalf("scenario with %q parsed", fault)
		}
		_, msg, _ := strings.Cut(err.Error(), ": ")
		return msg
	}
	tests := []struct {
		name, json string
		file       string // the same fault in TOML: its message must match
		want       string
	}{
		{"nth without command", `{"when": {"nth": 2}, "drop": "fin"}`, "when = { nth = 2 }\ndrop = \"fin\"", "when: when.nth: counts occurrences"},
		{"bad respond", `{"respond": "MAYBE"}`, `respond = "MAYBE"`, `respond: respond: "MAYBE" must start with a status`},
		{"no action", `{"when": {"command": "LOGIN"}}`, `when = { command = "LOGIN" }`, "no action: a fault needs one of"},
		{"two actions", `{"respond": "NO x", "drop": "fin"}`, "respond = \"NO x\"\ndrop = \"fin\"", "drop and respond are two actions"},
		{"unknown key in when", `{"when": {"comand": "LOGIN"}, "drop": "fin"}`, "when = { comand = \"LOGIN\" }\ndrop = \"fin\"", `when.comand: unknown key "comand" (allowed: command,`},
		{"wrong type", `{"when": {"first": "two"}, "drop": "fin"}`, "when = { first = \"two\" }\ndrop = \"fin\"", "when.first: want an integer, got the string"},
		{"null", `{"when": null, "drop": "fin"}`, "", "when: null is not a value here"},
		{"not an object", `["respond"]`, "", "a fault is a JSON object"},
		{"not JSON", `{"respond": `, "", "not JSON"},
		{"trailing data", `{"drop": "fin"} {}`, "", "not JSON: one object expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFault([]byte(tt.json))
			if err == nil {
				t.Fatal("accepted")
			}
			got := strings.TrimPrefix(err.Error(), faultSource+": ")
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("error %q, want it to start %q", got, tt.want)
			}
			if tt.file != "" {
				fileMsg := fileErr(tt.file)
				// The file's message names faults[0] and a line; the
				// rest must be the same words.
				_, fileMsg, _ = strings.Cut(fileMsg, "faults[0]")
				fileMsg = strings.TrimPrefix(fileMsg, ".")
				fileMsg = strings.TrimPrefix(fileMsg, ": ")
				got, _, _ = strings.Cut(got, "\n")
				fileMsg, _, _ = strings.Cut(fileMsg, "\n")
				if got != fileMsg {
					t.Errorf("JSON error %q differs from the file's %q", got, fileMsg)
				}
			}
		})
	}
}

func FuzzParseFault(f *testing.F) {
	f.Add([]byte(`{"when": {"command": "LOGIN", "first": 2}, "respond": "NO [UNAVAILABLE] try later"}`))
	f.Add([]byte(`{"when": {"phase": "idle", "after": "1s"}, "drop": "rst"}`))
	f.Add([]byte(`{"capabilities": {"remove": ["IDLE"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fault, err := ParseFault(data)
		if err != nil {
			return
		}
		if fault.Action == nil {
			t.Fatal("no error and no action")
		}
		if err := fault.Action.Validate(); err != nil {
			t.Fatalf("accepted an invalid action: %v", err)
		}
		if err := fault.When.Validate(); err != nil {
			t.Fatalf("accepted an invalid when: %v", err)
		}
	})
}

// TestFaultTableRoundTrip: a fault rendered as a table parses back to
// itself.
func TestFaultTableRoundTrip(t *testing.T) {
	for _, src := range []string{
		`{"when": {"command": "LOGIN", "first": 2}, "respond": "NO [UNAVAILABLE] try later"}`,
		`{"when": {"phase": "idle", "after": "1.5s"}, "drop": "rst"}`,
		`{"capabilities": {"remove": ["IDLE"]}}`,
	} {
		f, err := ParseFault([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		table, err := FaultTable(f)
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(table)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseFault(data)
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if d := cmp.Diff(f, back); d != "" {
			t.Errorf("%s round trip (-want +got):\n%s", data, d)
		}
	}
}
