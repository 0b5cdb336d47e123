package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/imapfault/imapfault/bench"
)

// markdown renders the report as docs/benchmarks.md.
func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Benchmarks")
	p("")
	p("Written by `make bench` (`%s`) on %s UTC in %s, at the commit named below. Every figure below comes from that one run;", r.opts.command, r.started.UTC().Format("2006-01-02 15:04"), r.total.Round(time.Second))
	p("on a small shared machine absolute figures are noise, the ratios between columns measured side by side are the point.")
	p("Comparisons run alternating (A, B, A again, round after round) with the A/A spread beside them, so that the noise is visible; a figure from one run says so; medians give the range and the number of runs.")
	p("The load generator (`bench/`) runs in the harness process; each server runs in its own process(es) on loopback.")
	p("")
	p("## Machine")
	p("")
	for _, m := range r.machine {
		if strings.HasPrefix(m[1], "\n") {
			p("- %s:\n\n```%s\n```", m[0], m[1])
			continue
		}
		p("- %s: %s", m[0], m[1])
	}
	p("- load average at the end: %s", r.loadEnd)
	var phases []string
	for _, ph := range r.phases {
		phases = append(phases, ph[0]+" "+ph[1])
	}
	p("- time by part (after building the binary): %s", strings.Join(phases, ", "))
	p("- peer: %s", r.dovecot)
	p("")
	p("## Targets")
	p("")
	p("| target | measured | met |")
	p("|---|---|---|")
	for _, t := range r.targets() {
		p("| %s | %s | %s |", t[0], t[1], t[2])
	}
	p("")
	r.abSection(p)
	r.loadSection(p)
	r.idleSection(p)
	r.scaleSection(p)
	p("## Scenario start-up")
	p("")
	p("`go test -run='^$' -bench=StartStop ./server/`, **one run each** (healthy's two rows also ran alternating, above): one scenario's server started and stopped from Go, TLS included, the run's CA made once as verify does. BenchmarkStartStop reuses one parsed scenario, whose seeds are cached; BenchmarkStartStopCold parses it each time, as `serve` and `verify` do (its generated messages are shared with a server of the same scenario still running, which between two iterations there may not be).")
	p("")
	p("```")
	for _, l := range r.startup {
		p("%s", l)
	}
	p("```")
	p("")
	p("## Verify suite")
	p("")
	p("`%s verify` (the built binary, timed from exec to exit), **one run**: **%s s**, %s%s.", r.opts.bin, secs(r.verify.median()), r.verify.detail, errNote(r.verify.err))
	p("")
	p("## The tester beside curl")
	p("")
	p("Whole-process wall time, %d runs each, alternating, after one unmeasured run of each; a Go timing loop in the harness (no hyperfine). Both against one `imapfault serve --scenario healthy` (STARTTLS with the run's CA).", checkRuns)
	p("`check` walks ten steps (connect, STARTTLS, greeting, CAPABILITY, LOGIN, LIST, SELECT, FETCH, IDLE, LOGOUT); curl logs in, selects INBOX and fetches one message.")
	p("")
	p("| command | min ms | median ms | max ms |")
	p("|---|---|---|---|")
	for _, name := range []string{"check", "curl"} {
		t := r.check[name]
		if len(t.runs) == 0 {
			p("| %s | – | – | –%s |", name, errNote(t.err))
			continue
		}
		p("| `%s`%s | %s | %s | %s |", t.detail, errNote(t.err), ms(t.runs[0]), ms(t.median()), ms(t.runs[len(t.runs)-1]))
	}
	p("")
	p("`check` runs its ten steps with its defaults: no IDLE hold (`--idle-hold`), so IDLE costs its \"+\" and the answer to DONE.")
	p("")
	if r.checkOut != "" {
		p("What `check` printed on its last run:")
		p("")
		p("```\n%s\n```", strings.TrimSpace(r.checkOut))
		p("")
	}
	p("## Scale in Go")
	p("")
	p("`go test -run='^$' -bench='%s' -benchmem -benchtime=1x -count=1 ./scenarios/ ./server/`: **one run each**, not medians; load average %s before, %s after.", scaleBenchmarks, r.scale.loadBefore, r.scale.loadAfter)
	p("BenchmarkParse: scenario file size against parse time: generated files of 1k, 10k and 100k mailboxes (KB in the name; MB/s is the file's bytes per second of parse and validation); BenchmarkParseErrors: the 10k file with an error in every 100th mailbox, whose keys' lines are then located (a valid file skips that); BenchmarkParseTOMLOnly: the toml library's own decode of the same files, the floor under BenchmarkParse; BenchmarkServers: 1,000 healthy servers held in one process, each from its own parse. The server package's BenchmarkBigMailbox and BenchmarkMailboxMemory are left out: the mailbox-size table measures the same over the wire, beside Dovecot.")
	p("")
	p("```\n%s\n```", r.scale.out)
	p("")
	p("## Go benchmarks")
	p("")
	p("`go test -run='^$' -bench=. -skip='%s' -benchmem -benchtime=%s -count=%d ./...`: **one run each**, for the record (the comparisons above ran alternating); compare two runs with benchstat.", recordSkip, recordBenchtime, benchCount)
	p("")
	p("```\n%s\n```", r.goBench)
	return b.String()
}

func (r *report) loadSection(p func(string, ...any)) {
	p("## Sessions under load")
	p("")
	p("Each client runs sessions back to back for %s, in %d turns taken with the other servers (each cell: the %d turns together, one figure per run, not a median): connect and greeting, `LOGIN`, `SELECT INBOX`, `FETCH 1 (UID FLAGS BODY.PEEK[])`, `STORE 1 +FLAGS (\\Flagged)`, `APPEND INBOX (\\Deleted) {1.8k}` (literal and final CRLF in two writes), `EXPUNGE`, `LOGOUT`.", r.opts.duration, loadRounds, loadRounds)
	p("Plaintext (`tls = \"none\"`) on 127.0.0.1: `imapfault` serves `bench/scenarios/plain.toml` (the healthy scenario's account, 20 generated messages in INBOX, no TLS), the fault-layer column `bench/scenarios/neverfire.toml` (the same with six faults of every kind the wire layer consults, all waiting for a command named NEVERSENT), Dovecot its default configuration with the same 20 messages in a Maildir and raised process and per-user connection limits, Dovecot tuned the same with imap-login in high-performance mode (`service_count = 0`, `process_min_avail = 2`) and `mail_fsync = never`%s.", missing(r.tuned))
	p("Latency is from a command's first byte sent to its tagged reply read.")
	p("")
	servers := r.servers()
	head := "| clients |"
	sep := "|---|"
	for _, s := range servers {
		head += " " + s + " sessions/s |"
		sep += "---|"
	}
	if r.peer {
		head += " imapfault / Dovecot |"
		sep += "---|"
	}
	if r.hasTuned {
		head += " imapfault / Dovecot tuned |"
		sep += "---|"
	}
	head += " fault-layer overhead | A/A: imapfault ÷ a second instance − 1 | load average before → after |"
	sep += "---|---|---|"
	p("%s\n%s", head, sep)
	for _, n := range clientCounts {
		row := fmt.Sprintf("| %d |", n)
		for _, s := range servers {
			res := r.load[s][n]
			row += fmt.Sprintf(" %.0f%s |", res.PerSecond(), errorsNote(res))
		}
		for _, peer := range []string{dovecotL, dovecotTuned} {
			if _, ok := r.load[peer]; ok {
				row += fmt.Sprintf(" %.2f× |", r.load[imapfault][n].PerSecond()/r.load[peer][n].PerSecond())
			}
		}
		row += fmt.Sprintf(" %+.1f%% | %+.1f%% | %s → %s |", r.overhead(n), (r.load[imapfault][n].PerSecond()/r.load[second][n].PerSecond()-1)*100, r.loadAvg[n][0], r.loadAvg[n][1])
		p("%s", row)
	}
	p("")
	p("Fault-layer overhead is how much longer a session takes with the never-firing faults: plain sessions/s ÷ never-firing sessions/s − 1. The A/A column compares two identical imapfault servers measured the same way: differences of that size are the machine's noise, not the code. `BenchmarkSession` (above, alternating) measures the same overhead on one client in-process with less noise.")
	p("")
	for _, n := range clientCounts {
		p("### %d client%s: latency per command, p50 / p99 in ms", n, map[bool]string{true: "", false: "s"}[n == 1])
		p("")
		head, sep := "| command |", "|---|"
		for _, s := range servers {
			head += " " + s + " |"
			sep += "---|"
		}
		p("%s\n%s", head, sep)
		for _, cmd := range bench.Commands {
			row := "| " + cmd + " |"
			for _, s := range servers {
				l := r.load[s][n].Latency[cmd]
				row += " " + ms(l.Quantile(0.5)) + " / " + ms(l.Quantile(0.99)) + " |"
			}
			p("%s", row)
		}
		p("")
	}
	if len(r.nagle) > 0 {
		p("### APPEND from a client that leaves Nagle's algorithm on")
		p("")
		p("One client, %s, the same sessions with TCP_NODELAY off on the client socket, as in Python's imaplib: the literal and its final CRLF are two writes, and the CRLF waits for the server to acknowledge the literal. A server that leaves the ACK delayed costs every APPEND about 40 ms.", r.opts.duration)
		p("")
		p("| server | sessions/s | APPEND p50 / p99 ms | FETCH p50 / p99 ms |")
		p("|---|---|---|---|")
		for _, s := range []string{imapfault, dovecotL, dovecotTuned} {
			res, ok := r.nagle[s]
			if !ok {
				continue
			}
			a, f := res.Latency["append"], res.Latency["fetch"]
			p("| %s | %.0f%s | %s / %s | %s / %s |", s, res.PerSecond(), errorsNote(res), ms(a.Quantile(0.5)), ms(a.Quantile(0.99)), ms(f.Quantile(0.5)), ms(f.Quantile(0.99)))
		}
		p("")
	}
}

func (r *report) idleSection(p func(string, ...any)) {
	p("## Idle connections")
	p("")
	p("Connections opened 50 at a time from %s, each logged in, INBOX selected, in IDLE (the `+` read), then held; memory measured before the first and 3 s after the last, the same way for both servers: RSS and PSS (from /proc/PID/smaps_rollup) summed over the server's processes (imapfault: its one process; Dovecot: its process group, one process per session). RLIMIT_NOFILE: Go raises the soft limit to the hard one in both processes. One run each.", strings.Join(idleSources, ", "))
	p("")
	p("| server | held / asked | set-up s | processes before → after | RSS before → after | **RSS per connection** | PSS before → after | PSS per connection |")
	p("|---|---|---|---|---|---|---|---|")
	for _, i := range r.idle {
		rss, pss := i.perConn()
		p("| %s | %d / %d%s | %s | %d → %d | %s → %s | **%.1f KiB** | %s → %s | %.1f KiB |", i.server, i.held, i.want, errNote(i.err), secs(i.setup),
			i.before.procs, i.after.procs, mib(i.before.rss), mib(i.after.rss), rss, mib(i.before.pss), mib(i.after.pss), pss)
	}
	p("")
	p("Summed RSS counts a page Dovecot's processes share once per process; PSS splits it between them: for Dovecot PSS is the fair figure, for imapfault's one process the two agree.")
	p("")
}

// abSection shows the Go benchmarks run alternating.
func (r *report) abSection(p func(string, ...any)) {
	p("## Go benchmarks compared, alternating")
	p("")
	p("The `server` package's test binary, built once, run as `-test.bench=PATTERN -test.benchtime=%s` for A, then B, then A again (the A/A control), %d rounds; ns/op as median (min to max, runs).", abBenchtime, abRounds)
	p("")
	p("| comparison | A | B | A ns/op | B ns/op | B ÷ A − 1 per round | A/A: A ÷ A − 1 per round | load average before → after |")
	p("|---|---|---|---|---|---|---|---|")
	for _, a := range r.ab {
		ab, aa := a.ratios()
		p("| %s%s | %s | %s | %s | %s | **%s** | %s | %s |", a.pair.name, errNote(a.err), a.pair.aLabel, a.pair.bLabel,
			spread(sorted(a.a), "%.0f"), spread(sorted(a.b), "%.0f"), spread(ab, "%+.1f%%"), spread(aa, "%+.1f%%"), a.load)
	}
	p("")
	p("When the A/A range is as wide as the A/B difference, the difference is the machine's noise.")
	p("")
}

// scaleSection shows the mailbox sizes and the large messages.
func (r *report) scaleSection(p func(string, ...any)) {
	p("## Mailbox size")
	p("")
	p("`imapfault serve` of `bench/scenarios/plain.toml` with N generated messages in INBOX (start: exec to the listening line, generation included), and Dovecot (default configuration, plaintext) with the same messages in a Maildir (start: the Maildir written and Dovecot greeting) up to %d messages (a Maildir of 100,000 files took minutes to write, index and remove). Then one connection logs in and runs each command once (first), and a second connection again (warm): Dovecot indexes the Maildir on its first SELECT. Memory after both, summed over the server's processes. **One run each**; ms from the command's first byte to its tagged OK. Dovecot's Maildir copies carry no flags, so SEARCH UNSEEN matches every message there and a few percent here. A million messages (the scenario format's cap) is not measured here: it needs about 10 GB and 25 s to start; the server package's BenchmarkMailboxMemory measures it with IMAPFAULT_BENCH_1M=1, and its BenchmarkBigMailbox compares these commands with Dovecot at 100,000 messages, alternating; both take minutes, more than make bench may.", peerMaxMessages)
	p("")
	head := "| messages | server | start s | RSS MiB | PSS MiB |"
	sep := "|---|---|---|---|---|"
	for _, st := range mailboxSteps {
		head += " " + st.Name + " ms first / warm |"
		sep += "---|"
	}
	p("%s\n%s", head, sep)
	for _, row := range r.mailboxes {
		line := fmt.Sprintf("| %d | %s%s | %s | %.1f | %.1f |", row.messages, row.server, errNote(row.err), secs(row.start), float64(row.mem.rss)/1024, float64(row.mem.pss)/1024)
		for i := range mailboxSteps {
			line += " " + stepMs(row.first, i) + " / " + stepMs(row.warm, i) + " |"
		}
		p("%s", line)
	}
	p("")
	p("## Large messages")
	p("")
	p("%d messages of %d MiB each (files beside the scenario; the same bytes in Dovecot's Maildir), fetched whole in one `FETCH 1:%d (BODY.PEEK[])`, %d rounds taken in turn against each server after one unmeasured round; MB/s is response bytes (10^6) per second, median (min to max, runs).", bigCount, bigSize>>20, bigCount, bigRounds)
	p("")
	p("| server | FETCH MB/s |")
	p("|---|---|")
	for _, b := range r.big {
		p("| %s%s | %s |", b.server, errNote(b.err), spread(b.mbps, "%.0f"))
	}
	p("")
}

func stepMs(steps []bench.Step, i int) string {
	if i >= len(steps) {
		return "–"
	}
	return ms(steps[i].Took)
}

func missing(why string) string {
	if why == "" {
		return ""
	}
	return " (tuned Dovecot missing: " + why + ")"
}

// overhead is the fault layer's cost at n clients, in percent.
func (r *report) overhead(n int) float64 {
	return (r.load[imapfault][n].PerSecond()/r.load[neverfire][n].PerSecond() - 1) * 100
}

// targets checks the targets against the run.
func (r *report) targets() [][3]string {
	var out [][3]string
	add := func(name, got string, ok bool) {
		out = append(out, [3]string{name, got, map[bool]string{true: "yes", false: "**no**"}[ok]})
	}
	if _, ok := r.load[dovecotL]; ok {
		var parts []string
		met := true
		for _, peer := range []string{dovecotL, dovecotTuned} {
			if _, ok := r.load[peer]; !ok {
				continue
			}
			var ratios []string
			for _, n := range clientCounts {
				ratio := r.load[imapfault][n].PerSecond() / r.load[peer][n].PerSecond()
				ratios = append(ratios, fmt.Sprintf("%.1f× at %d", ratio, n))
				met = met && ratio >= 3
			}
			parts = append(parts, peer+": "+strings.Join(ratios, ", "))
		}
		add("sessions/s ≥ 3× Dovecot (default and tuned)", strings.Join(parts, "; "), met)
	} else {
		out = append(out, [3]string{"sessions/s ≥ 3× Dovecot", "not measured: " + r.dovecot, "–"})
	}
	worst, worstCmd := time.Duration(0), ""
	for _, cmd := range bench.Commands {
		if q := r.load[imapfault][10].Latency[cmd].Quantile(0.99); q > worst {
			worst, worstCmd = q, cmd
		}
	}
	add("p99 command latency < 5 ms at 10 clients", fmt.Sprintf("worst p99 %s ms (%s), one run of %d turns, load average %s before → %s after (2 cores)", ms(worst), worstCmd, loadRounds, r.loadAvg[10][0], r.loadAvg[10][1]), worst < 5*time.Millisecond)
	l := r.load[imapfault][10].Latency
	a, f := l["append"].Quantile(0.5), l["fetch"].Quantile(0.5)
	appendOK := a < 2*f+time.Millisecond
	// APPEND takes two round trips (the command, "+", the literal): it is
	// as fast as the others when it costs at most about two of them.
	got := fmt.Sprintf("10 clients: APPEND p50 %s ms (two round trips), FETCH p50 %s ms", ms(a), ms(f))
	if n, ok := r.nagle[imapfault]; ok {
		na := n.Latency["append"].Quantile(0.5)
		got += fmt.Sprintf("; client with Nagle on: APPEND p50 %s ms", ms(na))
		appendOK = appendOK && na < 5*time.Millisecond
	}
	add("APPEND as fast as the other commands", got, appendOK)
	// The Go benchmark decides: one client in-process, alternating with
	// its A/A control; the load figures beside it carry the machine's
	// noise.
	var parts []string
	for _, n := range clientCounts {
		parts = append(parts, fmt.Sprintf("%+.1f%% at %d", r.overhead(n), n))
	}
	for _, a := range r.ab {
		ab, aa := a.ratios()
		switch {
		case a.err != nil:
			add(a.pair.name, "error: "+a.err.Error(), false)
		case a.pair.aLabel == "BenchmarkSession/plain":
			// Met only when both measures agree: the in-process median, and
			// under load at every client count an overhead within 10% of
			// what the A/A pair differed by in the same turns.
			met := median(ab) < 10
			for _, n := range clientCounts {
				aaLoad := (r.load[imapfault][n].PerSecond()/r.load[second][n].PerSecond() - 1) * 100
				met = met && r.overhead(n) < 10+math.Abs(aaLoad)
			}
			add("fault-layer overhead < 10%", fmt.Sprintf("BenchmarkSession, neverfire ÷ plain − 1: %s; A/A: %s; under load: %s (A/A beside each in the load table)", spread(ab, "%+.1f%%"), spread(aa, "%+.1f%%"), strings.Join(parts, ", ")), met)
		case a.pair.bLabel == "BenchmarkStartStopCold/healthy":
			b := sorted(a.b)
			add("scenario start+stop < 5 ms, cold (parse, seed, listen, close)", fmt.Sprintf("healthy: %s ms (%s ms with the scenario parsed and seeded before)", spread(scaled(b, 1e-6), "%.2f"), spread(scaled(sorted(a.a), 1e-6), "%.2f")), median(b) < 5e6)
		}
	}
	for _, i := range r.idle {
		if i.server != imapfault {
			continue
		}
		rss, pss := i.perConn()
		got := fmt.Sprintf("%d held, RSS %.1f KiB each (PSS %.1f KiB), one run", i.held, rss, pss)
		for _, d := range r.idle {
			if d.server == dovecotL {
				drss, dpss := d.perConn()
				got += fmt.Sprintf("; Dovecot, measured the same way: RSS %.1f KiB, PSS %.1f KiB each", drss, dpss)
			}
		}
		if _, ok := r.benchMetric["BenchmarkIdleConn/go-imap-memserver"]; ok {
			got += fmt.Sprintf("; BenchmarkIdleConn, heap and stacks, client ends included: %.1f KiB, go-imap's bare imapmemserver %.1f KiB",
				r.benchMetric["BenchmarkIdleConn/imapfault"]/1024, r.benchMetric["BenchmarkIdleConn/go-imap-memserver"]/1024)
		}
		add("10,000 idle connections at ≤ 20 KiB each", got, i.held >= 10000 && i.err == nil && rss <= 20)
	}
	add("verify suite < 10 s", secs(r.verify.median())+" s", r.verify.err == nil && r.verify.median() < 10*time.Second)
	c, k := r.check["check"], r.check["curl"]
	if len(c.runs) > 0 && len(k.runs) > 0 {
		ratio := float64(c.median()) / float64(k.median())
		add("check within 1.5× of curl", fmt.Sprintf("median %s ms vs %s ms: %.2f×", ms(c.median()), ms(k.median()), ratio),
			c.err == nil && k.err == nil && ratio <= 1.5)
	}
	return out
}

// scaled multiplies each value by f.
func scaled(v []float64, f float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x * f
	}
	return out
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) }

func mib(kib int64) string { return strconv.FormatFloat(float64(kib)/1024, 'f', 1, 64) + " MiB" }

func errNote(err error) string {
	if err == nil {
		return ""
	}
	return " (error: " + strings.ReplaceAll(err.Error(), "\n", " ") + ")"
}

func errorsNote(res *bench.LoadResult) string {
	if res.Errors == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d failed: %v)", res.Errors, res.FirstErr)
}
