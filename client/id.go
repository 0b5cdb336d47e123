package client

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// clientID is what the tester says of itself in ID (RFC 2971): a name and
// nothing that identifies the machine or the user.
const clientID = `("name" "imapfault" "vendor" "imapfault")`

// id sends ID when the server advertises it and records the server's
// answer. Some providers require it (NetEase answers SELECT with "Unsafe
// Login" until a client sends ID), and the answer names the server's
// software. It runs after login, where those providers look for it, or
// after the capabilities for a probe. ID is optional, so a refusal is
// noted, not a failure; a connection that dies here fails the step.
func (w *walk) id(ctx context.Context) (string, *Diagnosis) {
	s := w.s
	var (
		fields []IDField
		perr   error
		seen   bool
	)
	start := time.Now()
	resp, err := s.command("ID "+clientID, func(r *response) error {
		if r.Status != "" || keyword(r) != "ID" {
			return nil
		}
		seen = true
		fields, perr = parseID(r)
		return nil
	})
	if err != nil {
		d := failureDiag("id", "ID", time.Since(start), s.lastLine, err)
		return "", &d
	}
	if resp.Status != "OK" {
		return fmt.Sprintf("the server advertises ID but answered %q: ID is optional, so the check goes on", resp.Raw), nil
	}
	switch {
	case perr != nil:
		return fmt.Sprintf("the server's ID response is not valid (%v): ignored", perr), nil
	case !seen:
		return "the server accepted ID but sent no ID response", nil
	case len(fields) == 0:
		return "the server answered ID NIL", nil
	}
	w.rep.Server.ID = fields
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		parts = append(parts, fmt.Sprintf("%s=%q", f.Name, f.Value))
	}
	return "server ID: " + strings.Join(parts, " "), nil
}

// maxIDFields bounds what is kept of an ID response; RFC 2971 allows 30.
const maxIDFields = 30

// parseID reads "ID NIL" or "ID (name value ...)", values string or NIL.
func parseID(r *response) ([]IDField, error) {
	p := newParser(r)
	p.i = len("ID")
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	l, err := asList(v)
	if err != nil {
		return nil, err
	}
	if len(l)%2 != 0 {
		return nil, fmt.Errorf("%d items, not field and value pairs", len(l))
	}
	var out []IDField
	for i := 0; i+1 < len(l) && len(out) < maxIDFields; i += 2 {
		name, ok := l[i].(string)
		if !ok {
			return nil, fmt.Errorf("field %d is not a string", i/2+1)
		}
		out = append(out, IDField{Name: name, Value: str(l[i+1])})
	}
	return out, nil
}
