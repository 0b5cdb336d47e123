package server

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapfault/imapfault/faults"
)

// TestEveryFaultLeavesATrace: each action in the registry, made to act
// once, leaves "fault: KIND" in the server transcript, as the -v output
// promises; line filters, capability edits, shapers and truncation used to
// act silently.
func TestEveryFaultLeavesATrace(t *testing.T) {
	session := []string{"a LOGIN alice pw", "b SELECT INBOX", "c FETCH 1 BODY[]", "d NOOP", "e LOGOUT"}
	cases := map[string]struct {
		faults string
		tls    bool // implicit TLS, for the tls action
	}{
		"capabilities": {faults: `capabilities = { remove = ["IDLE"] }`},
		"delay":        {faults: "when = { command = \"NOOP\" }\ndelay = \"1ms\""},
		"drop":         {faults: "when = { command = \"NOOP\" }\ndrop = \"fin\""},
		"greeting":     {faults: `greeting = "Fake IMAP ready"`},
		"hold":         {faults: "when = { command = \"SELECT\" }\nhold = '^\\* \\d+ EXISTS'"},
		"ignore":       {faults: "when = { command = \"NOOP\" }\nignore = true"},
		"line_endings": {faults: `line_endings = "lf"`},
		"respond":      {faults: "when = { command = \"NOOP\" }\nrespond = \"NO not now\""},
		"rewrite":      {faults: `rewrite = { match = "SELECT completed", replace = "SELECT done" }`},
		"slice":        {faults: "slice = 64"},
		"stall":        {faults: "when = { command = \"NOOP\" }\nstall = true"},
		"throttle":     {faults: "throttle = 1000000"},
		"tls":          {faults: `tls = { max_version = "1.2" }`, tls: true},
		"truncate":     {faults: "when = { command = \"FETCH\" }\ntruncate = 10"},
		"write":        {faults: "when = { command = \"NOOP\" }\nwrite = \"* OK written\\r\\n\""},
	}
	for _, k := range faults.Kinds {
		t.Run(k.Name, func(t *testing.T) {
			tc, ok := cases[k.Name]
			if !ok {
				t.Fatalf("no case for the %q action: add one", k.Name)
			}
			sc := plainScenario(t, "[[faults]]\n"+tc.faults+"\n")
			if tc.tls {
				sc.Server.TLS = "implicit"
				sc.Server.PlaintextAuth = nil
			}
			srv := NewTest(t, sc)
			var conn net.Conn
			var err error
			if tc.tls {
				conn, err = tls.Dial("tcp", srv.Addr(), srv.ClientTLSConfig())
			} else {
				conn, err = net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			// The client pipelines a whole session and reads nothing:
			// what it gets back does not matter here, only the trace.
			conn.Write([]byte(strings.Join(session, "\r\n") + "\r\n"))
			waitEntry(t, srv, 1, "==", "fault: "+k.Name)
		})
	}
}
