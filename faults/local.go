package faults

import (
	"bytes"
	"encoding/base64"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/imapfault/imapfault/internal/imapframe"
)

// Commands the wire layer answers itself because go-imap v2.0.0-beta.8
// answers them wrongly and offers no hook to do better (issue 15):
//
//   - ID (RFC 2971), which it does not know: its "BAD Unknown command"
//     before login is followed by a BYE at the next command, and many
//     clients (Thunderbird, imapsync, those of 163.com and QQ) send ID
//     first. Answered with ConnOptions.ID (the fake server's own name, or
//     a flavour's recorded answer) when it is set and the client is shown
//     the ID capability.
//   - LIST and LSUB with a pattern that is not valid modified UTF-7 (RFC
//     3501 section 5.1.3), which it answers "NO [SERVERBUG]": answered OK
//     with nothing listed, as Dovecot does, since no mailbox name can
//     match.
//
// The answer waits for the server's replies to the commands before it, so
// that a pipelining client reads the replies in order.

// localReply returns the reply the wire layer makes to a command line,
// or nil when the server is to answer it.
func (c *Conn) localReply(cmd *Command, line []byte) []byte {
	if _, _, lit := imapframe.LiteralSize(line); lit || c.opts.Relayed {
		return nil // the rest is not in line, or a real server answers
	}
	switch cmd.Name {
	case "ID":
		if len(c.opts.ID) == 0 || !c.advertisesByDefault("ID") {
			return nil
		}
		if !validID(commandArgs(line)) {
			return []byte(cmd.Tag + " BAD Invalid ID parameters\r\n")
		}
		return []byte(idAnswer(c.opts.ID) + cmd.Tag + " OK ID completed\r\n")
	case "LIST", "LSUB":
		p := c.getPhase()
		if (p == phaseAuthenticated || p == phaseSelected) && bytes.IndexByte(line, '&') >= 0 && !validMUTF7Args(commandArgs(line)) {
			return []byte(cmd.Tag + " OK " + cmd.Name + " completed\r\n")
		}
	}
	return nil
}

// idAnswer is the untagged ID response for field and value pairs; a
// field left without a value gets NIL (RFC 2971 allows it).
func idAnswer(pairs []string) string {
	var b strings.Builder
	b.WriteString("* ID (")
	for i, v := range pairs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quote(v))
	}
	if len(pairs)%2 == 1 {
		b.WriteString(" NIL")
	}
	b.WriteString(")\r\n")
	return b.String()
}

// advertisesByDefault reports whether the client is shown a capability
// the server itself advertises, after the scenario's list and the
// capability faults.
func (c *Conn) advertisesByDefault(name string) bool {
	return hasCap(c.adjustCaps([]string{name}, c.filterMatches, false), name)
}

// answerInOrder sends a reply the wire layer made for cmd now, or, when
// the server still owes replies to earlier commands, after the last of
// them (flushLocal). The caller holds wmu.
func (c *Conn) answerInOrder(cmd *Command, reply []byte) error {
	c.smu.Lock()
	if len(c.inflight) > 0 {
		cmd.reply = reply
		c.inflight = append(c.inflight, cmd)
		c.smu.Unlock()
		return nil
	}
	c.smu.Unlock()
	return c.emit(reply)
}

// flushLocal sends the wire layer's replies that waited for the server's
// last tagged reply. The caller holds wmu.
func (c *Conn) flushLocal() error {
	for {
		c.smu.Lock()
		if len(c.inflight) == 0 || c.inflight[0].reply == nil {
			c.smu.Unlock()
			return nil
		}
		cmd := c.inflight[0]
		c.inflight = c.inflight[1:]
		c.smu.Unlock()
		if err := c.emit(cmd.reply); err != nil {
			return err
		}
	}
}

// commandArgs is a command line after its tag and name, without CRLF.
func commandArgs(line []byte) []byte {
	line = bytes.TrimRight(line, "\r\n")
	for range 2 {
		_, rest, ok := bytes.Cut(line, []byte(" "))
		if !ok {
			return nil
		}
		line = rest
	}
	return line
}

// argTokens splits command arguments into atoms and unescaped quoted
// strings; parentheses separate tokens and are dropped. ok is false for
// an unterminated quoted string.
func argTokens(args []byte, each func(tok []byte, quoted bool) bool) (ok bool) {
	for i := 0; i < len(args); {
		switch c := args[i]; {
		case c == ' ' || c == '(' || c == ')':
			i++
		case c == '"':
			var tok []byte
			i++
			for ; i < len(args) && args[i] != '"'; i++ {
				if args[i] == '\\' && i+1 < len(args) {
					i++
				}
				tok = append(tok, args[i])
			}
			if i == len(args) {
				return false
			}
			i++
			if !each(tok, true) {
				return true
			}
		default:
			start := i
			for i < len(args) && args[i] != ' ' && args[i] != '(' && args[i] != ')' && args[i] != '"' {
				i++
			}
			if !each(args[start:i], false) {
				return true
			}
		}
	}
	return true
}

// validID checks RFC 2971's id_params_list: NIL, or a parenthesized list
// of field strings each followed by a value string or NIL. Dovecot
// accepts an empty list; so does this.
func validID(args []byte) bool {
	if string(bytes.ToUpper(args)) == "NIL" {
		return true
	}
	if len(args) < 2 || args[0] != '(' || args[len(args)-1] != ')' {
		return false
	}
	n, good := 0, true
	ok := argTokens(args[1:len(args)-1], func(tok []byte, quoted bool) bool {
		// Fields are strings; values are strings or NIL.
		if !quoted && (n%2 == 0 || string(bytes.ToUpper(tok)) != "NIL") {
			good = false
			return false
		}
		n++
		return true
	})
	return ok && good && n%2 == 0
}

// validMUTF7Args reports whether every argument of a LIST or LSUB is
// valid modified UTF-7, as go-imap's decoder will require.
func validMUTF7Args(args []byte) bool {
	valid := true
	ok := argTokens(args, func(tok []byte, _ bool) bool {
		valid = validMUTF7(tok)
		return valid
	})
	return ok && valid
}

// mutf7 is the base64 alphabet of modified UTF-7: "," for "/".
var mutf7 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// validMUTF7 applies RFC 3501 section 5.1.3 as go-imap's decoder does:
// printable ASCII or UTF-8 outside shifts; "&-" for "&"; a shift holds
// base64 of UTF-16BE for characters that are not printable ASCII, with
// surrogates paired, and two shifts are never adjacent.
func validMUTF7(s []byte) bool {
	if !utf8.Valid(s) {
		return false
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return false
		}
		if c != '&' {
			ascii = true
			continue
		}
		end := bytes.IndexByte(s[i+1:], '-')
		if end < 0 {
			return false
		}
		b64 := s[i+1 : i+1+end]
		i += end + 1
		if len(b64) == 0 {
			ascii = true
			continue
		}
		if !ascii || !validShift(b64) {
			return false
		}
		ascii = false
	}
	return true
}

func validShift(b64 []byte) bool {
	raw := make([]byte, mutf7.DecodedLen(len(b64)))
	n, err := mutf7.Decode(raw, b64)
	if err != nil || n == 0 || n%2 == 1 {
		return false
	}
	units := make([]uint16, n/2)
	for i := range units {
		units[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
	}
	for i := 0; i < len(units); i++ {
		r := rune(units[i])
		if utf16.IsSurrogate(r) {
			if i+1 == len(units) || utf16.DecodeRune(r, rune(units[i+1])) == utf8.RuneError {
				return false
			}
			i++
		} else if r >= 0x20 && r <= 0x7e {
			return false
		}
	}
	return true
}

// quote writes s as an IMAP quoted string.
func quote(s string) string {
	var b bytes.Buffer
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
