// Package bench is the load generator behind "make bench": IMAP sessions
// and idle connections driven at any server on loopback, the imapfault
// fake or a real one, over plaintext. It speaks just enough IMAP to time
// each command from its first byte sent to its tagged reply, and nothing
// of imapfault itself, so that both sides of a comparison get the same
// client.
package bench

import (
	"embed"
	"sort"
	"time"
)

// Scenarios holds the scenarios the benchmarks serve: bench-plain (the
// healthy account without TLS) and bench-neverfire (the same with faults
// that never fire).
//
//go:embed scenarios/*.toml
var Scenarios embed.FS

// Target is a server and the account to log in with.
type Target struct {
	Addr           string
	User, Password string
}

// Commands are the steps of one load session, in order; "connect" is the
// TCP connect and the greeting.
var Commands = []string{"connect", "login", "select", "fetch", "store", "append", "expunge", "logout"}

// Latencies are the durations of one command, sorted.
type Latencies []time.Duration

// Quantile returns the q-quantile (0..1), or 0 when there are none.
func (l Latencies) Quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	i := int(q * float64(len(l)))
	if i >= len(l) {
		i = len(l) - 1
	}
	return l[i]
}

func (l Latencies) sort() { sort.Slice(l, func(i, j int) bool { return l[i] < l[j] }) }
