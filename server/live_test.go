package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/imapfault/imapfault/faults"
)

// login logs alice in on a new plaintext connection and returns the
// tagged reply.
func login(t *testing.T, srv *Server, password string) string {
	t.Helper()
	w := dialWire(t, srv.Addr())
	w.line()
	w.send("a LOGIN alice \"" + password + "\"")
	l := w.until("a ")
	return l[len(l)-1]
}

// TestLiveFaultCountsFromWhenAdded: a fault added while the server runs
// acts on connections opened after it, and its first = 1 means the next
// login only, whatever came before.
func TestLiveFaultCountsFromWhenAdded(t *testing.T) {
	srv := NewTest(t, plainScenario(t, ""))
	for range 2 {
		if got := login(t, srv, "pw"); !strings.HasPrefix(got, "a OK") {
			t.Fatalf("before the fault: %q", got)
		}
	}
	f, err := srv.AddFault(faults.Fault{When: faults.When{Command: "LOGIN", First: 1}, Action: &faults.Respond{Respond: "NO [UNAVAILABLE] try later"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := login(t, srv, "pw"); got != "a NO [UNAVAILABLE] try later" {
		t.Errorf("first login after the fault: %q", got)
	}
	if got := login(t, srv, "pw"); !strings.HasPrefix(got, "a OK") {
		t.Errorf("second login after the fault: %q, want OK (first = 1)", got)
	}
	if got := srv.Faults(); len(got) != 1 || got[0].ID != f.ID || got[0].Fired() != 1 {
		t.Errorf("Faults() = %+v, want the one fault, fired once", got)
	}
	if err := srv.RemoveFault(f.ID); err != nil {
		t.Fatal(err)
	}
	if err := srv.RemoveFault(f.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing it twice: %v, want ErrNotFound", err)
	}
	if _, err := srv.AddFault(faults.Fault{When: faults.When{Nth: 1}, Action: &faults.Drop{Drop: "fin"}}); err == nil || len(srv.Faults()) != 0 {
		t.Errorf("an invalid fault: err %v, faults %v: want an error and no change", err, srv.Faults())
	}
}

// TestLiveFaultConnectionCountsFromWhenAdded: connection = 1 in a live
// fault is the next connection accepted, not the run's first.
func TestLiveFaultConnectionCountsFromWhenAdded(t *testing.T) {
	srv := NewTest(t, plainScenario(t, ""))
	login(t, srv, "pw")
	if _, err := srv.AddFault(faults.Fault{When: faults.When{Connection: 1, Command: "LOGIN"}, Action: &faults.Respond{Respond: "NO once"}}); err != nil {
		t.Fatal(err)
	}
	if got := login(t, srv, "pw"); got != "a NO once" {
		t.Errorf("next connection: %q", got)
	}
	if got := login(t, srv, "pw"); !strings.HasPrefix(got, "a OK") {
		t.Errorf("the one after: %q", got)
	}
}

// TestSetScenarioForNewConnections: an open session keeps its scenario
// while new connections get the new one; a scenario that cannot be
// played changes nothing.
func TestSetScenarioForNewConnections(t *testing.T) {
	srv := NewTest(t, plainScenario(t, ""))
	old := dialWire(t, srv.Addr())
	old.line()
	next := plainScenario(t, "[[faults]]\nwhen = { command = \"LOGIN\" }\nrespond = \"NO switched\"\n")
	next.Name = "next"
	if err := srv.SetScenario(next); err != nil {
		t.Fatal(err)
	}
	old.send("a LOGIN alice pw")
	if l := old.until("a "); !strings.HasPrefix(l[len(l)-1], "a OK") {
		t.Errorf("the open session changed scenario: %q", l)
	}
	if got := login(t, srv, "pw"); got != "a NO switched" {
		t.Errorf("new connection: %q", got)
	}
	bad := plainScenario(t, "")
	bad.Server.Limits.MaxLine = -1
	if err := srv.SetScenario(bad); err == nil || srv.Scenario().Name != "next" {
		t.Errorf("invalid scenario: err %v, playing %q", err, srv.Scenario().Name)
	}
	conns := srv.Connections()
	if len(conns) == 0 || conns[0].Scenario != "test" || conns[0].User != "alice" {
		t.Errorf("Connections() = %+v, want the old session first, alice on test", conns)
	}
}

// TestResetRestoresMailboxesAndCounters: Reset brings back the scenario's
// mail, forgets mail delivered since, restarts the faults' counters and
// disarms the live faults.
func TestResetRestoresMailboxesAndCounters(t *testing.T) {
	srv := NewTest(t, plainScenario(t, "[[faults]]\nwhen = { command = \"LOGIN\", first = 1 }\nrespond = \"NO first\"\n"))
	if got := login(t, srv, "pw"); got != "a NO first" {
		t.Fatalf("first login: %q", got)
	}
	if _, err := srv.Deliver("alice", "INBOX", []byte("Subject: new\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddUser("bob", "pw2"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddFault(faults.Fault{When: faults.When{Command: "SELECT"}, Action: &faults.Respond{Respond: "NO x"}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Reset(); err != nil {
		t.Fatal(err)
	}
	msgs, err := srv.Messages("alice", "INBOX")
	if err != nil || len(msgs) != 1 || msgs[0].Subject != "hello" {
		t.Errorf("after reset: %+v, %v: want the scenario's one message", msgs, err)
	}
	if got := srv.Users(); len(got) != 1 || got[0] != "alice" {
		t.Errorf("users after reset: %v", got)
	}
	if len(srv.Faults()) != 0 {
		t.Errorf("live faults survived reset: %v", srv.Faults())
	}
	if got := login(t, srv, "pw"); got != "a NO first" {
		t.Errorf("first login after reset: %q: the counter did not restart", got)
	}
}

// TestUsersMailboxesMessages: accounts and mailboxes created while the
// server runs can log in and receive mail, listed with flags.
func TestUsersMailboxesMessages(t *testing.T) {
	srv := NewTest(t, plainScenario(t, ""))
	if err := srv.AddUser("bob", "secret"); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddUser("bob", "other"); !errors.Is(err, ErrExists) {
		t.Errorf("second bob: %v", err)
	}
	if err := srv.CreateMailbox("bob", "Archive", `\Archive`); err != nil {
		t.Fatal(err)
	}
	if err := srv.CreateMailbox("bob", "Archive", ""); !errors.Is(err, ErrExists) {
		t.Errorf("second Archive: %v", err)
	}
	if err := srv.CreateMailbox("carol", "X", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("mailbox of nobody: %v", err)
	}
	uid, err := srv.Deliver("bob", "Archive", []byte("Subject: kept\r\n\r\nbody\r\n"), imap.FlagSeen)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := srv.Messages("bob", "Archive")
	if err != nil || len(msgs) != 1 || msgs[0].UID != uid || msgs[0].Subject != "kept" || len(msgs[0].Flags) != 1 || msgs[0].Flags[0] != imap.FlagSeen {
		t.Errorf("Messages = %+v, %v", msgs, err)
	}
	if raw, err := srv.Message("bob", "Archive", uid); err != nil || !strings.Contains(string(raw), "body") {
		t.Errorf("Message = %q, %v", raw, err)
	}
	w := dialWire(t, srv.Addr())
	w.line()
	w.send("a LOGIN bob secret")
	if l := w.until("a "); !strings.HasPrefix(l[len(l)-1], "a OK") {
		t.Errorf("bob's login: %q", l)
	}
}

// TestSubscriptionDropsSlowReader: a subscriber gets lines as they are
// recorded; one that does not read is dropped, and the server goes on.
func TestSubscriptionDropsSlowReader(t *testing.T) {
	srv := NewTest(t, plainScenario(t, ""))
	fast := srv.Subscribe(1000)
	defer fast.Close()
	slow := srv.Subscribe(1)
	defer slow.Close()
	w := dialWire(t, srv.Addr())
	w.line()
	w.send("a LOGOUT")
	w.until("a ")
	timeout := time.After(10 * time.Second)
	for seen := false; !seen; {
		select {
		case e, ok := <-fast.Lines():
			if !ok {
				t.Fatal("fast subscriber dropped")
			}
			seen = e.Dir == "<-" && e.Text == "a LOGOUT"
		case <-timeout:
			t.Fatal("no LOGOUT line in 10s")
		}
	}
	// The slow one had room for one line of the several sent.
	<-slow.Lines()
	if _, ok := <-slow.Lines(); ok || !slow.Dropped() {
		t.Errorf("slow subscriber not dropped")
	}
	if got := login(t, srv, "pw"); !strings.HasPrefix(got, "a OK") {
		t.Errorf("server after dropping a subscriber: %q", got)
	}
}

// TestCloseConnection: a connection closed by id sees its socket close.
func TestCloseConnection(t *testing.T) {
	srv := NewTest(t, plainScenario(t, ""))
	w := dialWire(t, srv.Addr())
	w.line()
	conns := srv.Connections()
	if len(conns) != 1 {
		t.Fatalf("Connections() = %+v", conns)
	}
	if err := srv.CloseConnection(conns[0].ID); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, w)
	if err := srv.CloseConnection(9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("closing an unknown connection: %v", err)
	}
}
