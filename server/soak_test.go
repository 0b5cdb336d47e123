//go:build soak

package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/scenarios"
)

// The soak's shape: soakConns connections spread evenly over soakTime,
// each given at most soakDeadline before the client gives up.
const (
	soakConns    = 2000
	soakTime     = 60 * time.Second
	soakDeadline = 1500 * time.Millisecond
	soakSeed     = 8
	// soakProbability is each library fault's chance to fire where it
	// applies; with about 90 faults, most sessions meet a few.
	soakProbability = 0.05
)

// TestSoak (make soak) runs soakConns client sessions over soakTime
// against one server playing every fault of the built-in library at
// random, with a fixed seed. Afterwards the server must hold no
// connection, no socket may be left half-open, and goroutines and heap
// must be back to their level before the run, within a margin.
func TestSoak(t *testing.T) {
	sc := soakScenario(t)
	fired := &faultCounter{counts: map[string]int{}}
	srv, err := New(sc, Options{Transcript: fired})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	port := srv.ln.Addr().(*net.TCPAddr).Port

	// Warm up (first-use allocations, the transcript ring) before the
	// baseline is taken.
	rng := rand.New(rand.NewPCG(soakSeed, soakSeed))
	var warm sync.WaitGroup
	for i := range 50 {
		warm.Add(1)
		go func() {
			defer warm.Done()
			soakSession(srv.Addr(), rand.New(rand.NewPCG(soakSeed, uint64(i))))
		}()
	}
	warm.Wait()
	waitIdle(t, srv, 10*time.Second)
	before := measure()
	t.Logf("before: %s", before)

	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	tick := time.NewTicker(soakTime / soakConns)
	for i := range soakConns {
		<-tick.C
		// Each session draws from its own source, seeded from the run's,
		// so the sequence of sessions is the same on every run.
		seed := rng.Uint64()
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := soakSession(srv.Addr(), rand.New(rand.NewPCG(seed, uint64(i))))
			mu.Lock()
			outcomes[got]++
			mu.Unlock()
		}()
	}
	tick.Stop()
	wg.Wait()
	took := time.Since(start)
	waitIdle(t, srv, 10*time.Second)
	after := measure()
	t.Logf("after:  %s", after)
	t.Logf("%d connections in %v; client outcomes: %v", soakConns, took.Round(time.Millisecond), sortedCounts(outcomes))
	t.Logf("faults fired: %v", sortedCounts(fired.snapshot()))

	if open := halfOpen(t, port); open != 0 {
		t.Errorf("%d sockets on the server's port are still open (ESTABLISHED or CLOSE_WAIT)", open)
	}
	if after.goroutines > before.goroutines+5 {
		t.Errorf("goroutines: %d after, %d before (margin 5)", after.goroutines, before.goroutines)
	}
	if after.heap > before.heap+16<<20 {
		t.Errorf("heap in use: %d after, %d before (margin 16 MiB)", after.heap, before.heap)
	}
}

// soakScenario is a plaintext server whose faults are every fault of the
// built-in library, each firing with soakProbability from its own seed.
func soakScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc := plainScenario(t, "")
	all, err := scenarios.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, lib := range all {
		for _, f := range lib.Faults {
			// A PREAUTH greeting would start sessions logged in at
			// random, and the soak's sessions begin with LOGIN.
			if g, ok := f.Action.(*faults.Greeting); ok && strings.EqualFold(g.Status, "PREAUTH") {
				continue
			}
			f.When.Probability = soakProbability
			f.When.Seed = soakSeed + uint64(len(sc.Faults))
			sc.Faults = append(sc.Faults, f)
		}
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d faults from %d library scenarios, each with probability %v", len(sc.Faults), len(all), soakProbability)
	return sc
}

// soakSession is one client: a random walk through a mail client's
// commands, ended by LOGOUT, a close or a reset. It returns how it ended.
func soakSession(addr string, rng *rand.Rand) string {
	conn, err := net.DialTimeout("tcp", addr, soakDeadline)
	if err != nil {
		// On loopback only a reset at accept (drop = "rst") gets here.
		return "dial failed"
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(soakDeadline))
	r := bufio.NewReader(conn)
	if _, err := r.ReadString('\n'); err != nil {
		return "no greeting"
	}
	script := []string{"a1 LOGIN alice pw", "a2 SELECT INBOX", "a3 FETCH 1:* (FLAGS BODY.PEEK[])"}
	switch rng.IntN(4) {
	case 0:
		script = append(script, "a4 IDLE", "DONE")
	case 1:
		script = append(script, "a4 APPEND INBOX {8+}\r\nx: y\r\n\r\n", "a5 UID EXPUNGE 2:*")
	case 2:
		script = append(script, "a4 NOOP", "a5 LIST \"\" \"*\"")
	}
	for _, line := range script {
		if _, err := conn.Write([]byte(line + "\r\n")); err != nil {
			return "write failed"
		}
		tag, _, _ := strings.Cut(line, " ")
		if line == "DONE" {
			tag = "a4"
		}
		if !readUntil(r, tag) {
			return "faulted"
		}
	}
	switch rng.IntN(3) {
	case 0:
		conn.(*net.TCPConn).SetLinger(0)
		return "reset"
	case 1:
		return "closed"
	}
	conn.Write([]byte("z LOGOUT\r\n"))
	if !readUntil(r, "z") {
		return "faulted"
	}
	return "logout"
}

// readUntil reads lines up to the one tagged tag (or a continuation for
// IDLE); false if the connection failed first.
func readUntil(r *bufio.Reader, tag string) bool {
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return false
		}
		if strings.HasPrefix(l, tag+" ") || strings.HasPrefix(l, "+") {
			return true
		}
	}
}

// waitIdle waits for the server to hold no connection and no session; it
// checks again at each transcript entry, since the server records one as
// it lets a connection go, after its session ended.
func waitIdle(t *testing.T, srv *Server, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var conns, live int
	err := srv.transcript.until(ctx, func() bool {
		srv.mu.Lock()
		conns, live = len(srv.conns), srv.live
		srv.mu.Unlock()
		return conns == 0 && live == 0
	})
	if err != nil {
		t.Errorf("after %v the server still holds %d connections and %d sessions", within, conns, live)
	}
}

type level struct {
	goroutines int
	heap       uint64
}

func (l level) String() string {
	return fmt.Sprintf("%d goroutines, %.1f MiB heap in use", l.goroutines, float64(l.heap)/(1<<20))
}

func measure() level {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return level{goroutines: runtime.NumGoroutine(), heap: ms.HeapInuse}
}

// halfOpen counts the server port's sockets that are ESTABLISHED or in
// CLOSE_WAIT (the client closed, the server did not), from /proc/net.
func halfOpen(t *testing.T, port int) int {
	n := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Logf("no %s: socket states not checked", f)
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) < 4 {
				continue
			}
			_, hexPort, _ := strings.Cut(fields[1], ":")
			p, _ := strconv.ParseInt(hexPort, 16, 32)
			if int(p) == port && (fields[3] == "01" || fields[3] == "08") {
				n++
			}
		}
	}
	return n
}

// faultCounter counts the faults that fire, from the live transcript.
type faultCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (f *faultCounter) Write(p []byte) (int, error) {
	if _, kind, ok := bytes.Cut(p, []byte("== fault: ")); ok {
		f.mu.Lock()
		f.counts[strings.TrimSpace(string(kind))]++
		f.mu.Unlock()
	}
	return len(p), nil
}

func (f *faultCounter) snapshot() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.counts {
		out[k] = v
	}
	return out
}

func sortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
