package client

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// statusDiag classifies a NO, BAD or BYE. Response codes (RFC 5530, RFC
// 9051 §7.1) decide first; without one, the status and the phase do.
func statusDiag(phase string, r *response) Diagnosis {
	ev := r.Raw
	switch r.Code {
	case "AUTHENTICATIONFAILED":
		return diag(CodeAuthFailed, phase, ev)
	case "AUTHORIZATIONFAILED":
		return diag(CodeAuthAuthzFailed, phase, ev)
	case "EXPIRED":
		return diag(CodeAuthExpired, phase, ev)
	case "CONTACTADMIN":
		return diag(CodeAuthContactAdmin, phase, ev)
	case "PRIVACYREQUIRED":
		return diag(CodeAuthPrivacyRequired, phase, ev)
	case "UNAVAILABLE":
		if phase == "auth" {
			return diag(CodeAuthUnavailable, phase, ev)
		}
	case "LIMIT":
		if phase == "auth" {
			return diag(CodeAuthTooManyConnections, phase, ev)
		}
		return diag(CodeServerLimit, phase, ev)
	case "OVERQUOTA":
		return diag(CodeServerOverquota, phase, ev)
	case "SERVERBUG":
		return diag(CodeServerBug, phase, ev)
	case "CLIENTBUG":
		return diag(CodeProtocolBad, phase, ev)
	}
	if r.Status == "BYE" {
		if phase == "greeting" {
			return diag(CodeGreetingBye, phase, ev)
		}
		return diag(CodeConnBye, phase, ev)
	}
	switch phase {
	case "starttls":
		return diag(CodeStartTLSRefused, phase, ev)
	case "idle":
		return diag(CodeIdleUnsupported, phase, ev)
	}
	if code, ok := noByPhase[phase]; ok && r.Status != "BAD" {
		return diag(code, phase, ev)
	}
	return diag(CodeProtocolBad, phase, ev)
}

// noByPhase is what a NO without a telling response code means in each
// phase; a BAD there is a protocol problem instead.
var noByPhase = map[string]string{
	"auth":   CodeAuthFailed,
	"list":   CodeMailboxListFailed,
	"select": CodeMailboxSelectFailed,
	"fetch":  CodeFetchFailed,
	"flags":  CodeStoreFailed,
	"append": CodeStoreFailed,
	"delete": CodeStoreFailed,
}

// failureDiag classifies a failure to get a response at all: the end of
// the connection, silence, a reset, a response that is not IMAP. what
// names the command waited for, waited how long it was waited for.
func failureDiag(phase, what string, waited time.Duration, lastLine string, err error) Diagnosis {
	var bye *byeError
	if errors.As(err, &bye) {
		d := statusDiag(phase, bye.resp)
		if d.Code == CodeProtocolBad {
			d = diag(CodeConnBye, phase, bye.resp.Raw)
		}
		return d
	}
	var we *wireError
	if !errors.As(err, &we) {
		return diag(CodeConnDropped, phase, fmt.Sprintf("%s: %v", what, err))
	}
	seen := ""
	switch {
	case we.Partial != "":
		seen = fmt.Sprintf(" (an incomplete line was received: %q)", clip(we.Partial))
	case lastLine != "":
		seen = fmt.Sprintf(" (last line received: %q)", clip(lastLine))
	}
	wait := waited.Round(time.Millisecond)
	switch we.Kind {
	case errEOF:
		ev := fmt.Sprintf("connection closed by the server while waiting for the response to %s after %s%s", what, wait, seen)
		return diag(byPhase(phase, CodeConnDropped, map[string]string{
			"greeting": CodeGreetingEOF, "starttls": CodeStartTLSDropped, "auth": CodeAuthDropped, "idle": CodeIdleDropped,
		}), phase, ev)
	case errTimeout:
		ev := fmt.Sprintf("no response to %s for %s%s", what, wait, seen)
		return diag(byPhase(phase, CodeConnTimeout, map[string]string{
			"greeting": CodeGreetingTimeout, "auth": CodeAuthTimeout, "fetch": CodeFetchTimeout,
		}), phase, ev)
	case errReset:
		ev := fmt.Sprintf("connection reset by the server while waiting for the response to %s after %s%s", what, wait, seen)
		return diag(byPhase(phase, CodeConnDropped, map[string]string{
			"greeting": CodeTCPReset, "starttls": CodeStartTLSDropped, "auth": CodeAuthDropped, "idle": CodeIdleDropped,
		}), phase, ev)
	case errLiteralTruncated:
		return diag(CodeFetchLiteralTruncated, phase, fmt.Sprintf(
			"the server announced a literal of %d bytes in the response to %s but closed the connection after %d", we.Want, what, we.Got))
	case errLiteralTimeout:
		code := CodeConnTimeout
		if phase == "fetch" {
			code = CodeFetchTimeout
		}
		return diag(code, phase, fmt.Sprintf(
			"the server announced a literal of %d bytes in the response to %s, sent %d, then nothing for the rest of %s (slow, not truncated)", we.Want, what, we.Got, wait))
	case errLineTooLong, errLiteralTooBig:
		return diag(CodeProtocolParseError, phase, fmt.Sprintf("response to %s: %v", what, we.Err))
	case errParse:
		return diag(CodeProtocolParseError, phase, fmt.Sprintf("response to %s is not valid IMAP (%v): %q", what, we.Err, clip(we.Line)))
	}
	return diag(CodeConnDropped, phase, fmt.Sprintf("%s: %v", what, err))
}

func byPhase(phase, fallback string, m map[string]string) string {
	if c, ok := m[phase]; ok {
		return c
	}
	return fallback
}

// clip bounds a quoted line in evidence.
func clip(s string) string {
	const n = 300
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// classifyGreeting decides what kind of first line a server sent.
func classifyGreeting(line string) Diagnosis {
	const phase = "greeting"
	up := strings.ToUpper(line)
	switch {
	case strings.HasPrefix(up, "* OK"), strings.HasPrefix(up, "* PREAUTH"):
		if len(up) > 4 && up[4] != ' ' && !strings.HasPrefix(up, "* PREAUTH") {
			return diag(CodeGreetingMalformed, phase, line)
		}
		return diag(CodeOK, phase, line)
	case strings.HasPrefix(up, "* BYE"):
		return diag(CodeGreetingBye, phase, line)
	}
	if proto := otherProtocol(line); proto != "" {
		d := diag(CodeGreetingNotIMAP, phase, line)
		d.Advice = "This port answers like " + proto + ", not IMAP: " + d.Advice
		return d
	}
	return diag(CodeGreetingMalformed, phase, line)
}

// otherProtocol names the protocol whose banner line resembles, or "".
func otherProtocol(line string) string {
	up := strings.ToUpper(line)
	switch {
	case len(line) >= 4 && (strings.HasPrefix(line, "220 ") || strings.HasPrefix(line, "220-") ||
		strings.HasPrefix(line, "554 ") || strings.HasPrefix(line, "421 ")):
		return "SMTP"
	case strings.HasPrefix(up, "+OK"), strings.HasPrefix(up, "-ERR"):
		return "POP3"
	case strings.HasPrefix(up, "HTTP/"), strings.HasPrefix(up, "<!DOCTYPE"), strings.HasPrefix(up, "<HTML"):
		return "HTTP"
	case strings.HasPrefix(line, "SSH-"):
		return "SSH"
	}
	return ""
}

// looksLikeTLS reports whether b starts like a TLS record (handshake or
// alert), the sign of TLS spoken where plaintext was expected.
func looksLikeTLS(b []byte) bool {
	return len(b) >= 3 && (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03 && b[2] <= 0x04
}
