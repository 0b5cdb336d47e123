package client

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/imapfault/imapfault/internal/imapframe"
)

// Bounds on what one response may make the tester hold in memory.
const (
	maxLine          = 100 << 10 // one line, literals excluded
	maxLiteral       = 8 << 20   // one literal
	maxResponse      = 16 << 20  // all lines and literals of one response
	maxLiteralsInOne = 10000
)

// wireErrKind says how reading or writing the wire failed.
type wireErrKind int

const (
	errEOF wireErrKind = iota + 1
	errTimeout
	errReset
	errCanceled
	errLineTooLong
	errLiteralTooBig
	errLiteralTruncated
	errLiteralTimeout
	errParse
	errOther
)

// wireError is a failure to read or write a response, with what was seen.
type wireError struct {
	Kind    wireErrKind
	Partial string // bytes of an incomplete line
	Got     int64  // literal bytes received, for the literal kinds
	Want    int64  // literal size announced
	Line    string // the line that failed to parse, for errParse
	Err     error
}

func (e *wireError) Error() string {
	switch e.Kind {
	case errLiteralTruncated, errLiteralTimeout:
		return fmt.Sprintf("literal: got %d of %d bytes: %v", e.Got, e.Want, e.Err)
	case errParse:
		return fmt.Sprintf("parse %q: %v", e.Line, e.Err)
	}
	return e.Err.Error()
}

func (e *wireError) Unwrap() error { return e.Err }

// kindOf maps a read or write error onto the kinds the classifier uses,
// by type and errno, never by message.
func kindOf(err error) wireErrKind {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return errEOF
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return errTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return errReset
	}
	return errOther
}

func newWireError(err error, partial []byte) *wireError {
	return &wireError{Kind: kindOf(err), Partial: string(partial), Err: err}
}

// response is one server response: a status response (tagged or
// untagged), a continuation request, or untagged data whose literals have
// been read into lits. In body each literal is left as its {N} marker,
// which parser uses to step into lits.
type response struct {
	Tag     string // "*", "+", or the command tag
	Status  string // OK, NO, BAD, BYE or PREAUTH for status responses
	Code    string // the response code's name, upper case, without brackets
	CodeArg string // the rest of the response code
	Text    string // the human-readable text
	Body    string // for data responses: everything after "* "
	Lits    [][]byte
	Raw     string // the first line as received, for evidence
}

// wireReader reads bounded responses from a server.
type wireReader struct {
	br        *bufio.Reader
	sawBareLF bool
	// onLine receives each line read and a summary of each literal.
	onLine func(string)
}

func newWireReader(r io.Reader, onLine func(string)) *wireReader {
	if onLine == nil {
		onLine = func(string) {}
	}
	return &wireReader{br: bufio.NewReaderSize(r, 4096), onLine: onLine}
}

// readLine returns one line without its line ending. A bare LF ends a line
// too, but is remembered: it is a warning, not a reason to stop the walk.
func (r *wireReader) readLine() (string, error) {
	var buf []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLine {
			return "", &wireError{Kind: errLineTooLong, Partial: string(append(buf, chunk...)[:200]),
				Err: fmt.Errorf("line longer than %d bytes", maxLine)}
		}
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", newWireError(err, buf)
		}
		break
	}
	buf = buf[:len(buf)-1]
	if n := len(buf); n > 0 && buf[n-1] == '\r' {
		buf = buf[:n-1]
	} else {
		r.sawBareLF = true
	}
	if i := bytes.IndexAny(buf, "\r\x00"); i >= 0 {
		return "", &wireError{Kind: errParse, Line: string(buf), Err: fmt.Errorf("%q inside a line", buf[i])}
	}
	return string(buf), nil
}

// buffered reports how many received bytes wait unread.
func (r *wireReader) buffered() int { return r.br.Buffered() }

var statusWords = map[string]bool{"OK": true, "NO": true, "BAD": true, "BYE": true, "PREAUTH": true}

// readResponse reads one complete response, literals included.
func (r *wireReader) readResponse() (*response, error) {
	line, err := r.readLine()
	if err != nil {
		return nil, err
	}
	r.onLine(line)
	resp := &response{Raw: line}
	if line == "+" || strings.HasPrefix(line, "+ ") {
		resp.Tag = "+"
		resp.Text = strings.TrimPrefix(strings.TrimPrefix(line, "+"), " ")
		return resp, nil
	}
	tag, rest, ok := strings.Cut(line, " ")
	if !ok || !validTag(tag) {
		return nil, &wireError{Kind: errParse, Line: line, Err: errors.New("not an IMAP response")}
	}
	resp.Tag = tag
	word, after, _ := strings.Cut(rest, " ")
	if statusWords[strings.ToUpper(word)] {
		resp.Status = strings.ToUpper(word)
		resp.Code, resp.CodeArg, resp.Text = parseRespText(after)
		return resp, nil
	}
	if tag != "*" {
		return nil, &wireError{Kind: errParse, Line: line, Err: errors.New("tagged response without OK, NO or BAD")}
	}
	body, lits, err := r.readLiterals(rest)
	if err != nil {
		return nil, err
	}
	resp.Body, resp.Lits = body, lits
	return resp, nil
}

// readLiterals follows the {N} markers at the ends of lines of a data
// response and returns the joined lines and the literals.
func (r *wireReader) readLiterals(first string) (string, [][]byte, error) {
	var (
		body  strings.Builder
		lits  [][]byte
		total = int64(len(first))
		line  = first
	)
	for {
		body.WriteString(line)
		n, _, ok := imapframe.LiteralSize(line)
		if !ok {
			return body.String(), lits, nil
		}
		if n > maxLiteral || total+n > maxResponse || len(lits) >= maxLiteralsInOne {
			return "", nil, &wireError{Kind: errLiteralTooBig, Want: n,
				Err: fmt.Errorf("literal of %d bytes exceeds the tester's limit of %d", n, maxLiteral)}
		}
		lit := make([]byte, n)
		got, err := io.ReadFull(r.br, lit)
		if err != nil {
			kind := errLiteralTruncated
			if kindOf(err) == errTimeout {
				kind = errLiteralTimeout
			}
			r.onLine(fmt.Sprintf("{literal: %d of %d bytes, then %v}", got, n, err))
			return "", nil, &wireError{Kind: kind, Got: int64(got), Want: n, Err: err}
		}
		if n <= 200 {
			r.onLine(fmt.Sprintf("{literal: %d bytes: %q}", n, lit))
		} else {
			r.onLine(fmt.Sprintf("{literal: %d bytes}", n))
		}
		lits = append(lits, lit)
		total += n
		next, err := r.readLine()
		if err != nil {
			return "", nil, err
		}
		r.onLine(next)
		total += int64(len(next))
		if total > maxResponse {
			return "", nil, &wireError{Kind: errLiteralTooBig, Err: fmt.Errorf("response exceeds %d bytes", maxResponse)}
		}
		line = next
	}
}

func validTag(tag string) bool {
	if tag == "" {
		return false
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("(){%\"\\]", c) >= 0 {
			return false
		}
	}
	return tag != "+"
}

// parseRespText splits "[CODE arg] text" into its parts.
func parseRespText(s string) (code, arg, text string) {
	if !strings.HasPrefix(s, "[") {
		return "", "", s
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", "", s
	}
	inner := s[1:end]
	code, arg, _ = strings.Cut(inner, " ")
	return strings.ToUpper(code), arg, strings.TrimPrefix(s[end+1:], " ")
}
