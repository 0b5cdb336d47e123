package monitor

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/imapfault/imapfault/status"
)

// Routes registers /metrics and /probe on mux. It leaves "/" free, for a
// dashboard.
func (m *Monitor) Routes(mux *http.ServeMux) {
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slogErrorLog{m}}))
	mux.HandleFunc("GET /probe", m.probe)
}

type slogErrorLog struct{ m *Monitor }

func (l slogErrorLog) Println(v ...any) { l.m.log.Error("metrics: " + fmt.Sprint(v...)) }

// probe checks one target now and answers with its metrics alone, from a
// fresh registry: ?target=NAME checks a configured target;
// ?target=HOST:PORT&module=NAME checks that address with the settings and
// credentials of target NAME (allowed by its probe_hosts). A probe is not
// recorded and alerts no one: Prometheus and Alertmanager do that part
// when they schedule the checks.
func (m *Monitor) probe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	target, module := q.Get("target"), q.Get("module")
	if target == "" {
		http.Error(w, "probe: the target parameter is missing: ?target=NAME, or ?target=HOST:PORT&module=NAME", http.StatusBadRequest)
		return
	}
	var (
		t    *Target
		addr string
	)
	if module == "" {
		var ok bool
		if t, ok = m.cfg.Target(target); !ok {
			http.Error(w, fmt.Sprintf("probe: no target named %q in the config; to check an address, name a module too: ?target=HOST:PORT&module=NAME", target), http.StatusBadRequest)
			return
		}
		addr = t.Address
	} else {
		var ok bool
		if t, ok = m.cfg.Target(module); !ok {
			http.Error(w, fmt.Sprintf("probe: unknown module %q: a module is the name of a configured target", module), http.StatusBadRequest)
			return
		}
		host, port, err := net.SplitHostPort(target)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			http.Error(w, fmt.Sprintf("probe: target %q: want HOST:PORT with a module", target), http.StatusBadRequest)
			return
		}
		if !t.probeAllowed(target) {
			http.Error(w, fmt.Sprintf("probe: module %q may not be used for %s: add it to the target's probe_hosts", module, target), http.StatusForbidden)
			return
		}
		addr = target
	}
	ctx := r.Context()
	// Prometheus says how long it waits; answer a little before that, as
	// blackbox_exporter does, so that a slow server yields metrics
	// (probe_success 0) rather than a scrape timeout.
	if s, err := strconv.ParseFloat(r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64); err == nil && s > 1 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration((s-0.5)*float64(time.Second)))
		defer cancel()
	}
	// Without server_name, the certificate is checked for the probed
	// host, not the module's.
	rep := m.checkTarget(ctx, t, addr)
	state, _ := status.Judge(rep, t.warning, t.critical, time.Now())
	reg := prometheus.NewRegistry()
	newProbeMetrics(reg, false).observe(rep, state, "")
	m.log.Info("probe", "target", addr, "module", module, "state", state.String(), "code", rep.Diagnosis.Code, "took", rep.Duration)
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// probeAllowed reports whether /probe may send this target's credentials
// to addr: any address when probe_hosts is empty, else one that matches
// a pattern (path.Match on HOST:PORT, such as "*.example.com:993").
func (t *Target) probeAllowed(addr string) bool {
	if len(t.ProbeHosts) == 0 || addr == t.Address {
		return true
	}
	for _, p := range t.ProbeHosts {
		if ok, _ := path.Match(p, addr); ok {
			return true
		}
	}
	return false
}

func validPattern(p string) bool {
	_, err := path.Match(p, "")
	return err == nil
}
