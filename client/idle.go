package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/imapfault/imapfault/client/phase"
)

// idle checks that the server accepts IDLE, answers "+", keeps the
// connection through a short hold, and ends it on DONE.
func (w *walk) idle(ctx context.Context) (string, *Diagnosis) {
	s := w.s
	if !s.hasIdle() {
		w.warn(diag(CodeIdleUnsupported, "idle", "CAPABILITY lacks IDLE"))
		return "not advertised: clients will have to poll", nil
	}
	start := time.Now()
	tag, d := startIdle(s)
	if d != nil {
		return "", d
	}
	cont := time.Since(start)
	// The hold is the tester's own choice, so it must not eat the time the
	// server gets to answer DONE: keep half the step for that.
	hold := min(w.o.IdleHold, time.Until(s.deadline)-w.o.timeout(phase.Idle)/2)
	hold = max(hold, 0)
	pushed := 0
	_, err := s.waitFor(ctx, hold, func(r *response) (bool, error) {
		if r.Tag != "*" {
			return true, &wireError{Kind: errParse, Line: r.Raw, Err: errors.New("unexpected response during IDLE")}
		}
		pushed++
		return false, nil
	})
	if err != nil {
		d := failureDiag("idle", "IDLE", time.Since(start), s.lastLine, err)
		return "", &d
	}
	if d := stopIdle(s, tag); d != nil {
		return "", d
	}
	return fmt.Sprintf("\"+\" after %s, held %s (%d updates), DONE acknowledged", cont.Round(time.Millisecond), hold, pushed), nil
}

// startIdle sends IDLE and waits for the continuation request.
func startIdle(s *session) (string, *Diagnosis) {
	tag := s.nextTag()
	start := time.Now()
	if err := s.send(tag+" IDLE", tag+" IDLE"); err != nil {
		d := failureDiag("idle", "IDLE", 0, s.lastLine, err)
		return "", &d
	}
	resp, err := s.awaitContinuation(tag, nil)
	if err != nil {
		d := failureDiag("idle", "IDLE", time.Since(start), s.lastLine, err)
		var we *wireError
		if errors.As(err, &we) && we.Kind == errTimeout {
			d = diag(CodeIdleNoContinuation, "idle", fmt.Sprintf("IDLE sent; no \"+\" for %s (last line received: %q)",
				time.Since(start).Round(time.Millisecond), clip(s.lastLine)))
		}
		return "", &d
	}
	if resp != nil {
		if resp.Status == "OK" {
			d := diag(CodeIdleNoContinuation, "idle", "IDLE completed without a \"+\": "+resp.Raw)
			return "", &d
		}
		d := statusDiag("idle", resp)
		return "", &d
	}
	return tag, nil
}

// stopIdle sends DONE and waits for IDLE's tagged response.
func stopIdle(s *session, tag string) *Diagnosis {
	start := time.Now()
	if err := s.send("DONE", "DONE"); err != nil {
		d := failureDiag("idle", "DONE", 0, s.lastLine, err)
		return &d
	}
	resp, err := s.await(tag, nil)
	if err != nil {
		d := failureDiag("idle", "DONE", time.Since(start), s.lastLine, err)
		return &d
	}
	if resp.Status != "OK" {
		d := statusDiag("idle", resp)
		return &d
	}
	return nil
}
