package faults

import (
	"strings"
	"time"

	"github.com/imapfault/imapfault/internal/imapframe"
)

// Direction marks which way a transcript entry went.
type Direction int

// Directions, as the transcript prints them.
const (
	DirIn   Direction = iota // client to server
	DirOut                   // server to client
	DirInfo                  // something the wire layer did
)

// TapEvent is one transcript entry.
type TapEvent struct {
	Conn    int
	Time    time.Time
	Dir     Direction
	Data    []byte
	Literal bool
	// Secret marks data that carries a credential (a LOGIN literal, a SASL
	// response); a transcript must mask it.
	Secret bool
}

// redactLogin masks the password of a LOGIN command line, keeping the user
// name so that a transcript still shows who tried. A password sent as a
// literal is left as its "{N}" marker: the literal itself is marked Secret.
func redactLogin(line []byte) []byte {
	text := strings.TrimRight(string(line), "\r\n")
	eol := string(line[len(text):])
	fields := strings.SplitN(text, " ", 4)
	if len(fields) < 4 {
		return line
	}
	if _, _, isLit := imapframe.LiteralSize([]byte(fields[3])); isLit {
		return line
	}
	return []byte(strings.Join(fields[:3], " ") + " ********" + eol)
}

// redactLoginRest masks the line that follows a LOGIN literal, which holds
// the password unless it is a literal too: then only its "{N}" marker is
// kept, and the literal itself is marked Secret.
func redactLoginRest(line []byte) []byte {
	text := strings.TrimRight(string(line), "\r\n")
	eol := string(line[len(text):])
	if _, _, isLit := imapframe.LiteralSize([]byte(text)); isLit && !strings.Contains(strings.TrimSpace(text), " ") {
		return line
	}
	return []byte(" ********" + eol)
}
