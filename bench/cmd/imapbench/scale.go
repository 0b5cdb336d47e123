package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/imapfault/imapfault/bench"
	"github.com/imapfault/imapfault/internal/dovecot"
	"github.com/imapfault/imapfault/scenarios"
)

// mailboxSizes are the rows of the scaling table. A million generated
// messages (the scenario format's cap) take about 10 GB and 25 s to start,
// more than make bench may spend: the server package's
// BenchmarkMailboxMemory measures them (IMAPFAULT_BENCH_1M=1). Dovecot runs
// the sizes up to peerMaxMessages: writing, indexing and removing a
// Maildir of 100,000 files took over two minutes of the five make bench
// may take.
var mailboxSizes = []int{1000, 10000, 100000}

const peerMaxMessages = 10000

// mailboxSteps are the whole-mailbox commands of the scaling table.
var mailboxSteps = []bench.Step{
	{Name: "SELECT", Command: "SELECT INBOX"},
	{Name: "FETCH 1:* (FLAGS)", Command: "FETCH 1:* (FLAGS)"},
	{Name: "UID SEARCH ALL", Command: "UID SEARCH ALL"},
	{Name: "SEARCH UNSEEN", Command: "SEARCH UNSEEN"},
}

// scaleRow is one server at one mailbox size.
type scaleRow struct {
	server   string
	messages int
	start    time.Duration // exec to listening (imapfault) / Maildir written and started (Dovecot)
	mem      mem           // after the commands, summed over the server's processes
	first    []bench.Step  // the first connection's commands (Dovecot indexes then)
	warm     []bench.Step  // a second connection's
	err      error
}

// scaledScenario is plain.toml with n generated messages in INBOX.
func scaledScenario(n int) []byte {
	return []byte(strings.Replace(string(mustRead("plain.toml")), "count = 20,", "count = "+strconv.Itoa(n)+",", 1))
}

// runScale fills the scaling table: each size against imapfault, then
// against Dovecot (default configuration) with the same messages.
func (r *report) runScale(ctx context.Context, dir string) {
	for _, n := range mailboxSizes {
		logf("  %d messages: imapfault", n)
		r.mailboxes = append(r.mailboxes, r.scaleImapfault(ctx, dir, n))
		if r.peer && n <= peerMaxMessages {
			logf("  %d messages: Dovecot", n)
			r.mailboxes = append(r.mailboxes, r.scaleDovecot(ctx, dir, n))
		}
	}
}

func (r *report) scaleImapfault(ctx context.Context, dir string, n int) scaleRow {
	row := scaleRow{server: imapfault, messages: n}
	sdir := filepath.Join(dir, "scale-imapfault-"+strconv.Itoa(n))
	if row.err = os.Mkdir(sdir, 0o755); row.err != nil {
		return row
	}
	path := filepath.Join(sdir, "scaled.toml")
	if row.err = os.WriteFile(path, scaledScenario(n), 0o644); row.err != nil {
		return row
	}
	start := time.Now()
	s, err := serveWait(ctx, r.opts.bin, path, sdir, 2*time.Minute)
	if err != nil {
		row.err = err
		return row
	}
	defer s.stop()
	row.start = time.Since(start)
	t := target(s.addr)
	if row.first, row.err = bench.Steps(ctx, t, mailboxSteps); row.err != nil {
		return row
	}
	if row.warm, row.err = bench.Steps(ctx, t, mailboxSteps); row.err != nil {
		return row
	}
	row.mem, row.err = processMem(s.cmd.Process.Pid)
	return row
}

func (r *report) scaleDovecot(ctx context.Context, dir string, n int) scaleRow {
	row := scaleRow{server: dovecotL, messages: n}
	sc, err := scenarios.Parse("scaled.toml", scaledScenario(n), nil)
	if err != nil {
		row.err = err
		return row
	}
	seeds, err := sc.Seeds(&sc.Users[0].Mailboxes[0], time.Now())
	if err != nil {
		row.err = err
		return row
	}
	msgs := make([][]byte, len(seeds))
	for i, s := range seeds {
		msgs[i] = s.Raw
	}
	start := time.Now()
	name := "scale-dovecot-" + strconv.Itoa(n)
	d, err := startPeer(ctx, dir, name, msgs, false, 200)
	defer os.RemoveAll(filepath.Join(dir, name))
	if err != nil {
		row.err = err
		return row
	}
	defer d.Stop()
	row.start = time.Since(start)
	t := target(d.Plain)
	if row.first, row.err = bench.Steps(ctx, t, mailboxSteps); row.err != nil {
		return row
	}
	if row.warm, row.err = bench.Steps(ctx, t, mailboxSteps); row.err != nil {
		return row
	}
	row.mem, row.err = groupMem(d.Pid())
	return row
}

// startPeer starts a Dovecot with msgs in the user's INBOX, under
// dir/name.
func startPeer(ctx context.Context, dir, name string, msgs [][]byte, tuned bool, processLimit int) (*dovecot.Dovecot, error) {
	sc, err := scenarios.Parse("plain.toml", mustRead("plain.toml"), nil)
	if err != nil {
		return nil, err
	}
	ddir := filepath.Join(dir, name)
	if err := os.Mkdir(ddir, 0o755); err != nil {
		return nil, err
	}
	return dovecot.Start(ctx, ddir, dovecot.Options{
		User: sc.Users[0].Name, Password: sc.Users[0].Password, Messages: msgs,
		ProcessLimit: processLimit, Tuned: tuned,
	})
}

// Large messages: bigCount messages of bigSize bytes each, fetched whole
// (BODY.PEEK[]) in one command, bigRounds times against each server in
// turn.
const (
	bigCount  = 4
	bigSize   = 8 << 20
	bigRounds = 3
)

// bigFetch is one server's large-message FETCH throughput.
type bigFetch struct {
	server string
	mbps   []float64 // each round's, sorted
	err    error
}

// bigMessage is a message of about size bytes: headers and lines of text.
func bigMessage(i, size int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Sender <sender@example.com>\r\nTo: Alice <alice@example.com>\r\nSubject: large message %d\r\nDate: Mon, 02 Nov 2026 12:00:00 +0000\r\nMessage-ID: <big%d@example.com>\r\n\r\n", i, i)
	line := "A line of body text in a large message, long enough to look like mail....\r\n"
	for b.Len()+len(line) <= size {
		b.WriteString(line)
	}
	return []byte(b.String())
}

// runBigFetch measures FETCH of large messages against imapfault and each
// Dovecot, alternating.
func (r *report) runBigFetch(ctx context.Context, dir string) {
	sdir := filepath.Join(dir, "big")
	if err := os.Mkdir(sdir, 0o755); err != nil {
		r.big = []bigFetch{{server: imapfault, err: err}}
		return
	}
	var msgs [][]byte
	for i := range bigCount {
		m := bigMessage(i, bigSize)
		msgs = append(msgs, m)
		if err := os.WriteFile(filepath.Join(sdir, fmt.Sprintf("big%d.eml", i)), m, 0o644); err != nil {
			r.big = []bigFetch{{server: imapfault, err: err}}
			return
		}
	}
	path := filepath.Join(sdir, "big.toml")
	if err := os.WriteFile(path, []byte(bigScenario(msgs)), 0o644); err != nil {
		r.big = []bigFetch{{server: imapfault, err: err}}
		return
	}
	targets := map[string]bench.Target{}
	s, err := serve(ctx, r.opts.bin, path, sdir)
	if err != nil {
		r.big = []bigFetch{{server: imapfault, err: err}}
		return
	}
	defer s.stop()
	targets[imapfault] = target(s.addr)
	labels := []string{imapfault}
	if r.peer {
		for _, tuned := range []bool{false, true} {
			label := map[bool]string{false: dovecotL, true: dovecotTuned}[tuned]
			d, err := startPeer(ctx, dir, "big-"+strconv.FormatBool(tuned), msgs, tuned, 200)
			if err != nil {
				r.big = append(r.big, bigFetch{server: label, err: err})
				continue
			}
			defer d.Stop()
			targets[label] = target(d.Plain)
			labels = append(labels, label)
		}
	}
	steps := []bench.Step{
		{Name: "SELECT", Command: "SELECT INBOX"},
		{Name: "FETCH", Command: fmt.Sprintf("FETCH 1:%d (BODY.PEEK[])", bigCount)},
	}
	res := map[string]*bigFetch{}
	for _, l := range labels {
		res[l] = &bigFetch{server: l}
		// Unmeasured: Dovecot's first SELECT indexes, the page cache fills.
		bench.Steps(ctx, targets[l], steps)
	}
	for range bigRounds {
		for _, l := range labels {
			out, err := bench.Steps(ctx, targets[l], steps)
			if err != nil {
				res[l].err = err
				continue
			}
			res[l].mbps = append(res[l].mbps, out[1].MBps())
		}
	}
	for _, l := range labels {
		res[l].mbps = sorted(res[l].mbps)
		r.big = append(r.big, *res[l])
	}
}

// bigScenario is plain.toml with the large messages (files beside it) in
// place of the generated ones.
func bigScenario(msgs [][]byte) string {
	var m strings.Builder
	for i := range msgs {
		fmt.Fprintf(&m, "\n    [[users.mailboxes.messages]]\n    file = \"big%d.eml\"\n", i)
	}
	return strings.Replace(string(mustRead("plain.toml")), "  generate = { count = 20, seed = 1 }\n", m.String(), 1)
}
