package monitor

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A failed delivery is retried with backoff, and the alert arrives once.
func TestAlertRetried(t *testing.T) {
	rcv := newReceiver(t)
	rcv.fail = 2
	ops := newOpsMetrics(prometheus.NewRegistry())
	sinks, err := newSinks([]Sink{{Type: SinkWebhook, URL: rcv.srv.URL + "/hook", Timeout: time.Minute, Retries: ptr(3)}}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	d := newDispatcher(sinks, testLogger(t), ops)
	d.backoff = time.Millisecond
	done := d.start(context.Background())
	d.send(Alert{Target: "a", Status: AlertFiring, Code: "auth.failed"})
	d.close()
	<-done
	if got := rcv.summaries(); len(got) != 1 || got[0].Code != "auth.failed" {
		t.Errorf("received %+v, want the one alert", got)
	}
	for result, want := range map[string]float64{"retried": 2, "delivered": 1, "dropped": 0} {
		if got := testutil.ToFloat64(ops.alerts.WithLabelValues(sinks[0].name, result)); got != want {
			t.Errorf("deliveries %s = %v, want %v", result, got, want)
		}
	}
}

// An exec hook gets the alert's JSON on stdin; a dead sink gives up
// after its retries without holding the others.
func TestExecSinkAndDeadSink(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "alert.json")
	ops := newOpsMetrics(prometheus.NewRegistry())
	sinks, err := newSinks([]Sink{
		{Type: SinkWebhook, URL: "http://127.0.0.1:1/dead", Timeout: time.Second, Retries: ptr(1)},
		{Type: SinkExec, Command: []string{"/bin/sh", "-c", `cat > "$0"; echo "$IMAPFAULT_ALERT_STATUS" >> "$0"`, out}, Timeout: time.Minute, Retries: ptr(0)},
	}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	d := newDispatcher(sinks, testLogger(t), ops)
	d.backoff = time.Millisecond
	done := d.start(context.Background())
	d.send(Alert{Target: "a", Status: AlertResolved, Code: "tcp.refused"})
	d.close()
	<-done
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	body, status, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	var a Alert
	if err := json.Unmarshal([]byte(body), &a); err != nil || a.Code != "tcp.refused" || status != "resolved" {
		t.Errorf("exec hook got %q (%v), want the alert and its status", b, err)
	}
	if got := testutil.ToFloat64(ops.alerts.WithLabelValues(sinks[0].name, "dropped")); got != 1 {
		t.Errorf("dead sink dropped = %v, want 1", got)
	}
}

func TestAlertmanagerPayload(t *testing.T) {
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := alertmanagerPayload(Alert{Target: "acme", Address: "h:993", Status: AlertResolved, Code: "auth.failed",
		Since: since, At: since.Add(time.Minute)}).(amPayload)
	b, _ := json.Marshal(p)
	for _, want := range []string{`"version":"4"`, `"status":"resolved"`, `"alertname":"IMAPCheckFailing"`, `"target":"acme"`,
		`"startsAt":"2026-01-01T00:00:00Z"`, `"endsAt":"2026-01-01T00:01:00Z"`, `"groupKey":"{}:{alertname=\"IMAPCheckFailing\", target=\"acme\"}"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("payload %s lacks %s", b, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
