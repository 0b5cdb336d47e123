package bench

import (
	"context"
	"testing"
	"time"

	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
)

func serve(t *testing.T, file string) Target {
	t.Helper()
	data, err := Scenarios.ReadFile("scenarios/" + file)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Parse(file, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.NewTest(t, sc)
	return Target{Addr: srv.Addr(), User: sc.Users[0].Name, Password: sc.Users[0].Password}
}

func TestLoad(t *testing.T) {
	for _, file := range []string{"plain.toml", "neverfire.toml"} {
		t.Run(file, func(t *testing.T) {
			tg := serve(t, file)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			r, err := Load(ctx, tg, LoadOptions{Clients: 3, Duration: 100 * time.Millisecond})
			if err != nil || r.Errors > 0 || r.Sessions == 0 {
				t.Fatalf("Load() = %d sessions, %d errors (first: %v), %v; want sessions and no error", r.Sessions, r.Errors, r.FirstErr, err)
			}
			for _, cmd := range Commands {
				if got := len(r.Latency[cmd]); got != r.Sessions {
					t.Errorf("%s latencies = %d, want one per session (%d)", cmd, got, r.Sessions)
				}
			}
		})
	}
}

func TestHoldIdle(t *testing.T) {
	tg := serve(t, "plain.toml")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	h, err := HoldIdle(ctx, tg, 20, 4, []string{"127.0.0.1", "127.0.0.2"})
	defer h.Close()
	if err != nil || h.Len() != 20 {
		t.Fatalf("HoldIdle() holds %d, err %v; want 20", h.Len(), err)
	}
}

func TestQuantile(t *testing.T) {
	l := Latencies{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if got := l.Quantile(0.5); got != 6 {
		t.Errorf("Quantile(0.5) = %v, want 6", got)
	}
	if got := l.Quantile(0.99); got != 10 {
		t.Errorf("Quantile(0.99) = %v, want 10", got)
	}
	if got := (Latencies{}).Quantile(0.5); got != 0 {
		t.Errorf("empty Quantile = %v, want 0", got)
	}
}

// TestSteps times whole-mailbox commands on one connection and counts
// the bytes of their responses.
func TestSteps(t *testing.T) {
	tg := serve(t, "plain.toml")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got, err := Steps(ctx, tg, []Step{
		{Name: "select", Command: "SELECT INBOX"},
		{Name: "fetch flags", Command: "FETCH 1:* (FLAGS)"},
		{Name: "fetch bodies", Command: "FETCH 1:* (BODY.PEEK[])"},
	})
	if err != nil || len(got) != 3 {
		t.Fatalf("Steps() = %d steps, %v; want 3", len(got), err)
	}
	for _, s := range got {
		if s.Took <= 0 || s.Bytes == 0 {
			t.Errorf("%s: took %v, read %d bytes; want both above zero", s.Name, s.Took, s.Bytes)
		}
	}
	// The bodies are 20 whole messages, much more than their flags.
	if got[2].Bytes < 10*got[1].Bytes {
		t.Errorf("FETCH bodies read %d bytes, FETCH FLAGS %d: the literals were not counted", got[2].Bytes, got[1].Bytes)
	}
	if _, err := Steps(ctx, tg, []Step{{Name: "bad", Command: "FETCH x:y (FLAGS)"}}); err == nil {
		t.Error("Steps() with a failing command: no error")
	}
}
