package status

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/client/phase"
)

// Range is a monitoring-plugins threshold range: "10" alerts outside
// 0..10, "10:" below 10, "~:10" above 10, "10:20" outside 10..20, and a
// leading "@" inverts it (alert inside the range).
// See https://www.monitoring-plugins.org/doc/guidelines.html#THRESHOLDFORMAT.
type Range struct {
	Lo, Hi  float64 // -Inf and +Inf for open ends
	Inside  bool    // "@": alert when the value is inside
	Spec    string  // as written
	defined bool
}

// ParseRange parses one range.
func ParseRange(s string) (Range, error) {
	r := Range{Spec: s, Lo: 0, Hi: math.Inf(1), defined: true}
	body := s
	if strings.HasPrefix(body, "@") {
		r.Inside, body = true, body[1:]
	}
	if body == "" {
		return Range{}, fmt.Errorf("range %q: empty", s)
	}
	lo, hi, colon := strings.Cut(body, ":")
	if !colon {
		lo, hi = "0", body
	}
	var err error
	switch lo {
	case "~":
		r.Lo = math.Inf(-1)
	case "":
		r.Lo = 0
	default:
		if r.Lo, err = parseNumber(lo); err != nil {
			return Range{}, fmt.Errorf("range %q: %w", s, err)
		}
	}
	if hi != "" {
		if r.Hi, err = parseNumber(hi); err != nil {
			return Range{}, fmt.Errorf("range %q: %w", s, err)
		}
	}
	if r.Lo > r.Hi {
		return Range{}, fmt.Errorf("range %q: start %v is above end %v", s, r.Lo, r.Hi)
	}
	return r, nil
}

func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

// Alerts reports whether v breaches the range; an unset range never does.
func (r Range) Alerts(v float64) bool {
	if !r.defined {
		return false
	}
	inside := v >= r.Lo && v <= r.Hi
	return inside == r.Inside
}

// Thresholds are the ranges one level (warning or critical) judges a
// check by: the whole check's seconds, each step's seconds, and the days
// the server certificate has left.
type Thresholds struct {
	Total    Range
	Steps    map[string]Range // by phase
	CertDays Range
}

// Threshold keys besides the phases.
const (
	KeyTotal    = "total"
	KeyCertDays = "cert_days"
)

// ParseThresholds reads key=range pairs: "total", "cert_days" or a phase
// name, each with a range. It is the form of --warning/--critical
// ("total=5,auth=2,cert_days=14:") once split on commas, and of a monitor
// target's warning and critical tables.
func ParseThresholds(pairs map[string]string) (Thresholds, error) {
	var th Thresholds
	keys := make([]string, 0, len(pairs))
	for k := range pairs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r, err := ParseRange(pairs[k])
		if err != nil {
			return Thresholds{}, fmt.Errorf("%s: %w", k, err)
		}
		switch {
		case k == KeyTotal:
			th.Total = r
		case k == KeyCertDays:
			th.CertDays = r
		case phase.Valid(k):
			if th.Steps == nil {
				th.Steps = map[string]Range{}
			}
			th.Steps[k] = r
		default:
			return Thresholds{}, fmt.Errorf("unknown threshold %q (allowed: %s, %s, %s)", k, KeyTotal, KeyCertDays, strings.Join(phase.Names(), ", "))
		}
	}
	return th, nil
}

// SplitPairs splits "total=5,auth=2" into its pairs.
func SplitPairs(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: want KEY=RANGE, such as total=5 or cert_days=14:", part)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s given twice", k)
		}
		out[k] = v
	}
	return out, nil
}

// breaches lists what in rep breaches th, as "auth 2.10s outside 0:2".
func (th Thresholds) breaches(rep *client.Report, now time.Time) []string {
	var out []string
	if th.Total.Alerts(rep.Duration.Seconds()) {
		out = append(out, fmt.Sprintf("total %.3fs (threshold %s)", rep.Duration.Seconds(), th.Total.Spec))
	}
	for _, st := range rep.Steps {
		if r, ok := th.Steps[st.Phase]; ok && r.Alerts(st.Duration.Seconds()) {
			out = append(out, fmt.Sprintf("%s %.3fs (threshold %s)", st.Phase, st.Duration.Seconds(), r.Spec))
		}
	}
	if rep.TLS != nil && th.CertDays.Alerts(float64(rep.TLS.DaysLeft(now))) {
		out = append(out, fmt.Sprintf("certificate %d days left (threshold %s)", rep.TLS.DaysLeft(now), th.CertDays.Spec))
	}
	return out
}

// Judge returns the state of rep under the warning and critical
// thresholds, and what breached them (critical first). Thresholds only
// raise a state: a failed or canceled check stays what it is.
func Judge(rep *client.Report, warning, critical Thresholds, now time.Time) (State, []string) {
	s := Of(rep)
	if s == Critical || s == Unknown {
		return s, nil
	}
	if b := critical.breaches(rep, now); len(b) > 0 {
		return Critical, b
	}
	if b := warning.breaches(rep, now); len(b) > 0 {
		return Warning, b
	}
	return s, nil
}
