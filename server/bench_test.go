package server

import (
	"testing"

	"github.com/imapfault/imapfault/scenarios"
)

// BenchmarkStartStop measures one scenario's server start and stop, TLS
// included, with the run's CA made once as verify does.
func BenchmarkStartStop(b *testing.B) {
	for _, name := range []string{"healthy", "expired-cert", "login-rejected"} {
		b.Run(name, func(b *testing.B) {
			sc, err := scenarios.Builtin(name)
			if err != nil {
				b.Fatal(err)
			}
			certs, err := NewCerts()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				srv, err := New(sc, Options{Certs: certs})
				if err != nil {
					b.Fatal(err)
				}
				srv.Close()
			}
		})
	}
}
