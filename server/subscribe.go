package server

import "sync"

// A Subscription receives the transcript's lines as they are recorded,
// for a test that waits for what a client sends rather than sleeping. A
// subscriber that falls behind by more than its buffer is dropped, not
// waited for: the server never blocks on an observer. Its channel is then
// closed and Dropped reports true.
type Subscription struct {
	ch      chan Entry
	t       *Transcript
	once    sync.Once
	dropped bool // set under t.mu before ch is closed
}

// Lines returns the channel of entries; it is closed when the
// subscription ends (Close, or dropped for falling behind).
func (s *Subscription) Lines() <-chan Entry { return s.ch }

// Dropped reports whether the server ended the subscription because its
// reader fell behind. Meaningful once Lines is closed.
func (s *Subscription) Dropped() bool {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	return s.dropped
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	s.t.unsubscribe(s)
}

// Subscribe starts a subscription to the transcript's new lines with room
// for buffer lines not yet read (at least 1).
func (s *Server) Subscribe(buffer int) *Subscription {
	t := s.transcript
	sub := &Subscription{ch: make(chan Entry, max(buffer, 1)), t: t}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.subs == nil {
		t.subs = map[*Subscription]struct{}{}
	}
	t.subs[sub] = struct{}{}
	return sub
}

// publish hands an entry to every subscriber without waiting. The caller
// holds t.mu.
func (t *Transcript) publish(e Entry) {
	for sub := range t.subs {
		select {
		case sub.ch <- e:
		default:
			sub.dropped = true
			t.unsubscribe(sub)
		}
	}
}

// unsubscribe ends a subscription once. The caller holds t.mu.
func (t *Transcript) unsubscribe(sub *Subscription) {
	sub.once.Do(func() {
		delete(t.subs, sub)
		close(sub.ch)
	})
}

// endSubscriptions closes every subscription, when the server stops.
func (t *Transcript) endSubscriptions() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for sub := range t.subs {
		t.unsubscribe(sub)
	}
}
