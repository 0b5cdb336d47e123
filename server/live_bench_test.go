package server

import (
	"testing"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/scenarios"
)

// BenchmarkSetScenario is the server time of a scenario switch (the
// control API's PUT /api/scenario without HTTP): from the call to the
// scenario being the next connection's. Target: under 1 ms.
func BenchmarkSetScenario(b *testing.B) {
	srv := NewTest(b, benchScenario(b, "plain.toml"))
	scs := []*scenarios.Scenario{benchScenario(b, "plain.toml"), benchScenario(b, "neverfire.toml")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := srv.SetScenario(scs[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddFault is the server time of adding a live fault and
// removing it again (POST and DELETE /api/faults without HTTP), with ten
// live faults in place. Target: under 1 ms each.
func BenchmarkAddFault(b *testing.B) {
	srv := NewTest(b, benchScenario(b, "plain.toml"))
	f := faults.Fault{When: faults.When{Command: "LOGIN", First: 1}, Action: &faults.Respond{Respond: "NO [UNAVAILABLE] try later"}}
	for range 10 {
		if _, err := srv.AddFault(f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		lf, err := srv.AddFault(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.RemoveFault(lf.ID); err != nil {
			b.Fatal(err)
		}
	}
}
