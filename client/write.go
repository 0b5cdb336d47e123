package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/imapfault/imapfault/client/phase"
)

// probeKeyword is the keyword the flag round-trip sets and removes.
const probeKeyword = "$ImapfaultProbe"

// openSecond opens the second session of the flag round-trip, walking the
// same phases as the first one, each under its own phase's deadline.
func (w *walk) openSecond() (*session, *Diagnosis) {
	conn, err := dialOne(w.ctx, w.rep.Address, w.o.timeout(phase.Connect))
	if err != nil {
		d := dialDiag(w.rep.Address, err, w.o.timeout(phase.Connect))
		return nil, w.second(&d)
	}
	s := newSession(2, w.o, w.tr, w.red, conn)
	s.info("second session connected to %s, for the flag round-trip", w.rep.Address)
	type step struct {
		ph  phase.Phase
		run func(ctx context.Context) *Diagnosis
	}
	handshake := step{phase.TLS, func(ctx context.Context) *Diagnosis { _, d := w.handshake(ctx, s, false); return d }}
	capability := step{phase.Capability, func(context.Context) *Diagnosis { return ensureCaps(s, "capability") }}
	var steps []step
	if w.o.TLS == TLSImplicit {
		steps = append(steps, handshake)
	}
	steps = append(steps, step{phase.Greeting, func(context.Context) *Diagnosis {
		d, _ := readGreeting(s)
		return d
	}}, capability)
	if w.o.TLS == TLSStartTLS {
		steps = append(steps, step{phase.StartTLS, func(context.Context) *Diagnosis { _, d := startTLS(s); return d }}, handshake, capability)
	}
	if !w.preauth {
		steps = append(steps, step{phase.Auth, func(context.Context) *Diagnosis { _, _, d := authenticate(s, w.o); return d }})
	}
	steps = append(steps, step{phase.Select, func(context.Context) *Diagnosis { _, d := selectMailbox(s, w.o.Mailbox); return d }})
	for _, st := range steps {
		ctx, done := s.arm(w.ctx, st.ph)
		d := st.run(ctx)
		done()
		if d != nil {
			s.close()
			return nil, w.second(d)
		}
	}
	return s, nil
}

// second marks a diagnosis as coming from the second session.
func (w *walk) second(d *Diagnosis) *Diagnosis {
	d.Evidence = "second session (" + d.Phase + "): " + d.Evidence
	d.Phase = "flags"
	return d
}

// flags sets a keyword on the test message from a second session and
// measures how long the first session takes to see it, through IDLE when
// the server has it, else by polling with NOOP; then removes it.
func (w *walk) flags(_ context.Context) (string, *Diagnosis) {
	if !w.permKeywords {
		return "skipped: PERMANENTFLAGS does not allow keywords", nil
	}
	s2, d := w.openSecond()
	if d != nil {
		return "", d
	}
	defer func() {
		done := s2.bound(w.ctx, phase.Flags)
		defer done()
		logout(s2)
		s2.close()
	}()
	detail, d := w.roundTrip(s2)
	if d != nil {
		return "", d
	}
	done := s2.bound(w.ctx, phase.Flags)
	defer done()
	resp, err := s2.command(fmt.Sprintf("UID STORE %d -FLAGS.SILENT (%s)", w.testUID, probeKeyword), nil)
	if d := w.storeResult("removing the keyword", resp, err); d != nil {
		return "", d
	}
	// The first session will be told about the removal; read it now so
	// that later phases do not trip over it.
	mdone := w.s.bound(w.ctx, phase.Flags)
	defer mdone()
	if _, err := w.s.command("NOOP", nil); err != nil {
		d := failureDiag("flags", "NOOP", 0, w.s.lastLine, err)
		return "", &d
	}
	return detail + "; removed", nil
}

func (w *walk) roundTrip(s2 *session) (string, *Diagnosis) {
	s := w.s
	mctx, mdone := s.arm(w.ctx, phase.Flags)
	defer mdone()
	useIdle := s.hasIdle()
	var tag string
	if useIdle {
		var d *Diagnosis
		if tag, d = startIdle(s); d != nil {
			d.Phase = "flags"
			return "", d
		}
	}
	sdone := s2.bound(w.ctx, phase.Flags)
	t0 := time.Now()
	resp, err := s2.command(fmt.Sprintf("UID STORE %d +FLAGS.SILENT (%s)", w.testUID, probeKeyword), nil)
	sdone()
	if d := w.storeResult("setting the keyword", resp, err); d != nil {
		return "", d
	}
	seen := false
	watch := func(r *response) (bool, error) {
		if _, kw, p, ok := parseNumbered(r); ok && kw == "FETCH" && strings.Contains(strings.ToUpper(p.rest()), strings.ToUpper(probeKeyword)) {
			seen = true
		}
		return seen, nil
	}
	budget := w.o.timeout(phase.Flags) / 2
	how := "IDLE"
	if useIdle {
		if _, err := s.waitFor(mctx, budget, watch); err != nil {
			d := failureDiag("flags", "IDLE", time.Since(t0), s.lastLine, err)
			return "", &d
		}
	} else {
		how = "NOOP polling"
		for !seen && time.Since(t0) < budget {
			if _, err := s.command("NOOP", func(r *response) error { _, err := watch(r); return err }); err != nil {
				d := failureDiag("flags", "NOOP", time.Since(t0), s.lastLine, err)
				return "", &d
			}
			if !seen {
				time.Sleep(min(100*time.Millisecond, budget/10))
			}
		}
	}
	latency := time.Since(t0)
	if useIdle {
		if d := stopIdle(s, tag); d != nil {
			d.Phase = "flags"
			return "", d
		}
	}
	if seen {
		w.rep.FlagLatency = latency
		return fmt.Sprintf("keyword %s set from a second session showed in the first via %s after %s", probeKeyword, how, latency.Round(time.Millisecond)), nil
	}
	return "", w.notSeen(s2, useIdle, budget)
}

// notSeen tells a server that does not push changes from one that lost the
// change altogether.
func (w *walk) notSeen(s2 *session, viaIdle bool, waited time.Duration) *Diagnosis {
	s := w.s
	seenNoop := false
	if _, err := s.command("NOOP", func(r *response) error {
		if _, kw, p, ok := parseNumbered(r); ok && kw == "FETCH" && strings.Contains(strings.ToUpper(p.rest()), strings.ToUpper(probeKeyword)) {
			seenNoop = true
		}
		return nil
	}); err != nil {
		d := failureDiag("flags", "NOOP", 0, s.lastLine, err)
		return &d
	}
	if seenNoop && viaIdle {
		d := diag(CodeIdleNoPush, "flags", fmt.Sprintf("a keyword set from a second session did not show during %s of IDLE, only after NOOP", waited.Round(time.Millisecond)))
		return &d
	}
	done := s2.bound(w.ctx, phase.Flags)
	defer done()
	stored := false
	resp, err := s2.command(fmt.Sprintf("UID FETCH %d (FLAGS)", w.testUID), func(r *response) error {
		if _, kw, p, ok := parseNumbered(r); ok && kw == "FETCH" && strings.Contains(strings.ToUpper(p.rest()), strings.ToUpper(probeKeyword)) {
			stored = true
		}
		return nil
	})
	if err != nil || resp.Status != "OK" {
		return w.storeResult("reading the flags back", resp, err)
	}
	if !stored {
		d := diag(CodeStoreNotPersisted, "flags", fmt.Sprintf("UID STORE %d +FLAGS (%s) was answered OK, but a FETCH of its flags from the same session does not show it", w.testUID, probeKeyword))
		return &d
	}
	code := CodeIdleNoPush
	if !viaIdle {
		code = CodeStoreNotPersisted
	}
	d := diag(code, "flags", fmt.Sprintf("a keyword set from a second session is stored there but was not reported to the first session within %s, not even on NOOP", waited.Round(time.Millisecond)))
	return &d
}

// storeResult classifies the answer to a STORE or FETCH of the round-trip.
func (w *walk) storeResult(what string, resp *response, err error) *Diagnosis {
	if err != nil {
		d := failureDiag("flags", what, 0, "", err)
		return w.second(&d)
	}
	if resp.Status != "OK" {
		d := statusDiag("flags", resp)
		d.Evidence = what + ": " + d.Evidence
		return &d
	}
	return nil
}

// appendMessage appends a small test message and finds its UID.
func (w *walk) appendMessage(ctx context.Context) (string, *Diagnosis) {
	s := w.s
	if w.readOnly {
		d := diag(CodeStoreFailed, "append", fmt.Sprintf("%s was selected read-only, so nothing can be written to it", w.o.Mailbox))
		return "", &d
	}
	id := messageID()
	msg := testMessage(id, time.Now())
	mbox := encodeMailbox(w.o.Mailbox)
	start := time.Now()
	resp, err := s.commandLit(nil, "APPEND ", astring(mbox), ` (\Seen) `, msg)
	if d := w.appendResult("append", "APPEND", start, resp, err); d != nil {
		return "", d
	}
	took := time.Since(start)
	if resp.Code == "APPENDUID" {
		if f := strings.Fields(resp.CodeArg); len(f) == 2 {
			n, _ := strconv.ParseUint(f[1], 10, 32)
			w.testUID = uint32(n)
		}
	}
	how := "APPENDUID"
	if w.testUID == 0 {
		how = "SEARCH"
		resp, err = s.command(fmt.Sprintf("UID SEARCH HEADER Message-ID %s", quote(id)), func(r *response) error {
			if keyword(r) == "SEARCH" {
				for _, f := range strings.Fields(r.Body)[1:] {
					if n, err := strconv.ParseUint(f, 10, 32); err == nil {
						w.testUID = uint32(n)
					}
				}
			}
			return nil
		})
		if d := w.appendResult("append", "UID SEARCH", start, resp, err); d != nil {
			return "", d
		}
		if w.testUID == 0 {
			d := diag(CodeStoreNotPersisted, "append", fmt.Sprintf("APPEND was answered OK, but SEARCH does not find Message-ID %s", id))
			return "", &d
		}
	}
	return fmt.Sprintf("appended a %d-byte test message in %s; UID %d (from %s)", len(msg), took.Round(time.Millisecond), w.testUID, how), nil
}

// deleteMessage removes the test message again, and no other: without
// UIDPLUS it stays flagged \Deleted, as a plain EXPUNGE would also remove
// messages the user marked.
func (w *walk) deleteMessage(ctx context.Context) (string, *Diagnosis) {
	s := w.s
	start := time.Now()
	resp, err := s.command(fmt.Sprintf("UID STORE %d +FLAGS.SILENT (\\Deleted)", w.testUID), nil)
	if d := w.appendResult("delete", "UID STORE", start, resp, err); d != nil {
		return "", d
	}
	if !s.hasUIDPlus() {
		return fmt.Sprintf(`UID %d flagged \Deleted but not expunged (no UIDPLUS for a UID EXPUNGE)`, w.testUID), nil
	}
	resp, err = s.command(fmt.Sprintf("UID EXPUNGE %d", w.testUID), nil)
	if d := w.appendResult("delete", "UID EXPUNGE", start, resp, err); d != nil {
		return "", d
	}
	return fmt.Sprintf("UID %d deleted with UID EXPUNGE", w.testUID), nil
}

func (w *walk) appendResult(phase, what string, start time.Time, resp *response, err error) *Diagnosis {
	if err != nil {
		d := failureDiag(phase, what, time.Since(start), w.s.lastLine, err)
		return &d
	}
	if resp.Status != "OK" {
		d := statusDiag(phase, resp)
		return &d
	}
	return nil
}

func messageID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "<" + hex.EncodeToString(b) + "@imapfault.invalid>"
}

func testMessage(id string, now time.Time) []byte {
	return []byte("From: imapfault <imapfault@imapfault.invalid>\r\n" +
		"To: imapfault <imapfault@imapfault.invalid>\r\n" +
		"Subject: imapfault write test\r\n" +
		"Date: " + now.Format(time.RFC1123Z) + "\r\n" +
		"Message-ID: " + id + "\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=us-ascii\r\n" +
		"\r\n" +
		"This message was appended by \"imapfault check --write\" and deleted right after.\r\n")
}
