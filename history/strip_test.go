package history

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/status"
)

// TestStripEqualsTimeline: the strip kept one result at a time draws the
// same figures as Timeline over the same results, as the window slides
// across slot boundaries and past a whole day.
func TestStripEqualsTimeline(t *testing.T) {
	const n, width = 96, 15 * time.Minute
	start := time.Date(2026, 10, 1, 23, 7, 0, 0, time.UTC)
	states := []status.State{status.OK, status.OK, status.OK, status.Warning, status.Critical, status.Critical, status.Unknown}
	tests := []struct {
		name string
		gen  func(r *rand.Rand, at time.Time) (time.Duration, time.Duration) // interval, gap to the next
	}{
		{"every minute", func(*rand.Rand, time.Time) (time.Duration, time.Duration) { return time.Minute, time.Minute }},
		{"on slot boundaries", func(*rand.Rand, time.Time) (time.Duration, time.Duration) { return width, width }},
		{"late and missed checks", func(r *rand.Rand, _ time.Time) (time.Duration, time.Duration) {
			iv := 5 * time.Minute
			return iv, time.Duration(r.IntN(4))*iv + time.Duration(r.IntN(90))*time.Second
		}},
		{"no interval, long gaps", func(r *rand.Rand, _ time.Time) (time.Duration, time.Duration) {
			return 0, time.Duration(r.IntN(10*60)) * time.Minute
		}},
		{"a stop of more than a day", func(r *rand.Rand, at time.Time) (time.Duration, time.Duration) {
			if at.Sub(start) > 20*time.Hour && at.Sub(start) < 21*time.Hour {
				return time.Minute, 27 * time.Hour
			}
			return time.Minute, time.Minute + time.Duration(r.IntN(60))*time.Second
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			s := NewStrip(n, width)
			var rs []Result
			at := start
			state := status.OK
			for i := 0; at.Before(start.Add(40 * time.Hour)); i++ {
				if rng.IntN(20) == 0 {
					state = states[rng.IntN(len(states))]
				}
				iv, gap := tt.gen(rng, at)
				r := Result{Target: "t", Time: at, Interval: iv, State: state}
				rs = append(rs, r)
				s.Add(r)
				// Every few results (Timeline over all so far is slow under
				// -race), look at the strip at moments before the next
				// result, in order: at it, between, and on the next slot
				// boundary.
				nows := []time.Time{at, at.Add(gap / 2), at.Truncate(width).Add(width)}
				slices.SortFunc(nows, time.Time.Compare)
				for _, now := range nows {
					if i%7 != 0 || now.After(at.Add(gap)) {
						continue
					}
					end := s.End(now)
					want := Timeline(rs, "t", end.Add(-n*width), end, n)
					if diff := cmp.Diff(want, s.Slots(now)); diff != "" {
						t.Fatalf("result %d at %s, now %s: strip differs from Timeline (-want +got):\n%s", i, at, now, diff)
					}
				}
				at = at.Add(gap)
			}
		})
	}
}

func TestStripEnd(t *testing.T) {
	s := NewStrip(96, 15*time.Minute)
	day := time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ now, want time.Time }{
		{day, day},
		{day.Add(time.Nanosecond), day.Add(15 * time.Minute)},
		{day.Add(15*time.Minute - time.Nanosecond), day.Add(15 * time.Minute)},
	} {
		if got := s.End(tt.now); !got.Equal(tt.want) {
			t.Errorf("End(%s) = %s, want %s", tt.now, got, tt.want)
		}
	}
	if got := len(s.Slots(day)); got != 96 {
		t.Errorf("an empty strip has %d slots, want 96", got)
	}
}
