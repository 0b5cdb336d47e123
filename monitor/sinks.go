package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sink delivers one alert, once; the dispatcher retries.
type sink interface {
	deliver(ctx context.Context, a Alert) error
}

// configuredSink is a sink with its settings and the queue it drains.
type configuredSink struct {
	name    string // for logs and metrics: "alerts[0] webhook"
	s       sink
	timeout time.Duration
	retries int
}

func newSinks(cfg []Sink, getenv func(string) string) ([]*configuredSink, error) {
	out := make([]*configuredSink, 0, len(cfg))
	hc := &http.Client{}
	for i, c := range cfg {
		url := c.URL
		if c.URLEnv != "" {
			if url = getenv(c.URLEnv); url == "" {
				return nil, fmt.Errorf("monitor: alerts[%d]: $%s is not set", i, c.URLEnv)
			}
		}
		cs := &configuredSink{name: fmt.Sprintf("alerts[%d] %s", i, c.Type), timeout: c.Timeout, retries: *c.Retries}
		switch c.Type {
		case SinkWebhook:
			cs.s = &webhook{client: hc, url: url, body: func(a Alert) any { return a }}
		case SinkAlertmanager:
			cs.s = &webhook{client: hc, url: url, body: alertmanagerPayload}
		case SinkExec:
			cs.s = &execHook{argv: c.Command}
		default:
			return nil, fmt.Errorf("monitor: alerts[%d]: unknown type %q", i, c.Type)
		}
		out = append(out, cs)
	}
	return out, nil
}

// webhook POSTs an alert as JSON; any 2xx is delivered.
type webhook struct {
	client *http.Client
	url    string
	body   func(Alert) any
}

func (w *webhook) deliver(ctx context.Context, a Alert) error {
	b, err := json.Marshal(w.body(a))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "imapfault-monitor")
	resp, err := w.client.Do(req)
	if err != nil {
		// The URL may carry a token (url_env): keep only the cause.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			return ue.Unwrap()
		}
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // draining for reuse only
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return nil
}

// The Alertmanager webhook payload, version 4, as Alertmanager sends it
// to its receivers, so that existing receivers take our alerts.
type amPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amAlert         `json:"alerts"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// AlertName is the alertname label of the monitor's alerts.
const AlertName = "IMAPCheckFailing"

func alertmanagerPayload(a Alert) any {
	labels := map[string]string{"alertname": AlertName, "target": a.Target, "severity": "critical"}
	ann := map[string]string{
		"summary":     fmt.Sprintf("IMAP target %s (%s): %s", a.Target, a.Address, a.Code),
		"description": a.Evidence,
		"code":        a.Code,
		"phase":       a.Phase,
		"advice":      a.Advice,
	}
	if a.Previous != "" {
		ann["previous_code"] = a.Previous
	}
	al := amAlert{Status: string(a.Status), Labels: labels, Annotations: ann, StartsAt: a.Since,
		Fingerprint: fingerprint(labels)}
	if a.Status == AlertResolved {
		al.EndsAt = a.At
	}
	return amPayload{
		Version:           "4",
		GroupKey:          fmt.Sprintf(`{}:{alertname=%q, target=%q}`, AlertName, a.Target),
		Status:            string(a.Status),
		Receiver:          "imapfault",
		GroupLabels:       map[string]string{"alertname": AlertName, "target": a.Target},
		CommonLabels:      labels,
		CommonAnnotations: ann,
		Alerts:            []amAlert{al},
	}
}

// fingerprint identifies a label set, as Alertmanager's does (a hash of
// the sorted labels), in 16 hex digits.
func fingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := fnv.New64a()
	for _, k := range keys {
		io.WriteString(h, k+"\xff"+labels[k]+"\xff") //nolint:errcheck // hashes do not fail
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// execHook runs a command with the alert's JSON on stdin and its status,
// target and code in the environment; exit status 0 is delivered.
type execHook struct{ argv []string }

func (e *execHook) deliver(ctx context.Context, a Alert) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, e.argv[0], e.argv[1:]...)
	cmd.Stdin = bytes.NewReader(append(b, '\n'))
	cmd.Env = append(cmd.Environ(), "IMAPFAULT_ALERT_STATUS="+string(a.Status), "IMAPFAULT_ALERT_TARGET="+a.Target,
		"IMAPFAULT_ALERT_CODE="+a.Code)
	var stderr bytes.Buffer
	cmd.Stderr = &limited{w: &stderr, n: 512}
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", e.argv[0], err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// limited keeps the first n bytes written.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k]) //nolint:errcheck // a bytes.Buffer
		l.n -= k
	}
	return len(p), nil
}

// maxQueued bounds the alerts waiting for a sink that is down; the
// oldest go first, with a log line and a metric.
const maxQueued = 1000

// dispatcher delivers alerts to every sink, each from its own queue and
// goroutine, so that a slow or dead sink delays neither the checks nor
// the other sinks.
type dispatcher struct {
	sinks   []*configuredSink
	log     *slog.Logger
	ops     *opsMetrics
	backoff time.Duration // the first retry's wait; doubles up to a minute

	mu      sync.Mutex
	cond    *sync.Cond
	queues  [][]Alert
	closed  bool
	running bool
}

func newDispatcher(sinks []*configuredSink, log *slog.Logger, ops *opsMetrics) *dispatcher {
	d := &dispatcher{sinks: sinks, log: log, ops: ops, backoff: time.Second, queues: make([][]Alert, len(sinks))}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// send queues an alert for every sink; it never blocks.
func (d *dispatcher) send(a Alert) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, s := range d.sinks {
		if len(d.queues[i]) >= maxQueued {
			d.log.Error("alert dropped: the sink's queue is full", "sink", s.name, "target", d.queues[i][0].Target)
			d.ops.alerts.WithLabelValues(s.name, "dropped").Inc()
			d.queues[i] = d.queues[i][1:]
		}
		d.queues[i] = append(d.queues[i], a)
	}
	d.cond.Broadcast()
}

// start runs one delivery goroutine per sink until close has been called
// and the queues are empty, or ctx ends; the channel closes when all
// have returned.
func (d *dispatcher) start(ctx context.Context) <-chan struct{} {
	d.mu.Lock()
	d.closed, d.running = false, true
	d.mu.Unlock()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := range d.sinks {
		wg.Go(func() { d.run(ctx, i) })
	}
	// Wakes the waiting goroutines when ctx ends.
	stop := context.AfterFunc(ctx, func() {
		d.mu.Lock()
		d.cond.Broadcast()
		d.mu.Unlock()
	})
	go func() {
		wg.Wait()
		stop()
		close(done)
	}()
	return done
}

// close lets the delivery goroutines return once their queues are empty.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.cond.Broadcast()
	d.mu.Unlock()
}

func (d *dispatcher) run(ctx context.Context, i int) {
	s := d.sinks[i]
	for {
		d.mu.Lock()
		for len(d.queues[i]) == 0 && !d.closed && ctx.Err() == nil {
			d.cond.Wait()
		}
		if len(d.queues[i]) == 0 || ctx.Err() != nil {
			d.mu.Unlock()
			return
		}
		a := d.queues[i][0]
		d.queues[i] = d.queues[i][1:]
		d.mu.Unlock()
		d.deliver(ctx, s, a)
	}
}

// deliver tries an alert on one sink, retrying with backoff.
func (d *dispatcher) deliver(ctx context.Context, s *configuredSink, a Alert) {
	wait := d.backoff
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, s.timeout)
		err := s.s.deliver(actx, a)
		cancel()
		if err == nil {
			d.ops.alerts.WithLabelValues(s.name, "delivered").Inc()
			return
		}
		if attempt >= s.retries || ctx.Err() != nil {
			d.ops.alerts.WithLabelValues(s.name, "dropped").Inc()
			d.log.Error("alert not delivered", "sink", s.name, "target", a.Target, "status", string(a.Status),
				"attempts", strconv.Itoa(attempt+1), "err", err)
			return
		}
		d.ops.alerts.WithLabelValues(s.name, "retried").Inc()
		d.log.Warn("alert delivery failed; retrying", "sink", s.name, "target", a.Target, "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		wait = min(2*wait, time.Minute)
	}
}
