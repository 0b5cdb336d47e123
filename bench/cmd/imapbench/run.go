package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imapfault/imapfault/bench"
	"github.com/imapfault/imapfault/internal/dovecot"
	"github.com/imapfault/imapfault/scenarios"
)

// Server labels, in the order the tables show them.
const (
	imapfault = "imapfault"
	neverfire = "imapfault + never-firing faults"
	dovecotL  = "Dovecot"
	// dovecotTuned is Dovecot set up for speed (dovecot.Options.Tuned).
	dovecotTuned = "Dovecot tuned"
	// second is another imapfault instance serving the same as the first:
	// the spread between the two is the noise of the measurement.
	second = "imapfault, second instance"
)

// clientCounts are the concurrency levels of the load runs.
var clientCounts = []int{1, 10, 50}

// loadRounds splits each load run into turns taken with the other servers,
// so that the machine's slow spells (it is shared) hit every server alike.
const loadRounds = 3

// report is everything one run measured.
type report struct {
	opts    options
	started time.Time
	machine [][2]string
	goBench string
	scale   scaleRun
	dovecot string // why the Dovecot columns are missing, or its version
	peer    bool   // Dovecot ran: its columns are in the tables
	tuned   string // why the tuned Dovecot column is missing
	// hasTuned: the tuned Dovecot ran, its columns are in the tables.
	hasTuned bool
	load     map[string]map[int]*bench.LoadResult
	// loadAvg is /proc/loadavg before each client count's turns and after
	// the last.
	loadAvg   map[int][2]string
	nagle     map[string]*bench.LoadResult
	idle      []idleResult
	ab        []abResult
	mailboxes []scaleRow
	big       []bigFetch
	startup   []string           // BenchmarkStartStop lines
	benchNs   map[string]float64 // median ns/op of each Go benchmark
	// benchMetric is the median of each Go benchmark's own metric (such
	// as B/conn), when it reports one.
	benchMetric map[string]float64
	verify      timing
	check       map[string]timing
	checkOut    string
	total       time.Duration
	// phases are how long each part of the run took, for the report.
	phases    [][2]string
	phaseName string
	phaseAt   time.Time
	loadEnd   string // /proc/loadavg when the run ended
}

type idleResult struct {
	server        string
	held          int
	want          int
	setup         time.Duration
	err           error
	before, after mem
}

// perConn is the memory each held connection added, RSS and PSS, in KiB.
func (i idleResult) perConn() (rss, pss float64) {
	if i.held == 0 {
		return 0, 0
	}
	return float64(i.after.rss-i.before.rss) / float64(i.held), float64(i.after.pss-i.before.pss) / float64(i.held)
}

type timing struct {
	runs   []time.Duration // sorted
	detail string
	err    error
}

func (t timing) median() time.Duration {
	if len(t.runs) == 0 {
		return 0
	}
	return t.runs[len(t.runs)/2]
}

func run(ctx context.Context, o options) (*report, error) {
	r := &report{opts: o, started: time.Now(), load: map[string]map[int]*bench.LoadResult{}, loadAvg: map[int][2]string{}, nagle: map[string]*bench.LoadResult{}, check: map[string]timing{}}
	if _, err := os.Stat(o.bin); err != nil {
		return nil, fmt.Errorf("%v: build it first (make build)", err)
	}
	dir, err := os.MkdirTemp("", "imapbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	r.machine = machine(ctx, o.goCmd)

	r.phase("Go benchmarks, once each")
	r.goBench, r.startup, r.benchNs, r.benchMetric = goBenchmarks(ctx, o.goCmd)
	r.phase("Go benchmarks compared, alternating")
	r.ab = runAlternated(ctx, o.goCmd, dir)
	r.phase("Go benchmarks of scale, once each")
	r.scale = scaleBenchmarksRun(ctx, o.goCmd)

	r.phase("starting Dovecot")
	d := startDovecot(ctx, r, dir)
	if d != nil {
		defer d.Stop()
	}
	var tuned *dovecot.Dovecot
	if d != nil {
		var err error
		msgs, _ := plainMessages() // Dovecot started: they were made once already
		if tuned, err = startPeer(ctx, dir, "dovecot-tuned", msgs, true, 200); err != nil {
			r.tuned = err.Error()
			logf("tuned Dovecot: %v", err)
		} else {
			defer tuned.Stop()
		}
	}

	r.phase("load: sessions against each server")
	if err := r.runLoad(ctx, dir, d, tuned); err != nil {
		return nil, err
	}
	r.phase("idle connections")
	r.runIdle(ctx, dir, d)
	r.phase("mailbox sizes")
	r.runScale(ctx, dir)
	r.phase("large messages")
	r.runBigFetch(ctx, dir)
	r.phase("verify suite")
	r.runVerify(ctx)
	r.phase("check beside curl")
	r.runCheck(ctx, dir)
	r.phase("")
	r.total = time.Since(r.started)
	r.loadEnd = loadavg()
	return r, nil
}

// phase logs the start of a part of the run ("" at the end) and records
// how long the previous one took.
func (r *report) phase(name string) {
	now := time.Now()
	if r.phaseName != "" {
		r.phases = append(r.phases, [2]string{r.phaseName, now.Sub(r.phaseAt).Round(time.Second).String()})
	}
	r.phaseName, r.phaseAt = name, now
	if name != "" {
		logf("%s", name)
	}
}

// machine describes where the run happened.
func machine(ctx context.Context, goCmd string) [][2]string {
	out := func(name string, args ...string) string {
		b, err := exec.CommandContext(ctx, name, args...).Output()
		if err != nil {
			return "unknown (" + err.Error() + ")"
		}
		return strings.TrimSpace(string(b))
	}
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	commit := out("git", "rev-parse", "HEAD")
	if status := out("git", "status", "--porcelain", "--untracked-files=no"); status != "" {
		commit += " with uncommitted changes (not reproducible from the commit alone)"
	}
	return [][2]string{
		{"commit measured", commit},
		{"nproc", out("nproc")},
		{"CPU", cpu},
		{"free -h", "\n" + out("free", "-h")},
		{"kernel", out("uname", "-sr")},
		{"Go", out(goCmd, "version")},
		{"load average at the start (other work on the machine)", loadavg()},
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// benchCount is how many times each Go benchmark runs: once, for the
// record; the comparisons the targets rest on run alternating
// (alternate.go), with their spread.
const benchCount = 1

// recordBenchtime is each Go benchmark's length in the record run: enough
// for a figure, short enough that the whole module's take a minute.
const recordBenchtime = "100ms"

// recordSkip leaves out of the record run the scale benchmarks (run once,
// apart) and the mailbox benchmarks of the server package, whose figures
// the mailbox-size table measures over the wire against Dovecot.
const recordSkip = "^Benchmark(Parse|ParseErrors|ParseTOMLOnly|Servers|BigMailbox|MailboxMemory)$"

// goBenchmarks runs every Go benchmark of the module, and returns their
// output, the start-up lines, and the median ns/op and custom metric by
// benchmark name.
func goBenchmarks(ctx context.Context, goCmd string) (string, []string, map[string]float64, map[string]float64) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	_, out, err := timed(ctx, nil, goCmd, "test", "-run=^$", "-bench=.", "-skip="+recordSkip, "-benchmem", "-benchtime="+recordBenchtime, "-count="+strconv.Itoa(benchCount), "./...")
	if err != nil {
		out += "\n" + err.Error()
	}
	var kept, startup []string
	runs, metrics := map[string][]float64{}, map[string][]float64{}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Benchmark") || strings.HasPrefix(line, "pkg:") || strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "---") {
			kept = append(kept, line)
		}
		if strings.HasPrefix(line, "BenchmarkStartStop") {
			startup = append(startup, line)
		}
		if f := strings.Fields(line); len(f) > 3 && strings.HasPrefix(f[0], "Benchmark") && f[3] == "ns/op" {
			name := f[0][:strings.LastIndexByte(f[0], '-')] // without the GOMAXPROCS suffix
			ns, _ := strconv.ParseFloat(f[2], 64)
			runs[name] = append(runs[name], ns)
			for i := 5; i < len(f); i += 2 {
				if f[i] == "B/conn" {
					v, _ := strconv.ParseFloat(f[i-1], 64)
					metrics[name] = append(metrics[name], v)
				}
			}
		}
	}
	return strings.Join(kept, "\n"), startup, medians(runs), medians(metrics)
}

// scaleBenchmarks are the Go benchmarks of size (issue 19): scenario files
// of 1k to 100k mailboxes, 1,000 servers in one process. Each op takes
// seconds, so they run once, apart, and the report says so.
const scaleBenchmarks = "^Benchmark(Parse|ParseErrors|ParseTOMLOnly|Servers)$"

// scaleRun is the output of the scale benchmarks and the load average
// beside it.
type scaleRun struct {
	out, loadBefore, loadAfter string
}

// scaleBenchmarksRun runs the scale benchmarks once each.
func scaleBenchmarksRun(ctx context.Context, goCmd string) scaleRun {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	r := scaleRun{loadBefore: loadavg()}
	_, out, err := timed(ctx, nil, goCmd, "test", "-run=^$", "-bench="+scaleBenchmarks, "-benchmem", "-benchtime=1x", "-count=1", "./scenarios/", "./server/")
	r.loadAfter = loadavg()
	if err != nil {
		out += "\n" + err.Error()
	}
	var kept []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Benchmark") || strings.HasPrefix(line, "pkg:") || strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "---") {
			kept = append(kept, line)
		}
	}
	r.out = strings.Join(kept, "\n")
	return r
}

func medians(runs map[string][]float64) map[string]float64 {
	m := map[string]float64{}
	for name, v := range runs {
		slices.Sort(v)
		m[name] = v[len(v)/2]
	}
	return m
}

// startDovecot installs dovecot-imapd when root and missing, and starts
// it with the bench scenario's messages; nil when it cannot run, with the
// reason in the report.
func startDovecot(ctx context.Context, r *report, dir string) *dovecot.Dovecot {
	if _, err := exec.LookPath("dovecot"); err != nil && os.Geteuid() == 0 {
		logf("installing dovecot-imapd")
		ictx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		env := []string{"DEBIAN_FRONTEND=noninteractive"}
		if _, out, err := timed(ictx, env, "apt-get", "install", "-y", "dovecot-imapd"); err != nil {
			logf("apt-get install failed (%v), updating the package lists first:\n%s", err, out)
			timed(ictx, env, "apt-get", "update")
			timed(ictx, env, "apt-get", "install", "-y", "dovecot-imapd")
		}
		cancel()
	}
	msgs, err := plainMessages()
	if err != nil {
		r.dovecot = err.Error()
		return nil
	}
	d, err := startPeer(ctx, dir, "dovecot", msgs, false, max(r.opts.dovecotIdle+100, 200))
	if err != nil {
		r.dovecot = "Dovecot columns skipped: " + err.Error()
		if errors.Is(err, dovecot.ErrUnavailable) {
			r.dovecot += " (make bench installs it when run as root)"
		}
		logf("%s", r.dovecot)
		return nil
	}
	_, v, _ := timed(ctx, nil, "dovecot", "--version")
	r.dovecot = "Dovecot " + strings.TrimSpace(v)
	r.peer = true
	return d
}

// plainMessages are the messages of plain.toml's INBOX, for Dovecot.
func plainMessages() ([][]byte, error) {
	sc, err := scenarios.Parse("plain.toml", mustRead("plain.toml"), nil)
	if err != nil {
		return nil, err
	}
	seeds, err := sc.Seeds(&sc.Users[0].Mailboxes[0], time.Now())
	if err != nil {
		return nil, err
	}
	msgs := make([][]byte, len(seeds))
	for i, s := range seeds {
		msgs[i] = s.Raw
	}
	return msgs, nil
}

func mustRead(name string) []byte {
	b, err := bench.Scenarios.ReadFile("scenarios/" + name)
	if err != nil {
		panic(err) // embedded at build time
	}
	return b
}

func target(addr string) bench.Target {
	sc, _ := scenarios.Parse("plain.toml", mustRead("plain.toml"), nil)
	return bench.Target{Addr: addr, User: sc.Users[0].Name, Password: sc.Users[0].Password}
}

// runLoad drives every server at every concurrency level, one at a time,
// interleaved so that a slow spell of the machine hits all of them.
func (r *report) runLoad(ctx context.Context, dir string, d, tuned *dovecot.Dovecot) error {
	targets := map[string]bench.Target{}
	for i, label := range []string{imapfault, neverfire, second} {
		file := map[string]string{neverfire: "neverfire.toml"}[label]
		if file == "" {
			file = "plain.toml"
		}
		sdir := filepath.Join(dir, "load"+strconv.Itoa(i))
		if err := os.Mkdir(sdir, 0o755); err != nil {
			return err
		}
		s, err := serve(ctx, r.opts.bin, file, sdir)
		if err != nil {
			return err
		}
		defer s.stop()
		targets[label] = target(s.addr)
	}
	if d != nil {
		targets[dovecotL] = target(d.Plain)
	}
	if tuned != nil {
		targets[dovecotTuned] = target(tuned.Plain)
		r.hasTuned = true
	}
	for _, label := range r.loadTargets() {
		// Warm up: first connections, page faults, Dovecot's first forks.
		bench.Load(ctx, targets[label], bench.LoadOptions{Clients: 10, Duration: 500 * time.Millisecond})
		r.load[label] = map[int]*bench.LoadResult{}
	}
	for _, n := range clientCounts {
		logf("  %d clients", n)
		before := loadavg()
		for range loadRounds {
			for _, label := range r.loadTargets() {
				res, err := bench.Load(ctx, targets[label], bench.LoadOptions{Clients: n, Duration: r.opts.duration / loadRounds})
				if err != nil {
					return err
				}
				if r.load[label][n] == nil {
					r.load[label][n] = &bench.LoadResult{}
				}
				r.load[label][n].Add(res)
			}
		}
		r.loadAvg[n] = [2]string{before, loadavg()}
	}
	for _, label := range []string{imapfault, dovecotL} {
		if _, ok := targets[label]; !ok {
			continue
		}
		logf("  APPEND with Nagle on: %s", label)
		res, err := bench.Load(ctx, targets[label], bench.LoadOptions{Clients: 1, Duration: r.opts.duration, Nagle: true})
		if err != nil {
			return err
		}
		r.nagle[label] = res
	}
	return nil
}

// loadTargets are the servers the load runs against.
func (r *report) loadTargets() []string { return append(r.servers(), second) }

// servers are the servers the tables compare.
func (r *report) servers() []string {
	s := []string{imapfault, neverfire}
	if r.peer {
		s = append(s, dovecotL)
	}
	if r.hasTuned {
		s = append(s, dovecotTuned)
	}
	return s
}

// idleSources are the client addresses the idle connections come from,
// each with its own range of ephemeral ports.
var idleSources = []string{"127.0.0.1", "127.0.0.3", "127.0.0.4", "127.0.0.5"}

// runIdle holds idle connections against a fresh imapfault server and
// against Dovecot, measuring both the same way: RSS and PSS summed over
// the server's processes (one for imapfault, Dovecot's process group).
func (r *report) runIdle(ctx context.Context, dir string, d *dovecot.Dovecot) {
	sdir := filepath.Join(dir, "idle")
	os.Mkdir(sdir, 0o755)
	res := idleResult{server: imapfault, want: r.opts.idle}
	s, err := serve(ctx, r.opts.bin, "plain.toml", sdir)
	if err != nil {
		res.err = err
		r.idle = append(r.idle, res)
		return
	}
	defer s.stop()
	pid := s.cmd.Process.Pid
	r.idle = append(r.idle, holdIdle(ctx, target(s.addr), res, func() (mem, error) { return processMem(pid) }))
	if d != nil {
		res := idleResult{server: dovecotL, want: r.opts.dovecotIdle}
		r.idle = append(r.idle, holdIdle(ctx, target(d.Plain), res, func() (mem, error) { return groupMem(d.Pid()) }))
	}
}

func holdIdle(ctx context.Context, t bench.Target, res idleResult, measure func() (mem, error)) idleResult {
	// One session first, so that the baseline includes what the first
	// connection initialises once (the store, the session machinery).
	bench.Load(ctx, t, bench.LoadOptions{Clients: 1, Duration: time.Millisecond})
	time.Sleep(500 * time.Millisecond)
	if res.before, res.err = measure(); res.err != nil {
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	start := time.Now()
	h, err := bench.HoldIdle(ctx, t, res.want, 50, idleSources)
	defer h.Close()
	res.setup = time.Since(start)
	res.held, res.err = h.Len(), err
	// Let the servers settle: Dovecot's processes finish starting, Go's
	// scavenger returns the set-up's garbage.
	time.Sleep(3 * time.Second)
	after, err := measure()
	if err != nil {
		res.err = err
		return res
	}
	res.after = after
	return res
}

var verifyLine = regexp.MustCompile(`(\d+) passed, (\d+) failed`)

// runVerify times the verify suite over the built-in library.
func (r *report) runVerify(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	d, out, err := timed(ctx, nil, r.opts.bin, "verify")
	r.verify = timing{runs: []time.Duration{d}, err: err}
	if m := verifyLine.FindString(out); m != "" {
		r.verify.detail = m
	}
}

// checkRuns is how many times check and curl each run.
const checkRuns = 15

// runCheck times "imapfault check" and curl, alternately, against one
// healthy server (STARTTLS, as the scenario says).
func (r *report) runCheck(ctx context.Context, dir string) {
	sdir := filepath.Join(dir, "check")
	os.Mkdir(sdir, 0o755)
	s, err := serve(ctx, r.opts.bin, "healthy", sdir)
	if err != nil {
		r.check["check"] = timing{err: err}
		return
	}
	defer s.stop()
	sc, err := scenarios.Builtin("healthy")
	if err != nil {
		r.check["check"] = timing{err: err}
		return
	}
	u := sc.Users[0]
	_, port, _ := strings.Cut(s.addr, ":")
	cmds := map[string][]string{
		"check": {r.opts.bin, "check", "--user", u.Name, "--ca-file", s.caPath, "--server-name", "localhost", "--tls", "starttls", s.addr},
		"curl": {"curl", "-sS", "-o", os.DevNull, "--ssl-reqd", "--cacert", s.caPath, "--resolve", "localhost:" + port + ":127.0.0.1",
			"--user", u.Name + ":" + u.Password, "imap://localhost:" + port + "/INBOX;UID=1"},
	}
	env := []string{"IMAPFAULT_PASSWORD=" + u.Password}
	for i := range checkRuns {
		for _, name := range []string{"check", "curl"} {
			if i == 0 {
				// The first run of each fills the page cache.
				timed(ctx, env, cmds[name][0], cmds[name][1:]...)
			}
			tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			d, out, err := timed(tctx, env, cmds[name][0], cmds[name][1:]...)
			cancel()
			t := r.check[name]
			if err != nil && t.err == nil {
				t.err = fmt.Errorf("%s: %v: %s", name, err, out)
			}
			t.runs = append(t.runs, d)
			r.check[name] = t
		}
	}
	for name, t := range r.check {
		slices.Sort(t.runs)
		t.detail = strings.Join(cmds[name], " ")
		r.check[name] = t
	}
	_, r.checkOut, _ = timed(ctx, env, cmds["check"][0], cmds["check"][1:]...)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64)
}
