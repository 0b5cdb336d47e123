package imapframe

import "bytes"

// CommandName returns the tag and upper-case name of a client command line,
// with "UID " kept as part of the name ("UID FETCH"); on a reply line, the
// tag and the upper-case status or first word. It allocates only a tag,
// and a name that is no known command.
func CommandName(line []byte) (tag, name string) {
	text := bytes.TrimRight(line, "\r\n")
	t, rest, _ := bytes.Cut(text, []byte(" "))
	word, rest, _ := bytes.Cut(rest, []byte(" "))
	name = upperName("", word)
	if name == "UID" {
		sub, _, _ := bytes.Cut(rest, []byte(" "))
		name = upperName("UID ", sub)
	}
	return string(t), name
}

// commandNames interns the commands clients send and the statuses servers
// reply with, so that naming one allocates nothing.
var commandNames = func() map[string]string {
	m := make(map[string]string)
	for _, name := range []string{
		"APPEND", "AUTHENTICATE", "CAPABILITY", "CHECK", "CLOSE", "COMPRESS",
		"COPY", "CREATE", "DELETE", "ENABLE", "EXAMINE", "EXPUNGE", "FETCH",
		"GETQUOTA", "GETQUOTAROOT", "ID", "IDLE", "LIST", "LOGIN", "LOGOUT",
		"LSUB", "MOVE", "NAMESPACE", "NOOP", "RENAME", "SEARCH", "SELECT",
		"STARTTLS", "STATUS", "STORE", "SUBSCRIBE", "UID", "UNSELECT",
		"UNSUBSCRIBE", "UID COPY", "UID EXPUNGE", "UID FETCH", "UID MOVE",
		"UID SEARCH", "UID STORE",
		"OK", "NO", "BAD", "BYE", "PREAUTH",
	} {
		m[name] = name
	}
	return m
}()

// upperName returns prefix and word in upper case (ASCII: command names
// are atoms), interned when they name a known command.
func upperName(prefix string, word []byte) string {
	var buf [24]byte
	up := append(buf[:0], prefix...)
	for _, b := range word {
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		up = append(up, b)
	}
	if name, ok := commandNames[string(up)]; ok {
		return name
	}
	return string(up)
}
