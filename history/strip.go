package history

import (
	"time"

	"github.com/imapfault/imapfault/status"
)

// Strip is Timeline kept up to date one result at a time, for a live
// view that redraws the last n slots often: each result is credited to
// the slots it stands over once, when the next one arrives, so that
// drawing the strip costs O(n) however many results the window holds.
//
// Its slots are whole multiples of width on the clock (15-minute slots
// start at :00, :15, ...), so that a slot's figures, once credited, stay
// put as time goes on; Slots(now) equals Timeline over the same results
// from End(now)-n*width to End(now) in n slots. A Strip is not safe for
// concurrent use.
type Strip struct {
	width time.Duration
	slots []Slot // oldest first; the newest ends at end
	end   time.Time
	last  stood // the newest result, credited when the next one arrives
	has   bool
}

// stood is what the strip needs of a result: a copy of a whole Result
// per result was most of the cost of feeding a day of them.
type stood struct {
	at       time.Time
	interval time.Duration
	state    status.State
}

func (r stood) until(next time.Time) time.Time { return standsUntil(r.at, r.interval, next) }

// NewStrip returns an empty strip of n slots of width each.
func NewStrip(n int, width time.Duration) *Strip {
	return &Strip{width: width, slots: make([]Slot, n)}
}

// End is when the strip drawn at now ends: now rounded up to a whole
// slot, so that the newest slot holds now.
func (s *Strip) End(now time.Time) time.Time {
	e := now.Truncate(s.width)
	if e.Before(now) {
		e = e.Add(s.width)
	}
	return e
}

// Add records the target's next result. Results must come in the order
// they started, none later than the now given to Slots.
func (s *Strip) Add(r Result) {
	if s.has {
		until := s.last.until(r.Time)
		s.advance(s.End(until))
		credit(s.slots, s.last, until)
	}
	s.last, s.has = stood{r.Time, r.Interval, r.State}, true
}

// Slots returns the strip at now: the slots ending at End(now), the
// newest result standing as far as Timeline lets it.
func (s *Strip) Slots(now time.Time) []Slot {
	s.advance(s.End(now))
	out := make([]Slot, len(s.slots))
	copy(out, s.slots)
	if s.has {
		credit(out, s.last, s.last.until(s.end))
	}
	for i := range out {
		out[i].Unmonitored = max(s.width-out[i].UpTime-out[i].DownTime, 0)
	}
	return out
}

// advance moves the strip's end forward to end (never back), dropping
// the slots that leave it.
func (s *Strip) advance(end time.Time) {
	if !end.After(s.end) {
		return
	}
	n := len(s.slots)
	k := n
	if !s.end.IsZero() {
		k = int(min(end.Sub(s.end)/s.width, time.Duration(n)))
	}
	copy(s.slots, s.slots[k:])
	from := end.Add(-time.Duration(n) * s.width)
	for i := n - k; i < n; i++ {
		sf := from.Add(time.Duration(i) * s.width)
		s.slots[i] = Slot{From: sf, To: sf.Add(s.width)}
	}
	s.end = end
}

// credit adds the time r stands for, up to until, to the slots it
// overlaps, as summarizeTarget counts it: up, down, or neither.
func credit(slots []Slot, r stood, until time.Time) {
	if len(slots) == 0 || !until.After(r.at) {
		return
	}
	width := slots[0].To.Sub(slots[0].From)
	first := max(int(r.at.Sub(slots[0].From)/width), 0)
	for i := first; i < len(slots) && slots[i].From.Before(until); i++ {
		span := earlier(until, slots[i].To).Sub(later(r.at, slots[i].From))
		if span <= 0 {
			continue
		}
		switch {
		case r.state.Up():
			slots[i].UpTime += span
		case r.state == status.Critical:
			slots[i].DownTime += span
		}
	}
}
