package server

import (
	"strings"
	"testing"
)

// TestIdleNoPushDeliversOnNoop: the idle-no-push scenario withholds the
// updates during IDLE and delivers them at the next command, as its
// description says (they used to be dropped for good).
func TestIdleNoPushDeliversOnNoop(t *testing.T) {
	srv := NewTestBuiltin(t, "idle-no-push")
	w := dialWire(t, srv.Addr())
	w.line()
	w.startTLS(srv.ClientTLSConfig())
	w.send(`a LOGIN alice "correct horse battery staple"`)
	w.until("a ")
	w.send("b SELECT INBOX")
	exists := ""
	for _, l := range w.until("b ") {
		if strings.HasSuffix(l, " EXISTS") {
			exists = l
		}
	}
	if exists != "* 4 EXISTS" {
		t.Fatalf("SELECT said %q, want 4 messages", exists)
	}
	w.send("c IDLE")
	w.until("+ ")
	if _, err := srv.Deliver("alice", "INBOX", []byte("Subject: new\r\n\r\nnew mail\r\n")); err != nil {
		t.Fatal(err)
	}
	// The fault says when it kept the update back.
	waitEntry(t, srv, 1, "==", "fault: ")
	w.send("DONE")
	for _, l := range w.until("c ") {
		if strings.Contains(l, "EXISTS") {
			t.Errorf("pushed during IDLE: %q", l)
		}
	}
	w.send("d NOOP")
	if got := w.until("d "); !containsLine(got, "* 5 EXISTS") {
		t.Errorf("NOOP after IDLE: %q, want * 5 EXISTS", got)
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}
