package client

import (
	"encoding/json"
	"math"
	"time"
)

// The JSON form gives durations in milliseconds (MarshalJSON); these read
// them back, so that a report written by check --json decodes whole:
// from-report replays its timing, and a report read back is the report
// written.

func fromMS(ms float64) time.Duration {
	return time.Duration(math.Round(ms * float64(time.Millisecond)))
}

// UnmarshalJSON reads duration_ms and flag_latency_ms.
func (r *Report) UnmarshalJSON(b []byte) error {
	type plain Report
	var v struct {
		plain
		DurationMS    float64 `json:"duration_ms"`
		FlagLatencyMS float64 `json:"flag_latency_ms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Report(v.plain)
	r.Duration, r.FlagLatency = fromMS(v.DurationMS), fromMS(v.FlagLatencyMS)
	return nil
}

// UnmarshalJSON reads duration_ms.
func (s *Step) UnmarshalJSON(b []byte) error {
	type plain Step
	var v struct {
		plain
		DurationMS float64 `json:"duration_ms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Step(v.plain)
	s.Duration = fromMS(v.DurationMS)
	return nil
}

// UnmarshalJSON reads elapsed_ms.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var v struct {
		plain
		ElapsedMS float64 `json:"elapsed_ms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*e = Event(v.plain)
	e.Elapsed = fromMS(v.ElapsedMS)
	return nil
}
