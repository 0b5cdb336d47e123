package main

import (
	"fmt"
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
	p("Written by `make bench` (`%s`) on %s UTC in %s. Every figure below comes from that one run;", r.opts.command, r.started.UTC().Format("2006-01-02 15:04"), r.total.Round(time.Second))
	p("on a small shared machine absolute figures are noise, the ratios between columns measured side by side are the point.")
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
	r.loadSection(p)
	r.idleSection(p)
	p("## Scenario start-up")
	p("")
	p("`go test -run='^$' -bench=StartStop ./server/`: one scenario's server started and stopped from Go, TLS included, the run's CA made once as verify does. BenchmarkStartStop reuses one parsed scenario, whose seeds are cached; BenchmarkStartStopCold parses it each time, as `serve` and `verify` do (its generated messages are shared with a server of the same scenario still running, which between two iterations there may not be).")
	p("")
	p("```")
	for _, l := range r.startup {
		p("%s", l)
	}
	p("```")
	p("")
	p("## Verify suite")
	p("")
	p("`%s verify` (the built binary, timed from exec to exit): **%s s**, %s%s.", r.opts.bin, secs(r.verify.median()), r.verify.detail, errNote(r.verify.err))
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
	p("## Scale")
	p("")
	p("`go test -run='^$' -bench='%s' -benchmem -benchtime=1x -count=1 ./scenarios/ ./server/`: **one run each**, not medians; load average %s before, %s after.", scaleBenchmarks, r.scale.loadBefore, r.scale.loadAfter)
	p("BenchmarkParse: generated scenario files of 1k to 100k mailboxes (KB in the name), parse and validation; BenchmarkServers: 1,000 healthy servers held in one process, each from its own parse; BenchmarkBigMailbox: whole-mailbox commands on 10,000 messages over loopback; BenchmarkMailboxMemory: a server of 100,000 generated messages, start-up rate (wall and per CPU minute) and resident memory per message beside the raw size.")
	p("")
	p("```\n%s\n```", r.scale.out)
	p("")
	p("## Go benchmarks")
	p("")
	p("`go test -run='^$' -bench=. -skip='%s' -benchmem -count=%d ./...`; compare two runs with benchstat.", scaleBenchmarks, benchCount)
	p("")
	p("```\n%s\n```", r.goBench)
	return b.String()
}

func (r *report) loadSection(p func(string, ...any)) {
	p("## Sessions under load")
	p("")
	p("Each client runs sessions back to back for %s, in %d turns taken with the other servers: connect and greeting, `LOGIN`, `SELECT INBOX`, `FETCH 1 (UID FLAGS BODY.PEEK[])`, `STORE 1 +FLAGS (\\Flagged)`, `APPEND INBOX (\\Deleted) {1.8k}` (literal and final CRLF in two writes), `EXPUNGE`, `LOGOUT`.", r.opts.duration, loadRounds)
	p("Plaintext (`tls = \"none\"`) on 127.0.0.1: `imapfault` serves `bench/scenarios/plain.toml` (the healthy scenario's account, 20 generated messages in INBOX, no TLS), the fault-layer column `bench/scenarios/neverfire.toml` (the same with six faults of every kind the wire layer consults, all waiting for a command named NEVERSENT), Dovecot its default configuration with the same 20 messages in a Maildir and raised process and per-user connection limits.")
	p("Latency is from a command's first byte sent to its tagged reply read.")
	p("")
	servers := r.servers()
	head := "| clients |"
	sep := "|---|"
	for _, s := range servers {
		head += " " + s + " sessions/s |"
		sep += "---|"
	}
	if len(servers) == 3 {
		head += " imapfault / Dovecot |"
		sep += "---|"
	}
	head += " fault-layer overhead | A/A: imapfault ÷ a second instance − 1 |"
	sep += "---|---|"
	p("%s\n%s", head, sep)
	for _, n := range clientCounts {
		row := fmt.Sprintf("| %d |", n)
		for _, s := range servers {
			res := r.load[s][n]
			row += fmt.Sprintf(" %.0f%s |", res.PerSecond(), errorsNote(res))
		}
		if len(servers) == 3 {
			row += fmt.Sprintf(" %.2f× |", r.load[imapfault][n].PerSecond()/r.load[dovecotL][n].PerSecond())
		}
		row += fmt.Sprintf(" %+.1f%% | %+.1f%% |", r.overhead(n), (r.load[imapfault][n].PerSecond()/r.load[second][n].PerSecond()-1)*100)
		p("%s", row)
	}
	p("")
	p("Fault-layer overhead is how much longer a session takes with the never-firing faults: plain sessions/s ÷ never-firing sessions/s − 1. The A/A column compares two identical imapfault servers measured the same way: differences of that size are the machine's noise, not the code. `BenchmarkSession` (below) measures the same overhead on one client in-process with less noise.")
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
		for _, s := range []string{imapfault, dovecotL} {
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
	p("Connections opened 50 at a time from %s, each logged in, INBOX selected, in IDLE (the `+` read), then held; memory measured before the first and 5 s after the last. RLIMIT_NOFILE: Go raises the soft limit to the hard one in both processes.", strings.Join(idleSources, ", "))
	p("")
	p("| server | held / asked | set-up s | memory before → after | per connection | measured as |")
	p("|---|---|---|---|---|---|")
	for _, i := range r.idle {
		p("| %s | %d / %d%s | %s | %s → %s | **%.1f KiB** | %s |", i.server, i.held, i.want, errNote(i.err), secs(i.setup), mib(i.beforeKB), mib(i.afterKB), i.kib, i.measure)
	}
	p("")
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
		for _, n := range clientCounts {
			ratio := r.load[imapfault][n].PerSecond() / r.load[dovecotL][n].PerSecond()
			parts = append(parts, fmt.Sprintf("%.1f× at %d", ratio, n))
			met = met && ratio >= 3
		}
		add("sessions/s ≥ 3× Dovecot", strings.Join(parts, ", "), met)
	} else {
		out = append(out, [3]string{"sessions/s ≥ 3× Dovecot", "not measured: " + r.dovecot, "–"})
	}
	worst, worstCmd := time.Duration(0), ""
	for _, cmd := range bench.Commands {
		if q := r.load[imapfault][10].Latency[cmd].Quantile(0.99); q > worst {
			worst, worstCmd = q, cmd
		}
	}
	add("p99 command latency < 5 ms at 10 clients", fmt.Sprintf("worst p99 %s ms (%s)", ms(worst), worstCmd), worst < 5*time.Millisecond)
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
	// The Go benchmark decides: one client in-process, the median of
	// several runs; the load figures beside it carry the machine's noise.
	var parts []string
	for _, n := range clientCounts {
		parts = append(parts, fmt.Sprintf("%+.1f%% at %d", r.overhead(n), n))
	}
	plain, never := r.benchNs["BenchmarkSession/plain"], r.benchNs["BenchmarkSession/neverfire"]
	if plain > 0 && never > 0 {
		o := (never/plain - 1) * 100
		add("fault-layer overhead < 10%", fmt.Sprintf("BenchmarkSession: %+.1f%% (%.0f → %.0f µs a session); under load: %s (A/A noise in the load table)", o, plain/1e3, never/1e3, strings.Join(parts, ", ")), o < 10)
	}
	if len(r.idle) > 0 {
		i := r.idle[0]
		got := fmt.Sprintf("%d held, %.1f KiB each", i.held, i.kib)
		if _, ok := r.benchMetric["BenchmarkIdleConn/go-imap-memserver"]; ok {
			got += fmt.Sprintf("; BenchmarkIdleConn, heap and stacks, client ends included: %.1f KiB, go-imap's bare imapmemserver %.1f KiB",
				r.benchMetric["BenchmarkIdleConn/imapfault"]/1024, r.benchMetric["BenchmarkIdleConn/go-imap-memserver"]/1024)
		}
		add("10,000 idle connections at ≤ 20 KiB each", got, i.held >= 10000 && i.err == nil && i.kib <= 20)
	}
	if ns, ok := r.benchNs["BenchmarkStartStopCold/healthy"]; ok {
		add("scenario start+stop < 5 ms, cold (parse, seed, listen, close)", fmt.Sprintf("healthy: %.2f ms (median of %d runs; %.2f ms with the scenario parsed and seeded before)", ns/1e6, benchCount, r.benchNs["BenchmarkStartStop/healthy"]/1e6), ns < 5e6)
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
