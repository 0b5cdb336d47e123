package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/imapfault/imapfault/client/phase"
)

// session is one IMAP connection of a check: the wire, its transcript and
// what the server said about itself.
type session struct {
	id    int
	opts  *Options
	tr    *transcript
	red   *redactor
	tagP  string
	tagN  int
	rc    *recConn // the TCP connection, recorded
	conn  net.Conn // rc, or TLS over rc
	inTLS bool
	r     *wireReader

	caps     map[string]bool
	capList  []string
	capsGen  int // counts capability lists received
	lastLine string
	bye      *response
	deadline time.Time // of the current step
	// statuses are the status responses (OK, NO, BAD, BYE, tagged or
	// not) of the current step, for recognising provider texts; bounded.
	statuses []*response
}

// maxStatuses bounds the status responses a step keeps: a step's own
// commands are few, and only the last ones decide a diagnosis.
const maxStatuses = 16

func newSession(id int, opts *Options, tr *transcript, red *redactor, c net.Conn) *session {
	s := &session{id: id, opts: opts, tr: tr, red: red, tagP: string(rune('a' + id - 1))}
	s.rc = &recConn{Conn: c}
	s.setConn(s.rc, false)
	return s
}

// setConn installs the connection the wire is read from: after STARTTLS a
// fresh reader is required, as nothing buffered before the handshake may
// be trusted.
func (s *session) setConn(c net.Conn, inTLS bool) {
	bareLF := s.r != nil && s.r.sawBareLF
	s.conn, s.inTLS = c, inTLS
	s.r = newWireReader(c, func(line string) {
		s.lastLine = line
		s.tr.add(s.id, s.dirIn(), line)
	})
	s.r.sawBareLF = bareLF
}

func (s *session) dirIn() string {
	if s.inTLS {
		return "<~"
	}
	return "<-"
}

func (s *session) dirOut() string {
	if s.inTLS {
		return "~>"
	}
	return "->"
}

func (s *session) info(format string, args ...any) {
	s.tr.add(s.id, "==", fmt.Sprintf(format, args...))
}

func (s *session) close() {
	s.rc.Close()
}

// arm gives the next step its deadline. The deadline is set on the TCP
// connection itself, so it holds for every read and write beneath TLS and
// cannot be reset by a server that trickles bytes; cancelling ctx moves it
// into the past, which unblocks any read at once.
func (s *session) arm(ctx context.Context, ph phase.Phase) (context.Context, func()) {
	sctx, cancel := context.WithTimeout(ctx, s.opts.timeout(ph))
	dl, _ := sctx.Deadline()
	s.deadline = dl
	s.rc.Conn.SetDeadline(dl)
	stop := context.AfterFunc(sctx, func() { s.rc.Conn.SetDeadline(time.Unix(1, 0)) })
	return sctx, func() {
		stop()
		cancel()
	}
}

// bound is arm for callers that need only the deadline, not the context.
func (s *session) bound(ctx context.Context, ph phase.Phase) func() {
	_, done := s.arm(ctx, ph)
	return done
}

func (s *session) nextTag() string {
	s.tagN++
	return s.tagP + strconv.Itoa(s.tagN)
}

// send writes one line; shown is what the transcript records instead, so
// that a secret never reaches it.
func (s *session) send(raw, shown string) error {
	s.tr.add(s.id, s.dirOut(), shown)
	if _, err := s.conn.Write([]byte(raw + "\r\n")); err != nil {
		return newWireError(err, nil)
	}
	return nil
}

// byeError is an untagged BYE followed by the end of the connection.
type byeError struct{ resp *response }

func (e *byeError) Error() string { return "server said BYE: " + e.resp.Raw }

// command sends a tagged command and reads until its tagged response,
// passing untagged data to handle (which may be nil).
func (s *session) command(cmd string, handle func(*response) error) (*response, error) {
	tag := s.nextTag()
	if err := s.send(tag+" "+cmd, tag+" "+cmd); err != nil {
		return nil, err
	}
	return s.await(tag, handle)
}

// await reads responses until the one tagged tag.
func (s *session) await(tag string, handle func(*response) error) (*response, error) {
	for {
		resp, err := s.read()
		if err != nil {
			return nil, err
		}
		switch {
		case resp.Tag == tag:
			s.noteCapabilityCode(resp)
			return resp, nil
		case resp.Tag == "*":
			if resp.Status == "BYE" {
				s.bye = resp
				continue
			}
			s.noteCapabilityCode(resp)
			if resp.Status == "" && keyword(resp) == "CAPABILITY" {
				s.setCaps(strings.TrimPrefix(resp.Body[len("CAPABILITY"):], " "))
				continue
			}
			if handle != nil {
				if err := handle(resp); err != nil {
					return nil, err
				}
			}
		case resp.Tag == "+":
			return nil, &wireError{Kind: errParse, Line: resp.Raw, Err: errors.New("continuation request that no command asked for")}
		default:
			return nil, &wireError{Kind: errParse, Line: resp.Raw,
				Err: fmt.Errorf("response tagged %q while waiting for %q", resp.Tag, tag)}
		}
	}
}

// read reads one response; after a BYE the end of the connection is
// reported as that BYE, which says more than a bare EOF.
func (s *session) read() (*response, error) {
	resp, err := s.r.readResponse()
	if err != nil {
		var we *wireError
		if s.bye != nil && errors.As(err, &we) && (we.Kind == errEOF || we.Kind == errReset) {
			return nil, &byeError{resp: s.bye}
		}
		return nil, err
	}
	if resp.Status != "" {
		if len(s.statuses) == maxStatuses {
			s.statuses = append(s.statuses[:0], s.statuses[1:]...)
		}
		s.statuses = append(s.statuses, resp)
	}
	return resp, nil
}

func (s *session) noteCapabilityCode(r *response) {
	if r.Code == "CAPABILITY" {
		s.setCaps(r.CodeArg)
	}
}

func (s *session) setCaps(list string) {
	s.capsGen++
	s.capList = parseCapabilities(list)
	s.caps = make(map[string]bool, len(s.capList))
	for _, c := range s.capList {
		s.caps[strings.ToUpper(c)] = true
	}
}

func (s *session) has(capability string) bool { return s.caps[strings.ToUpper(capability)] }

// waitFor reads responses for up to d, never past the step deadline,
// handing each to handle until it reports done. It returns false when the
// time ran out quietly. It peeks before reading, so that a wait that ends
// never cuts a response in half.
func (s *session) waitFor(ctx context.Context, d time.Duration, handle func(*response) (bool, error)) (bool, error) {
	end := time.Now().Add(d)
	if end.After(s.deadline) {
		end = s.deadline
	}
	// Restoring the step deadline must not undo a cancellation that
	// arrived while the shorter one was set.
	restore := func() {
		if ctx.Err() != nil {
			s.rc.Conn.SetDeadline(time.Unix(1, 0))
			return
		}
		s.rc.Conn.SetReadDeadline(s.deadline)
	}
	defer restore()
	for {
		if err := ctx.Err(); err != nil {
			return false, &wireError{Kind: errTimeout, Err: err}
		}
		s.rc.Conn.SetReadDeadline(end)
		if _, err := s.r.br.Peek(1); err != nil {
			if kindOf(err) == errTimeout {
				return false, nil
			}
			if s.bye != nil {
				return false, &byeError{resp: s.bye}
			}
			return false, newWireError(err, nil)
		}
		restore()
		resp, err := s.read()
		if err != nil {
			return false, err
		}
		if resp.Tag == "*" && resp.Status == "BYE" {
			s.bye = resp
			continue
		}
		done, err := handle(resp)
		if done || err != nil {
			return done, err
		}
	}
}

// hasIdle and hasUIDPlus also accept IMAP4rev2, which includes both.
func (s *session) hasIdle() bool    { return s.has("IDLE") || s.has("IMAP4rev2") }
func (s *session) hasUIDPlus() bool { return s.has("UIDPLUS") || s.has("IMAP4rev2") }
