package controlclient

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/imapfault/imapfault/control"
	"github.com/imapfault/imapfault/server"
)

const alicePassword = "correct horse battery staple"

// fixture is a server playing the healthy scenario (STARTTLS) with the
// control API over it, both on loopback.
type fixture struct {
	srv *server.Server
	api *Client
	ctx context.Context
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := server.NewTestBuiltin(t, "healthy")
	h, err := control.New([]control.Target{{Name: "healthy", Server: srv}}, control.Options{Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return &fixture{srv: srv, api: New(ts.URL, Options{Token: "tok"}), ctx: ctx}
}

// dial opens an IMAP session as a mail client does: STARTTLS, trusting
// the run's CA.
func (f *fixture) dial(t *testing.T, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	if opts == nil {
		opts = &imapclient.Options{}
	}
	opts.TLSConfig = f.srv.ClientTLSConfig()
	c, err := imapclient.DialStartTLS(f.srv.Addr(), opts)
	if err != nil {
		t.Fatalf("DialStartTLS: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (f *fixture) login(t *testing.T) error {
	t.Helper()
	c := f.dial(t, nil)
	err := c.Login("alice", alicePassword).Wait()
	c.Logout().Wait()
	return err
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestSwitchScenarioBetweenSessions: the next session after a switch
// plays the new scenario; the one after a switch back, the old.
func TestSwitchScenarioBetweenSessions(t *testing.T) {
	f := newFixture(t)
	if err := f.login(t); err != nil {
		t.Fatalf("healthy login: %v", err)
	}
	st := must[control.ServerState](t)(f.api.SetScenario(f.ctx, "login-rejected"))
	if st.Scenario != "login-rejected" {
		t.Errorf("state after switch: %+v", st)
	}
	var ierr *imap.Error
	if err := f.login(t); !errors.As(err, &ierr) || ierr.Code != imap.ResponseCodeAuthenticationFailed {
		t.Errorf("login under login-rejected: %v", err)
	}
	must[control.ServerState](t)(f.api.SetScenario(f.ctx, "healthy"))
	if err := f.login(t); err != nil {
		t.Errorf("login after switching back: %v", err)
	}
}

// TestLoginFaultForNextConnectionOnly: a fault with first = 1 fires for
// the next login and never again.
func TestLoginFaultForNextConnectionOnly(t *testing.T) {
	f := newFixture(t)
	fault := must[control.Fault](t)(f.api.AddFault(f.ctx, `{"when": {"command": "LOGIN", "first": 1}, "respond": "NO [UNAVAILABLE] try later"}`))
	var ierr *imap.Error
	if err := f.login(t); !errors.As(err, &ierr) || ierr.Code != imap.ResponseCodeUnavailable {
		t.Fatalf("first login: %v, want NO [UNAVAILABLE]", err)
	}
	for i := 0; i < 2; i++ {
		if err := f.login(t); err != nil {
			t.Errorf("login %d after the fault fired: %v", i+2, err)
		}
	}
	list := must[[]control.Fault](t)(f.api.Faults(f.ctx))
	if len(list) != 1 || list[0].ID != fault.ID || list[0].Fired != 1 {
		t.Errorf("faults = %+v, want one, fired once", list)
	}
}

// TestDeliverDuringIdle: a message delivered through the API reaches a
// client in IDLE, and the event stream shows the client's LOGOUT.
func TestDeliverDuringIdle(t *testing.T) {
	f := newFixture(t)
	exists := make(chan uint32, 16)
	c := f.dial(t, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	}})
	if err := c.Login("alice", alicePassword).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	events := must[*Events](t)(f.api.Events(f.ctx, 0))
	defer events.Close()
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	// The server has answered IDLE with "+" once the client has it.
	if _, err := events.WaitFor(func(l control.Line) bool { return l.Dir == "->" && strings.HasPrefix(l.Text, "+ ") }); err != nil {
		t.Fatal(err)
	}
	uid := must[uint32](t)(f.api.Deliver(f.ctx, "alice", "INBOX", []byte("From: b@example.com\nSubject: pushed\n\nnew\n")))
	select {
	case n := <-exists:
		if n != sel.NumMessages+1 {
			t.Errorf("EXISTS %d, want %d", n, sel.NumMessages+1)
		}
	case <-f.ctx.Done():
		t.Fatal("no EXISTS during IDLE")
	}
	idle.Close()
	idle.Wait()
	raw := must[[]byte](t)(f.api.Message(f.ctx, "alice", "INBOX", uid))
	if !strings.Contains(string(raw), "Subject: pushed\r\n") {
		t.Errorf("delivered text %q: want CRLF line ends", raw)
	}
	c.Logout()
	logout, err := events.WaitFor(func(l control.Line) bool { return l.Dir == "<-" && strings.HasSuffix(l.Text, " LOGOUT") })
	if err != nil {
		t.Fatalf("no LOGOUT in the event stream: %v", err)
	}
	lines := must[[]control.Line](t)(f.api.Transcript(f.ctx, logout.Conn))
	for _, l := range lines {
		if l.Conn != logout.Conn {
			t.Fatalf("transcript of connection %d has a line of %d", logout.Conn, l.Conn)
		}
		if strings.Contains(l.Text, alicePassword) {
			t.Errorf("transcript shows the password: %q", l.Text)
		}
	}
}

// TestResetAndMailboxState: what a client did shows in the API, and
// reset brings back the scenario's mailboxes.
func TestResetAndMailboxState(t *testing.T) {
	f := newFixture(t)
	before := must[[]control.Message](t)(f.api.Messages(f.ctx, "alice", "INBOX"))
	c := f.dial(t, nil)
	if err := c.Login("alice", alicePassword).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	c.Logout().Wait()
	after := must[[]control.Message](t)(f.api.Messages(f.ctx, "alice", "INBOX"))
	if !contains(after[0].Flags, `\Flagged`) {
		t.Errorf("flags after the client's STORE: %v", after[0].Flags)
	}
	if err := f.api.AddUser(f.ctx, "carol", "pw"); err != nil {
		t.Fatal(err)
	}
	must[control.ServerState](t)(f.api.Reset(f.ctx))
	again := must[[]control.Message](t)(f.api.Messages(f.ctx, "alice", "INBOX"))
	if len(again) != len(before) || contains(again[0].Flags, `\Flagged`) {
		t.Errorf("after reset: %d messages, first flags %v; want %d and no \\Flagged", len(again), again[0].Flags, len(before))
	}
	if err := f.api.AddUser(f.ctx, "carol", "pw"); err != nil {
		t.Errorf("carol should be gone after reset: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestConcurrentAPIBesideClients: 50 clients append while the API
// delivers, adds and removes faults and reads state: no message is lost,
// and every fault added is either listed or removed, never half there.
func TestConcurrentAPIBesideClients(t *testing.T) {
	f := newFixture(t)
	const clients, deliveries, faultRounds = 50, 50, 20
	before := len(must[[]control.Message](t)(f.api.Messages(f.ctx, "alice", "INBOX")))
	var wg sync.WaitGroup
	errs := make(chan error, clients+deliveries+faultRounds+1)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := imapclient.DialStartTLS(f.srv.Addr(), &imapclient.Options{TLSConfig: f.srv.ClientTLSConfig()})
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if err := c.Login("alice", alicePassword).Wait(); err != nil {
				errs <- fmt.Errorf("client %d login: %w", i, err)
				return
			}
			msg := fmt.Sprintf("From: c%d@example.com\r\nSubject: appended %d\r\n\r\nhi\r\n", i, i)
			app := c.Append("INBOX", int64(len(msg)), nil)
			app.Write([]byte(msg))
			app.Close()
			if _, err := app.Wait(); err != nil {
				errs <- fmt.Errorf("client %d append: %w", i, err)
				return
			}
			c.Logout().Wait()
		}()
	}
	for i := 0; i < deliveries; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.api.Deliver(f.ctx, "alice", "INBOX", []byte(fmt.Sprintf("Subject: delivered %d\r\n\r\nx\r\n", i))); err != nil {
				errs <- err
			}
		}()
	}
	for i := 0; i < faultRounds; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A fault on a command no client sends that often: it
			// changes the set under the sessions without failing them.
			fl, err := f.api.AddFault(f.ctx, map[string]any{"when": map[string]any{"command": "NOOP", "nth": 100 + i}, "respond": "NO never"})
			if err != nil {
				errs <- err
				return
			}
			if _, err := f.api.State(f.ctx); err != nil {
				errs <- err
			}
			if i%2 == 0 {
				if err := f.api.RemoveFault(f.ctx, fl.ID); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := len(must[[]control.Message](t)(f.api.Messages(f.ctx, "alice", "INBOX")))
	if want := before + clients + deliveries; got != want {
		t.Errorf("INBOX has %d messages, want %d: mail was lost", got, want)
	}
	if n := len(must[[]control.Fault](t)(f.api.Faults(f.ctx))); n != faultRounds/2 {
		t.Errorf("%d live faults, want %d (half removed)", n, faultRounds/2)
	}
}

// TestHostileInputThroughClient: refusals reach a Go caller as *Error
// with the status and message, and change nothing.
func TestHostileInputThroughClient(t *testing.T) {
	f := newFixture(t)
	_, err := f.api.AddFault(f.ctx, `{"when": {"nth": 2}, "drop": "fin"}`)
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 || !strings.Contains(e.Message, "when.nth") {
		t.Errorf("invalid fault: %v", err)
	}
	if _, err := f.api.SetScenarioTOML(f.ctx, []byte("[server\n")); !IsStatus(err, 400) {
		t.Errorf("invalid TOML: %v", err)
	}
	if _, err := f.api.Deliver(f.ctx, "alice", "INBOX", []byte(strings.Repeat("x", control.MaxBody+1))); !IsStatus(err, 413) {
		t.Errorf("huge body: %v", err)
	}
	bad := New(strings.TrimSuffix(f.api.base, "/"), Options{Token: "wrong"})
	if _, err := bad.State(f.ctx); !IsStatus(err, 401) {
		t.Errorf("wrong token: %v", err)
	}
	if st := must[control.ServerState](t)(f.api.State(f.ctx)); st.Scenario != "healthy" || st.Faults != 0 {
		t.Errorf("state changed: %+v", st)
	}
	if err := f.login(t); err != nil {
		t.Errorf("server no longer serving: %v", err)
	}
}
