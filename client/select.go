package client

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// selected is what SELECT said about a mailbox.
type selected struct {
	exists       uint32
	uidValidity  uint32
	readOnly     bool
	permKeywords bool
	// permFlags is the PERMANENTFLAGS list, or nil when none was sent
	// (then every flag is permanent, RFC 9051 section 7.1).
	permFlags *string
	resp      *response
}

func (w *walk) selectMailbox(ctx context.Context) (string, *Diagnosis) {
	sel, d := selectMailbox(w.s, w.o.Mailbox)
	if d != nil {
		if d.Code == CodeMailboxSelectFailed {
			if strings.EqualFold(w.o.Mailbox, "INBOX") && sel != nil && sel.resp.Code == "NONEXISTENT" {
				*d = diag(CodeMailboxInboxMissing, "select", d.Evidence)
			}
			if !w.mailboxSeen {
				d.Evidence += fmt.Sprintf(" (LIST did not show %q either)", w.o.Mailbox)
				d.Advice = fmt.Sprintf("The mailbox %q does not seem to exist: check the name against LIST (names other than INBOX are case-sensitive), or use --mailbox.", w.o.Mailbox)
			}
		}
		return "", d
	}
	w.exists, w.readOnly, w.permKeywords = sel.exists, sel.readOnly, sel.permKeywords
	w.rep.Messages = int(sel.exists)
	detail := fmt.Sprintf("%s: %s, UIDVALIDITY %d", w.o.Mailbox, count(int(sel.exists), "message"), sel.uidValidity)
	if sel.readOnly {
		w.warn(diag(CodeMailboxReadOnly, "select", sel.resp.Raw))
		detail += ", read-only"
	} else if sel.permFlags != nil && !strings.Contains(strings.ToLower(*sel.permFlags), `\seen`) {
		w.warn(diag(CodeMailboxNoPermanentFlags, "select", fmt.Sprintf("PERMANENTFLAGS %s lacks \\Seen", *sel.permFlags)))
	}
	return detail, nil
}

// selectMailbox selects name on s. The returned selected is non-nil when a
// tagged response arrived, also a NO.
func selectMailbox(s *session, name string) (*selected, *Diagnosis) {
	sel := &selected{permKeywords: true}
	start := time.Now()
	resp, err := s.commandLit(func(r *response) error {
		if r.Status == "OK" {
			switch r.Code {
			case "UIDVALIDITY":
				n, _ := strconv.ParseUint(r.CodeArg, 10, 32)
				sel.uidValidity = uint32(n)
			case "PERMANENTFLAGS":
				sel.permKeywords = strings.Contains(r.CodeArg, `\*`)
				sel.permFlags = &r.CodeArg
			}
			return nil
		}
		if n, kw, _, ok := parseNumbered(r); ok && kw == "EXISTS" {
			sel.exists = n
		}
		return nil
	}, "SELECT ", astring(encodeMailbox(name)))
	if err != nil {
		d := failureDiag("select", "SELECT", time.Since(start), s.lastLine, err)
		return nil, &d
	}
	sel.resp = resp
	if resp.Status != "OK" {
		d := statusDiag("select", resp)
		return sel, &d
	}
	sel.readOnly = resp.Code == "READ-ONLY"
	return sel, nil
}
