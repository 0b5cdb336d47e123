package faults

import (
	"context"
	"strings"
	"time"
)

func (c *Conn) setPhase(p phase) {
	c.smu.Lock()
	c.phase = p
	c.smu.Unlock()
}

// enterPhase records a new phase, fires the faults waiting for it and arms
// its timers.
func (c *Conn) enterPhase(p phase) error {
	c.setPhase(p)
	c.armTimers(p)
	return c.fire(c.life(), Event{Point: PointPhase, Phase: p.String()})
}

// inflightTag returns the tag of the in-flight command that tag names, or
// "": a reply's tag then costs no allocation.
func (c *Conn) inflightTag(tag []byte) string {
	c.smu.Lock()
	defer c.smu.Unlock()
	for _, cmd := range c.inflight {
		if cmd.Tag == string(tag) {
			return cmd.Tag
		}
	}
	return ""
}

func (c *Conn) popInflight(tag string) *Command {
	c.smu.Lock()
	defer c.smu.Unlock()
	for i, cmd := range c.inflight {
		if cmd.Tag == tag {
			c.inflight = append(c.inflight[:i], c.inflight[i+1:]...)
			return cmd
		}
	}
	return nil
}

// current is the oldest command the server has not answered yet: the one
// its output belongs to.
func (c *Conn) current() *Command {
	c.smu.Lock()
	defer c.smu.Unlock()
	if len(c.inflight) == 0 {
		return nil
	}
	return c.inflight[0]
}

// matches checks a fault's per-connection conditions for an event.
func (c *Conn) matches(a *armed, ev *Event) bool {
	w := a.When
	if w.Point() != ev.Point {
		return false
	}
	if !a.onConn(c.n) {
		return false
	}
	switch ev.Point {
	case PointCommand, PointReply:
		if !w.matchCommand(ev.Command.Name) || (w.Nth > 0 && w.Nth != ev.Command.N) {
			return false
		}
		if ev.Point == PointReply && !strings.EqualFold(w.Reply, ev.Status) {
			return false
		}
		if w.Phase != "" && w.Phase != ev.Phase && ev.Point == PointCommand {
			return false
		}
	case PointPhase:
		if w.Phase != ev.Phase {
			return false
		}
	}
	return true
}

// fire runs the event actions matching ev, in the order the scenario
// declares them. errSwallowed from an action ends the command's journey.
// The caller holds wmu, so that actions write in turn with the server.
// ev is copied to the heap only for an action that runs: every command and
// reply passes through here, and most match nothing.
func (c *Conn) fire(ctx context.Context, ev Event) error {
	for _, a := range c.set.armed {
		act, ok := a.Action.(EventAction)
		if !ok || !c.matches(a, &ev) || !a.take() {
			continue
		}
		fired := ev
		c.logFired(a, &fired)
		if err := act.Apply(ctx, c, &fired); err != nil {
			return err
		}
	}
	return nil
}

// noteActed records in the transcript that a filter or shaper changed
// what the client gets. One that acts on every line or write (line
// endings, slicing, throttling) is noted once per connection, so that the
// transcript stays readable; the others each time. The caller holds wmu.
func (c *Conn) noteActed(a *armed) {
	if _, every := a.Action.(pervasive); every {
		if c.noted[a] {
			return
		}
		if c.noted == nil {
			c.noted = make(map[*armed]bool)
		}
		c.noted[a] = true
	}
	c.logFired(a, &Event{Phase: c.Phase()})
}

// pervasive marks an action that acts on every line or write it sees.
type pervasive interface{ pervasive() }

func (*LineEndings) pervasive() {}
func (*Slice) pervasive()       {}
func (*Throttle) pervasive()    {}

func (c *Conn) logFired(a *armed, ev *Event) {
	c.tap(TapEvent{Dir: DirInfo, Data: []byte("fault: " + a.Action.Kind())})
	if c.opts.Logger != nil {
		c.opts.Logger.Debug("fault fired", "conn", c.n, "fault", a.Action.Kind(), "phase", ev.Phase)
	}
}

// armTimers starts the timer faults that count from phase p. Each runs in
// a goroutine the connection owns: it ends when the connection closes or
// the phase it belongs to is over.
func (c *Conn) armTimers(p phase) {
	c.smu.Lock()
	c.epoch++
	epoch := c.epoch
	c.smu.Unlock()
	for _, a := range c.set.armed {
		w := a.When
		act, ok := a.Action.(EventAction)
		if !ok || w.Point() != PointTimer || !a.onConn(c.n) {
			continue
		}
		from := w.Phase
		if from == "" {
			from = PhaseConnect
		}
		if from != p.String() {
			continue
		}
		c.goOwned(func() { c.runTimer(a, act, epoch) })
	}
}

func (c *Conn) runTimer(a *armed, act EventAction, epoch int) {
	w := a.When
	wait := w.After
	if wait == 0 {
		wait = w.Every
	}
	for {
		t := time.NewTimer(wait)
		select {
		case <-c.life().Done():
			t.Stop()
			return
		case <-t.C:
		}
		c.smu.Lock()
		over := w.Phase != "" && c.epoch != epoch
		c.smu.Unlock()
		if over || !a.take() {
			return
		}
		ev := &Event{Point: PointTimer, Phase: c.Phase()}
		c.wmu.Lock()
		c.logFired(a, ev)
		err := act.Apply(c.life(), c, ev)
		c.wmu.Unlock()
		if err != nil || w.Every == 0 {
			return
		}
		wait = w.Every
	}
}

// filterActive reports whether a line filter applies to the current line.
func (c *Conn) filterActive(a *armed, cmd *Command) bool {
	w := a.When
	if !c.filterMatches(a, cmd) {
		return false
	}
	if w.First > 0 || w.Probability > 0 {
		return a.take()
	}
	return true
}

// filterMatches is filterActive without counting a firing against First
// or drawing for Probability, for questions that send nothing.
func (c *Conn) filterMatches(a *armed, cmd *Command) bool {
	w := a.When
	if !a.onConn(c.n) {
		return false
	}
	if w.Phase != "" && w.Phase != c.Phase() {
		return false
	}
	if w.Command != "" {
		if cmd == nil {
			cmd = c.current()
		}
		if cmd == nil || !w.matchCommand(cmd.Name) || (w.Nth > 0 && w.Nth != cmd.N) {
			return false
		}
	}
	return true
}

func (c *Conn) literalLimit(size int64, cmd *Command) int64 {
	limit := int64(-1)
	for _, a := range c.set.armed {
		f, ok := a.Action.(LiteralFilter)
		if !ok || !c.filterActive(a, cmd) {
			continue
		}
		if l := f.LiteralLimit(size); l < size && (limit < 0 || l < limit) {
			limit = l
		}
	}
	return limit
}
