package bench

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestZZProfile(t *testing.T) {
	file := os.Getenv("PROF_SCENARIO")
	if file == "" {
		t.Skip()
	}
	tg := serve(t, file)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	r, err := Load(ctx, tg, LoadOptions{Clients: 10, Duration: 5 * time.Second})
	t.Logf("%v sessions/s, err %v %d", r.PerSecond(), err, r.Errors)
	for _, c := range Commands {
		t.Logf("%s p50 %v p99 %v", c, r.Latency[c].Quantile(.5), r.Latency[c].Quantile(.99))
	}
}
