package client

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// list walks the folder hierarchy and checks that INBOX is in it.
func (w *walk) list(ctx context.Context) (string, *Diagnosis) {
	s := w.s
	want := encodeMailbox(w.o.Mailbox)
	var (
		n        int
		delim    string
		noselect bool
		perr     error
	)
	start := time.Now()
	resp, err := s.command(`LIST "" "*"`, func(r *response) error {
		if r.Status != "" || keyword(r) != "LIST" {
			return nil
		}
		flags, d, name, err := parseList(r)
		if err != nil {
			perr = fmt.Errorf("%w: %q", err, clip(r.Raw))
			return nil
		}
		n++
		delim = d
		if strings.EqualFold(name, "INBOX") {
			w.inboxListed = true
		}
		if name == want || (strings.EqualFold(want, "INBOX") && strings.EqualFold(name, "INBOX")) {
			w.mailboxSeen = true
			noselect = hasFlag(flags, `\Noselect`) || hasFlag(flags, `\NonExistent`)
		}
		return nil
	})
	if err != nil {
		d := failureDiag("list", `LIST`, time.Since(start), s.lastLine, err)
		return "", &d
	}
	if resp.Status != "OK" {
		d := statusDiag("list", resp)
		return "", &d
	}
	if perr != nil {
		d := diag(CodeProtocolParseError, "list", "LIST response: "+perr.Error())
		return "", &d
	}
	w.rep.Mailboxes = n
	if !w.inboxListed {
		d := diag(CodeMailboxInboxMissing, "list", fmt.Sprintf(`LIST "" "*" returned %s, none of them INBOX`, count(n, "mailbox")))
		return "", &d
	}
	detail := fmt.Sprintf("%s, hierarchy delimiter %q, INBOX present", count(n, "mailbox"), delim)
	switch {
	case !w.mailboxSeen:
		detail += fmt.Sprintf("; %q not listed", w.o.Mailbox)
	case noselect:
		detail += fmt.Sprintf("; %q is listed as \\Noselect", w.o.Mailbox)
	}
	return detail, nil
}

// parseList parses the body of "* LIST (flags) delim name".
func parseList(r *response) ([]string, string, string, error) {
	p := newParser(r)
	p.i = len("LIST")
	fv, err := p.value()
	if err != nil {
		return nil, "", "", err
	}
	fl, err := asList(fv)
	if err != nil {
		return nil, "", "", fmt.Errorf("flags: %w", err)
	}
	flags := make([]string, 0, len(fl))
	for _, f := range fl {
		flags = append(flags, str(f))
	}
	dv, err := p.value()
	if err != nil {
		return nil, "", "", err
	}
	nv, err := p.value()
	if err != nil {
		return nil, "", "", err
	}
	name, ok := nv.(string)
	if a, isAtom := nv.(atom); isAtom {
		name, ok = string(a), true
	}
	if !ok {
		return nil, "", "", fmt.Errorf("mailbox name is not a string")
	}
	return flags, str(dv), name, nil
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}
