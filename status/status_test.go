package status

import (
	"testing"
	"time"

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

func TestRange(t *testing.T) {
	tests := []struct {
		spec   string
		alerts []float64
		quiet  []float64
	}{
		{"10", []float64{-1, 10.5, 11}, []float64{0, 5, 10}},
		{"10:", []float64{9.9, -3}, []float64{10, 1e9}},
		{"~:10", []float64{10.1}, []float64{-1e9, 10}},
		{"10:20", []float64{9, 21}, []float64{10, 15, 20}},
		{"@10:20", []float64{10, 15, 20}, []float64{9, 21}},
		{"@5", []float64{0, 5}, []float64{-1, 6}},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.spec)
		if err != nil {
			t.Fatalf("ParseRange(%q) = %v", tt.spec, err)
		}
		for _, v := range tt.alerts {
			if !r.Alerts(v) {
				t.Errorf("range %q: Alerts(%v) = false, want true", tt.spec, v)
			}
		}
		for _, v := range tt.quiet {
			if r.Alerts(v) {
				t.Errorf("range %q: Alerts(%v) = true, want false", tt.spec, v)
			}
		}
	}
	for _, bad := range []string{"", "@", "x", "1:x", "5:1", "NaN", "Inf"} {
		if _, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) = nil error", bad)
		}
	}
	if (Range{}).Alerts(1e9) {
		t.Error("an unset range alerts")
	}
}

func TestJudge(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rep := &client.Report{Duration: 3 * time.Second, Diagnosis: client.Diagnosis{Code: client.CodeOK},
		Steps: []client.Step{{Phase: "auth", Duration: 2 * time.Second, OK: true}},
		TLS:   &client.TLSInfo{NotAfter: now.Add(10 * 24 * time.Hour)}}
	th := func(pairs map[string]string) Thresholds {
		t.Helper()
		x, err := ParseThresholds(pairs)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	tests := []struct {
		name     string
		warn     map[string]string
		crit     map[string]string
		rep      *client.Report
		want     State
		breaches int
	}{
		{"none", nil, nil, rep, OK, 0},
		{"total warns", map[string]string{"total": "2"}, nil, rep, Warning, 1},
		{"step and cert critical", map[string]string{"total": "2"}, map[string]string{"auth": "1", "cert_days": "14:"}, rep, Critical, 2},
		{"a failed check stays critical with no breach", map[string]string{"total": "2"}, nil,
			&client.Report{Diagnosis: client.Diagnosis{Code: client.CodeAuthFailed}}, Critical, 0},
	}
	for _, tt := range tests {
		got, breaches := Judge(tt.rep, th(tt.warn), th(tt.crit), now)
		if got != tt.want || len(breaches) != tt.breaches {
			t.Errorf("%s: Judge() = %v %q, want %v and %d breaches", tt.name, got, breaches, tt.want, tt.breaches)
		}
	}
}
