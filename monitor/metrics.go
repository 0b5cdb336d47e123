package monitor

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/status"
)

// probeMetrics are the per-check metrics: the names blackbox_exporter
// users know, plus the steps and the diagnosis. /metrics labels them by
// target; /probe serves them unlabelled from a fresh registry, as
// blackbox_exporter does, and Prometheus adds the instance.
type probeMetrics struct {
	success    *prometheus.GaugeVec
	duration   *prometheus.GaugeVec
	certExpiry *prometheus.GaugeVec
	tlsVersion *prometheus.GaugeVec
	step       *prometheus.GaugeVec
	diagnosis  *prometheus.GaugeVec
	state      *prometheus.GaugeVec
	labelled   bool
}

func newProbeMetrics(reg prometheus.Registerer, byTarget bool) *probeMetrics {
	var base []string
	if byTarget {
		base = []string{"target"}
	}
	labels := func(extra ...string) []string { return append(append([]string(nil), base...), extra...) }
	gauge := func(name, help string, extra ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels(extra...))
		reg.MustRegister(g)
		return g
	}
	return &probeMetrics{
		success:    gauge("probe_success", "Whether the last check passed (1) or failed (0); warnings pass."),
		duration:   gauge("probe_duration_seconds", "How long the last check took, in seconds."),
		certExpiry: gauge("probe_ssl_earliest_cert_expiry", "When the server certificate expires, in Unix seconds."),
		tlsVersion: gauge("probe_tls_version_info", "The TLS version negotiated by the last check.", "version"),
		step:       gauge("imapfault_step_duration_seconds", "How long each step of the last check took, in seconds.", "step"),
		diagnosis:  gauge("imapfault_diagnosis_info", "The diagnosis of the last check: its code and phase.", "code", "phase"),
		state:      gauge("imapfault_check_state", "The state of the last check, thresholds applied: 0 ok, 1 warning, 2 critical, 3 unknown."),
		labelled:   byTarget,
	}
}

// observe sets the metrics from one check of target ("" unlabelled).
func (p *probeMetrics) observe(rep *client.Report, state status.State, target string) {
	lv := func(extra ...string) []string {
		if !p.labelled {
			return extra
		}
		return append([]string{target}, extra...)
	}
	if p.labelled {
		// A target's last check replaces its previous one whole.
		for _, g := range []*prometheus.GaugeVec{p.certExpiry, p.tlsVersion, p.step, p.diagnosis} {
			g.DeletePartialMatch(prometheus.Labels{"target": target})
		}
	}
	p.success.WithLabelValues(lv()...).Set(boolFloat(state.Up()))
	p.duration.WithLabelValues(lv()...).Set(rep.Duration.Seconds())
	p.state.WithLabelValues(lv()...).Set(float64(state))
	if rep.TLS != nil {
		p.certExpiry.WithLabelValues(lv()...).Set(float64(rep.TLS.NotAfter.Unix()))
		p.tlsVersion.WithLabelValues(lv(rep.TLS.Version)...).Set(1)
	}
	// A phase walked twice (capability before and after STARTTLS) counts
	// its total time.
	sums := map[string]time.Duration{}
	for _, st := range rep.Steps {
		sums[st.Phase] += st.Duration
	}
	for phase, d := range sums {
		p.step.WithLabelValues(lv(phase)...).Set(d.Seconds())
	}
	p.diagnosis.WithLabelValues(lv(rep.Diagnosis.Code, rep.Diagnosis.Phase)...).Set(1)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// opsMetrics are the monitor's own: checks by result, alerting state,
// alert deliveries, history errors.
type opsMetrics struct {
	checks        *prometheus.CounterVec
	targetState   *prometheus.GaugeVec
	failing       *prometheus.GaugeVec
	lastCheck     *prometheus.GaugeVec
	alerts        *prometheus.CounterVec
	historyErrors prometheus.Counter
}

func newOpsMetrics(reg prometheus.Registerer) *opsMetrics {
	o := &opsMetrics{
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imapfault_checks_total",
			Help: "Checks run, by target and result (ok, warning, critical, unknown)."}, []string{"target", "result"}),
		targetState: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "imapfault_target_state",
			Help: "A target's alerting state: 0 ok, 1 warning, 2 critical (failing), 3 unknown (not checked yet)."}, []string{"target"}),
		failing: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "imapfault_target_failing",
			Help: "Whether a target failed enough checks in a row to alert (1) or not (0)."}, []string{"target"}),
		lastCheck: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "imapfault_last_check_timestamp_seconds",
			Help: "When a target's last check started, in Unix seconds."}, []string{"target"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imapfault_alert_deliveries_total",
			Help: "Alert deliveries by sink and result (delivered, retried, dropped)."}, []string{"sink", "result"}),
		historyErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "imapfault_history_errors_total",
			Help: "Results that could not be written to the history (full disk, locked database)."}),
	}
	reg.MustRegister(o.checks, o.targetState, o.failing, o.lastCheck, o.alerts, o.historyErrors)
	return o
}

func (o *opsMetrics) state(target string, s TargetState) {
	o.targetState.WithLabelValues(target).Set(float64(s.State))
	o.failing.WithLabelValues(target).Set(boolFloat(s.Failing))
	if !s.LastCheck.IsZero() {
		o.lastCheck.WithLabelValues(target).Set(float64(s.LastCheck.UnixNano()) / 1e9)
	}
	for _, r := range []status.State{status.OK, status.Warning, status.Critical, status.Unknown} {
		o.checks.WithLabelValues(target, r.String()) // present at 0, so that rate() sees the first
	}
}
