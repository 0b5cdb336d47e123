package faults

import (
	"fmt"
	"strings"
)

// Greeting replaces the greeting line's text; the status and capability
// code stay unless replaced too: status = "BYE" makes it a refusal, after
// which the connection closes; status = "PREAUTH" logs the client in as
// the scenario's first user before it says a word.
//
//	greeting = "Microsoft Exchange IMAP4 service is ready"
//
// line replaces the whole line, code included, as a replay sends what a
// real server said; its status (OK, BYE, PREAUTH) acts as status does.
//
//	line = "* OK [CAPABILITY IMAP4rev1 STARTTLS] Acme IMAP ready"
type Greeting struct {
	Greeting string `toml:"greeting"`
	Status   string `toml:"status"`
	Line     string `toml:"line"`
}

// status is the greeting's status once the fault applies: Status, or the
// status word of Line.
func (g *Greeting) status() string {
	if g.Line == "" {
		return strings.ToUpper(g.Status)
	}
	fields := strings.Fields(g.Line)
	if len(fields) < 2 || fields[0] != "*" {
		return ""
	}
	return strings.ToUpper(fields[1])
}

// Kind implements Action.
func (*Greeting) Kind() string { return "greeting" }

// Validate implements Action.
func (g *Greeting) Validate() error {
	switch strings.ToUpper(g.Status) {
	case "", "OK", "BYE", "PREAUTH":
	default:
		return fmt.Errorf("status: %q is not a greeting status (allowed: OK, BYE, PREAUTH)", g.Status)
	}
	if strings.ContainsAny(g.Greeting, "\r\n") {
		return fmt.Errorf("greeting: must be one line; use the write fault for raw bytes")
	}
	if g.Line != "" && (g.Greeting != "" || g.Status != "") {
		return fmt.Errorf("line: replaces the whole greeting, status and text included: leave out greeting and status")
	}
	if strings.ContainsAny(g.Line, "\r\n") {
		return fmt.Errorf("line: must be one line, without CR LF; use the write fault for raw bytes")
	}
	return nil
}

// FilterLine implements LineFilter; the connection calls it for the
// greeting line only.
func (g *Greeting) FilterLine(c *Conn, l *Line) []byte {
	text, eol := splitEOL(l.Raw)
	if g.Line != "" {
		if g.status() == "BYE" {
			c.closeAfterWrite()
		}
		return []byte(g.Line + eol)
	}
	if g.Greeting == "" && !strings.EqualFold(g.Status, "BYE") {
		return l.Raw
	}
	status := l.Status
	if g.Status != "" {
		status = strings.ToUpper(g.Status)
	}
	greeting := g.Greeting
	if greeting == "" {
		greeting = "Service unavailable" // a BYE needs some text
	}
	code := ""
	if open, end := strings.Index(text, "["), strings.Index(text, "]"); open >= 0 && end > open {
		code = text[open:end+1] + " "
	}
	if status == "BYE" {
		code = ""
		c.closeAfterWrite()
	}
	return []byte("* " + status + " " + code + greeting + eol)
}
