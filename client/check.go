package client

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/imapfault/imapfault/client/phase"
)

// Check walks the server at opts.Addr phase by phase and reports what it
// found. The error is only for invalid Options: every failure of the
// server is a Diagnosis in the Report. Each phase is bounded by its
// timeout (opts.PhaseTimeouts, else opts.StepTimeout), so the whole check
// is bounded by a small multiple of them.
func Check(ctx context.Context, opts Options) (*Report, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	red := newRedactor(o.Password, o.Token)
	w := &walk{
		ctx: ctx,
		o:   &o,
		red: red,
		tr:  newTranscript(start, o.Logger, red),
		rep: &Report{
			Target:   o.Addr,
			TLSMode:  o.TLS,
			Insecure: o.Insecure,
			User:     o.User,
			Auth:     o.Auth,
			Mailbox:  o.Mailbox,
			Write:    o.Write,
			Started:  start,
		},
	}
	w.run()
	w.finish(start)
	o.Logger.Info("check done", slog.String("target", o.Addr), slog.String("code", w.rep.Diagnosis.Code),
		slog.String("phase", w.rep.Diagnosis.Phase), slog.Int("warnings", len(w.rep.Warnings)), slog.Duration("took", w.rep.Duration))
	return w.rep, nil
}

// walk is the state of one check.
type walk struct {
	ctx context.Context
	o   *Options
	red *redactor
	tr  *transcript
	rep *Report
	s   *session // the main session, once connected

	failed  bool
	warns   []Diagnosis
	preauth bool

	// What the main session learned, for the later phases.
	exists       uint32
	testUID      uint32 // of the message --write appended
	readOnly     bool
	permKeywords bool
	inboxListed  bool
	mailboxSeen  bool

	capLists [][]string // every capability list seen, for naming the server
}

func (w *walk) run() {
	defer func() {
		if w.s != nil {
			in, out := w.s.rc.counts()
			w.s.info("closed: %d bytes received, %d sent", in, out)
			w.s.close()
		}
	}()
	if !w.step(phase.Connect, nil, w.connect) {
		return
	}
	if w.o.TLS == TLSImplicit && !w.step(phase.TLS, w.s, w.tlsStep) {
		return
	}
	if !w.step(phase.Greeting, w.s, w.greeting) {
		return
	}
	if !w.step(phase.Capability, w.s, w.capability) {
		return
	}
	if w.o.TLS == TLSStartTLS {
		if !w.step(phase.StartTLS, w.s, w.starttls) || !w.step(phase.TLS, w.s, w.tlsStep) || !w.step(phase.Capability, w.s, w.capability) {
			return
		}
	}
	w.plaintextWarning()
	if w.o.User != "" && !w.preauth {
		if !w.step(phase.Auth, w.s, w.auth) {
			return
		}
	}
	if w.s.has("ID") && !w.step(phase.ID, w.s, w.id) {
		return
	}
	if w.o.User != "" || w.preauth {
		for _, p := range []struct {
			ph phase.Phase
			fn func(context.Context) (string, *Diagnosis)
		}{
			{phase.List, w.list}, {phase.Select, w.selectMailbox}, {phase.Fetch, w.fetch}, {phase.Idle, w.idle},
		} {
			if !w.step(p.ph, w.s, p.fn) {
				return
			}
		}
		// The flag round-trip works on the test message, so that --write
		// never touches a message of the user's.
		if w.o.Write {
			if !w.step(phase.Append, w.s, w.appendMessage) {
				return
			}
			if !w.step(phase.Flags, nil, w.flags) {
				w.removeTestMessage()
				return
			}
			if !w.step(phase.Delete, w.s, w.deleteMessage) {
				return
			}
		}
	}
	w.step(phase.Logout, w.s, w.logout)
}

// removeTestMessage tries to delete the test message after a failed flag
// round-trip, outside the walk: its outcome changes no diagnosis.
func (w *walk) removeTestMessage() {
	ctx, done := w.s.arm(w.ctx, phase.Delete)
	defer done()
	if detail, d := w.deleteMessage(ctx); d != nil {
		w.s.info("could not delete the test message: %s", d.Evidence)
	} else {
		w.s.info("cleanup: %s", detail)
	}
}

// step runs one phase under its deadline and records its outcome. A nil
// session means the phase bounds its own waits (connect).
func (w *walk) step(ph phase.Phase, s *session, fn func(context.Context) (string, *Diagnosis)) bool {
	start := time.Now()
	ctx, done := w.ctx, func() {}
	if s != nil {
		ctx, done = s.arm(w.ctx, ph)
	}
	nWarn := len(w.warns)
	if w.s != nil {
		w.s.statuses = w.s.statuses[:0]
	}
	detail, d := fn(ctx)
	done()
	if d == nil {
		switch ph {
		case phase.Greeting, phase.Capability, phase.Auth:
			w.identify()
		case phase.ID:
			w.identifyByID()
		}
		w.noteRecognisedOK(string(ph))
	}
	st := Step{Phase: string(ph), Duration: time.Since(start), OK: d == nil, Detail: w.red.redact(detail), Warning: len(w.warns) > nWarn}
	if d != nil {
		if w.interrupted() {
			cause := context.Cause(w.ctx)
			if cause == nil {
				cause = context.DeadlineExceeded
			}
			*d = diag(CodeCheckCanceled, string(ph), fmt.Sprintf("check interrupted during %s: %v", ph, cause))
		}
		w.refine(string(ph), d)
		d.Evidence = w.red.redact(d.Evidence)
		if st.Detail == "" {
			st.Detail = d.Code
		}
		w.rep.Diagnosis = *d
		w.failed = true
		w.tr.add(w.sessionID(), "!!", d.Code+": "+d.Evidence)
	}
	w.rep.Steps = append(w.rep.Steps, st)
	return d == nil
}

// interrupted reports whether the caller's context ended. Its deadline
// is also the connection's, and the connection may notice first.
func (w *walk) interrupted() bool {
	if w.ctx.Err() != nil {
		return true
	}
	dl, ok := w.ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

func (w *walk) sessionID() int {
	if w.s == nil {
		return 1
	}
	return w.s.id
}

// warn adds a warning once per code.
func (w *walk) warn(d Diagnosis) {
	for _, x := range w.warns {
		if x.Code == d.Code {
			return
		}
	}
	d.Evidence = w.red.redact(d.Evidence)
	w.warns = append(w.warns, d)
	w.tr.add(w.sessionID(), "==", "warning "+d.Code+": "+d.Evidence)
}

func (w *walk) finish(start time.Time) {
	if w.s != nil && w.s.r.sawBareLF {
		w.warn(diag(CodeProtocolBareLF, "greeting", "at least one line from the server ended in LF without CR"))
	}
	if !w.failed {
		w.rep.Diagnosis = diag(CodeOK, "logout", "every step passed")
		if w.o.User == "" && !w.preauth {
			w.rep.Diagnosis.Evidence = "reachable: every probe step passed (no --user, so no login was tried)"
		}
	}
	// Empty lists, not null, keep the JSON shape stable for consumers.
	w.rep.Warnings = nonNil(w.warns)
	w.rep.Newest = nonNil(w.rep.Newest)
	w.rep.Capabilities = nonNil(w.rep.Capabilities)
	w.rep.Duration = time.Since(start)
	w.rep.Transcript = w.tr.snapshot()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
