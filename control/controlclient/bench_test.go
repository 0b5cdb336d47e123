package controlclient

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/imapfault/imapfault/bench"
	"github.com/imapfault/imapfault/control"
	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
)

// BenchmarkAPIBesideClients makes control API calls (a fault added, the
// state read, the fault removed: three calls per op) alone and while ten
// IMAP clients run the load generator's sessions on the same server. It
// reports the API calls per second and the p99 of the clients' commands.
// Targets: 1,000 calls/s, p99 under 5 ms.
func BenchmarkAPIBesideClients(b *testing.B) {
	for _, clients := range []int{0, 10} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchAPI(b, clients) })
	}
}

func benchAPI(b *testing.B, clients int) {
	data, err := bench.Scenarios.ReadFile("scenarios/plain.toml")
	if err != nil {
		b.Fatal(err)
	}
	sc, err := scenarios.Parse("plain.toml", data, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv := server.NewTest(b, sc)
	h, err := control.New([]control.Target{{Name: "plain", Server: srv}}, control.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	api := New(ts.URL, Options{})
	target := bench.Target{Addr: srv.Addr(), User: sc.Users[0].Name, Password: sc.Users[0].Password}

	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				err := bench.Session(ctx, target, false, func(_ string, d time.Duration) {
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				})
				if err != nil && ctx.Err() == nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	fault := `{"when": {"command": "NOOP", "nth": 1000}, "respond": "NO never"}`
	start := time.Now()
	for b.Loop() {
		f, err := api.AddFault(ctx, fault)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := api.State(ctx); err != nil {
			b.Fatal(err)
		}
		if err := api.RemoveFault(ctx, f.ID); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	b.ReportMetric(float64(3*b.N)/elapsed.Seconds(), "api-calls/s")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "imap-p99-ms")
		b.ReportMetric(float64(len(lat)), "imap-commands")
	}
}
