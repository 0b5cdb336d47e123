package relay_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/imapfault/imapfault/relay"
)

// BenchmarkRelayFetch measures what the relay costs a 1 MiB FETCH reply:
// the same session straight to a loopback upstream and through the relay
// (plaintext both ways, as after a client that never sends STARTTLS).
func BenchmarkRelayFetch(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1<<20)
	reply := append([]byte("* 1 FETCH (BODY[] {1048576}\r\n"), body...)
	reply = append(reply, ")\r\nf OK done\r\n"...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				if _, err := io.WriteString(c, "* OK ready\r\n"); err != nil {
					return
				}
				for {
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
					if _, err := c.Write(reply); err != nil {
						return
					}
				}
			}()
		}
	}()
	fx := newTLS(b)
	r, err := relay.New(relay.Options{Upstream: ln.Addr().String(), ServerTLS: fx.server, TLS: relay.TLSStartTLS})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for _, tc := range []struct{ name, addr string }{{"direct", ln.Addr().String()}, {"relayed", r.Addr()}} {
		b.Run(tc.name, func(b *testing.B) {
			c, err := net.Dial("tcp", tc.addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReaderSize(c, 64<<10)
			if _, err := br.ReadString('\n'); err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, len(reply))
			b.SetBytes(int64(len(reply)))
			b.ResetTimer()
			for range b.N {
				if _, err := io.WriteString(c, "f FETCH 1 BODY[]\r\n"); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(br, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
