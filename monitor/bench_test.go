package monitor

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/imapfault/imapfault/client"
)

// BenchmarkProbeOverhead is what /probe adds to a check: the HTTP round
// trip on loopback, a fresh registry, the metrics and their encoding. The
// check itself is replaced by one that returns a full report at once.
//
//	go test -run '^$' -bench ProbeOverhead ./monitor
func BenchmarkProbeOverhead(b *testing.B) {
	cfg, err := ParseConfig("bench.toml", []byte("[[targets]]\nname = \"acme\"\naddress = \"127.0.0.1:993\"\n"))
	if err != nil {
		b.Fatal(err)
	}
	rep := &client.Report{Target: "127.0.0.1:993", Duration: 50 * time.Millisecond,
		Diagnosis: client.Diagnosis{Code: client.CodeOK, Phase: "logout"},
		TLS:       &client.TLSInfo{Version: "TLS 1.3", NotAfter: time.Now().Add(90 * 24 * time.Hour)}}
	for _, p := range []string{"connect", "tls", "greeting", "capability", "auth", "list", "select", "fetch", "idle", "logout"} {
		rep.Steps = append(rep.Steps, client.Step{Phase: p, Duration: 5 * time.Millisecond, OK: true})
	}
	m, err := New(context.Background(), Options{Config: cfg, Getenv: getenv,
		Check: func(context.Context, client.Options) (*client.Report, error) { return rep, nil }})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	m.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	url := srv.URL + "/probe?target=acme"
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // measuring
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
	}
}
