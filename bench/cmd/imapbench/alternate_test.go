package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestABRatios checks that each round's B and second A are compared with
// that round's A, not with a median taken apart.
func TestABRatios(t *testing.T) {
	r := abResult{a: []float64{100, 200, 100}, b: []float64{110, 260, 90}, aa: []float64{100, 180, 105}}
	ab, aa := r.ratios()
	if diff := cmp.Diff([]float64{-10, 10, 30}, round(ab)); diff != "" {
		t.Errorf("A/B ratios (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{-10, 0, 5}, round(aa)); diff != "" {
		t.Errorf("A/A ratios (-want +got):\n%s", diff)
	}
}

func round(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(int(x*1000+0.5*sign(x))) / 1000
	}
	return out
}

func sign(x float64) float64 {
	if x < 0 {
		return -1
	}
	return 1
}

func TestSpread(t *testing.T) {
	tests := []struct {
		v    []float64
		want string
	}{
		{nil, "–"},
		{[]float64{3}, "3.0 (one run)"},
		{[]float64{1, 2, 4, 8}, "3.0 (1.0 to 8.0, 4 runs)"},
		{[]float64{1, 2, 9}, "2.0 (1.0 to 9.0, 3 runs)"},
	}
	for _, tt := range tests {
		if got := spread(tt.v, "%.1f"); got != tt.want {
			t.Errorf("spread(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
