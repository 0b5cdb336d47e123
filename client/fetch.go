package client

import (
	"context"
	"fmt"
	"mime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// newestCount is how many of the newest messages are fetched.
const newestCount = 3

// fetch reads the envelopes and headers of the newest messages, without
// the bodies and without setting \Seen. The header comes as a literal, so
// that a download cut short is seen here rather than in a user's client.
func (w *walk) fetch(ctx context.Context) (string, *Diagnosis) {
	if w.exists == 0 {
		return "the mailbox is empty: nothing to fetch", nil
	}
	lo := uint32(1)
	if w.exists > newestCount {
		lo = w.exists - newestCount + 1
	}
	cmd := fmt.Sprintf("FETCH %d:%d (UID RFC822.SIZE INTERNALDATE ENVELOPE BODY.PEEK[HEADER])", lo, w.exists)
	var (
		msgs []Message
		perr error
	)
	start := time.Now()
	expunged := ""
	resp, err := w.s.command(cmd, func(r *response) error {
		n, kw, p, ok := parseNumbered(r)
		if ok && kw == "EXPUNGE" && expunged == "" {
			expunged = r.Raw
		}
		if !ok || kw != "FETCH" || n < lo || len(msgs) >= 10*newestCount {
			return nil
		}
		m, err := parseFetch(p)
		if err != nil {
			perr = fmt.Errorf("%w: %q", err, clip(r.Raw))
			return nil
		}
		msgs = append(msgs, m)
		return nil
	})
	if err != nil {
		d := failureDiag("fetch", "FETCH", time.Since(start), w.s.lastLine, err)
		return "", &d
	}
	if resp.Status != "OK" {
		d := statusDiag("fetch", resp)
		return "", &d
	}
	if perr != nil {
		d := diag(CodeProtocolParseError, "fetch", "FETCH response: "+perr.Error())
		return "", &d
	}
	if len(msgs) == 0 {
		d := diag(CodeFetchFailed, "fetch", fmt.Sprintf("%s answered %q without any FETCH data although the mailbox has %s", cmd, resp.Raw, count(int(w.exists), "message")))
		return "", &d
	}
	if expunged != "" {
		// RFC 9051 section 7.5.1: sequence numbers must not shift under a
		// client while it fetches; clients then apply flags to the wrong mail.
		w.warn(diag(CodeProtocolExpungeInFetch, "fetch", fmt.Sprintf("%q arrived during %s", expunged, cmd)))
	}
	for _, m := range msgs {
		if m.Size > 0 && m.HeaderSize > m.Size {
			w.warn(diag(CodeFetchSizeMismatch, "fetch", fmt.Sprintf("UID %d: RFC822.SIZE %d, but its header alone is %d bytes", m.UID, m.Size, m.HeaderSize)))
			break
		}
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].UID > msgs[j].UID })
	w.rep.Newest = msgs
	m := msgs[0]
	when := "arrival time unknown"
	if !m.Date.IsZero() {
		when = age(time.Since(m.Date))
	}
	return fmt.Sprintf("%s fetched; newest: %q from %s, %s", count(len(msgs), "message"), m.Subject, m.From, when), nil
}

// parseFetch reads the attribute list of a FETCH response.
func parseFetch(p *parser) (Message, error) {
	var m Message
	v, err := p.value()
	if err != nil {
		return m, err
	}
	items, err := asList(v)
	if err != nil || len(items)%2 != 0 {
		return m, fmt.Errorf("FETCH attributes are not a list of pairs")
	}
	for i := 0; i < len(items); i += 2 {
		key := strings.ToUpper(str(items[i]))
		val := items[i+1]
		switch key {
		case "UID":
			n, err := strconv.ParseUint(str(val), 10, 32)
			if err != nil {
				return m, fmt.Errorf("UID %q", str(val))
			}
			m.UID = uint32(n)
		case "RFC822.SIZE":
			m.Size, _ = strconv.ParseInt(str(val), 10, 64)
		case "BODY[HEADER]":
			m.HeaderSize = int64(len(str(val)))
		case "INTERNALDATE":
			t, err := time.Parse("2-Jan-2006 15:04:05 -0700", strings.TrimSpace(str(val)))
			if err == nil {
				m.Date = t
			}
		case "ENVELOPE":
			env, err := asList(val)
			if err != nil || len(env) < 10 {
				return m, fmt.Errorf("ENVELOPE is not a list of 10 fields")
			}
			m.Subject = decodeHeader(str(env[1]))
			m.From = address(env[2])
		}
	}
	return m, nil
}

// address renders the first address of an envelope address list.
func address(v any) string {
	list, err := asList(v)
	if err != nil || len(list) == 0 {
		return "(no sender)"
	}
	a, err := asList(list[0])
	if err != nil || len(a) < 4 {
		return "(unreadable sender)"
	}
	addr := str(a[2]) + "@" + str(a[3])
	if name := decodeHeader(str(a[0])); name != "" {
		return name + " <" + addr + ">"
	}
	return addr
}

func decodeHeader(s string) string {
	dec := new(mime.WordDecoder)
	if out, err := dec.DecodeHeader(s); err == nil {
		return out
	}
	return s
}

// age renders a duration the way people say how old a message is.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "dated in the future"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return count(int(d.Minutes()), "minute") + " ago"
	case d < 48*time.Hour:
		return count(int(d.Hours()), "hour") + " ago"
	}
	return days(d) + " ago"
}

// days renders a duration in whole days, as certificate lifetimes and
// message ages are told: "1 day", "12 days", "less than a day".
func days(d time.Duration) string {
	if n := int(d.Hours() / 24); n > 0 {
		return count(n, "day")
	}
	return "less than a day"
}

// count renders n things, with the plural English needs.
func count(n int, thing string) string {
	switch {
	case n == 1:
		return "1 " + thing
	case strings.HasSuffix(thing, "x"):
		return fmt.Sprintf("%d %ses", n, thing)
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
