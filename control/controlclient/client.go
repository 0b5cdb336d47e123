// Package controlclient is the Go client of the control API (package
// control): what a Go test uses to switch a running imapfault's scenario,
// add faults, deliver mail and wait for what a client sends.
//
//	c := controlclient.New(ready.Control, controlclient.Options{})
//	f, err := c.AddFault(ctx, `{"when": {"command": "LOGIN", "first": 1}, "respond": "NO [UNAVAILABLE] try later"}`)
package controlclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/imapfault/imapfault/control"
)

// Options configure a Client.
type Options struct {
	// Token is the bearer token, when serve was given one.
	Token string
	// Server names the server to drive when the process serves several
	// (?server=NAME); empty for the only one.
	Server string
	// HTTPClient defaults to one without a timeout: bound calls with
	// their context.
	HTTPClient *http.Client
}

// Client calls one control API.
type Client struct {
	base string
	opts Options
	hc   *http.Client
}

// New returns a client of the API at baseURL, such as the ready line's
// "control" value (http://127.0.0.1:8025).
func New(baseURL string, opts Options) *Client {
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), opts: opts, hc: hc}
}

// Error is a refusal by the API: its status and the message that says
// what to fix.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("control API: %d: %s", e.Status, e.Message) }

// IsStatus reports whether err is an API refusal with this status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

func (c *Client) url(path string, query url.Values) string {
	if c.opts.Server != "" {
		if query == nil {
			query = url.Values{}
		}
		query.Set("server", c.opts.Server)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body io.Reader, ctype string, out any) error {
	resp, err := c.send(ctx, method, path, query, body, ctype)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("control API: %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// send sends a request; an answer other than 2xx is an *Error.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body io.Reader, ctype string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(path, query), body)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.Token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("control API: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var e struct {
			Error string `json:"error"`
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return nil, &Error{Status: resp.StatusCode, Message: e.Error}
	}
	return resp, nil
}

func jsonBody(v any) (io.Reader, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(data), nil
}

func (c *Client) doJSON(ctx context.Context, method, path string, in, out any) error {
	body, err := jsonBody(in)
	if err != nil {
		return err
	}
	return c.do(ctx, method, path, nil, body, "application/json", out)
}

// Ready reports whether the API answers /readyz.
func (c *Client) Ready(ctx context.Context) error {
	return c.do(ctx, "GET", "/readyz", nil, nil, "", nil)
}

// Servers lists every server the process runs.
func (c *Client) Servers(ctx context.Context) ([]control.ServerState, error) {
	var out []control.ServerState
	return out, c.do(ctx, "GET", "/api/servers", nil, nil, "", &out)
}

// State returns the server's state.
func (c *Client) State(ctx context.Context) (control.ServerState, error) {
	var out control.ServerState
	return out, c.do(ctx, "GET", "/api/server", nil, nil, "", &out)
}

// SetScenario plays a built-in scenario for new connections.
func (c *Client) SetScenario(ctx context.Context, name string) (control.ServerState, error) {
	var out control.ServerState
	return out, c.doJSON(ctx, "PUT", "/api/scenario", map[string]string{"name": name}, &out)
}

// SetScenarioTOML plays a scenario given as a scenario file's text.
func (c *Client) SetScenarioTOML(ctx context.Context, toml []byte) (control.ServerState, error) {
	var out control.ServerState
	return out, c.do(ctx, "PUT", "/api/scenario", nil, bytes.NewReader(toml), "application/toml", &out)
}

// Reset goes back to the scenario's initial mailboxes and counters.
func (c *Client) Reset(ctx context.Context) (control.ServerState, error) {
	var out control.ServerState
	return out, c.do(ctx, "POST", "/api/reset", nil, nil, "", &out)
}

// AddFault adds a fault for the connections opened from now on. fault is
// its JSON text in the shape of a scenario's [[faults]] table, or any
// value that marshals to it.
func (c *Client) AddFault(ctx context.Context, fault any) (control.Fault, error) {
	var out control.Fault
	var body io.Reader
	switch f := fault.(type) {
	case string:
		body = strings.NewReader(f)
	case []byte:
		body = bytes.NewReader(f)
	default:
		var err error
		if body, err = jsonBody(f); err != nil {
			return out, err
		}
	}
	return out, c.do(ctx, "POST", "/api/faults", nil, body, "application/json", &out)
}

// Faults lists the live faults.
func (c *Client) Faults(ctx context.Context) ([]control.Fault, error) {
	var out []control.Fault
	return out, c.do(ctx, "GET", "/api/faults", nil, nil, "", &out)
}

// RemoveFault removes one live fault.
func (c *Client) RemoveFault(ctx context.Context, id int) error {
	return c.do(ctx, "DELETE", "/api/faults/"+strconv.Itoa(id), nil, nil, "", nil)
}

// ClearFaults removes every live fault.
func (c *Client) ClearFaults(ctx context.Context) error {
	return c.do(ctx, "DELETE", "/api/faults", nil, nil, "", nil)
}

// AddUser creates an account with an empty INBOX.
func (c *Client) AddUser(ctx context.Context, name, password string) error {
	return c.doJSON(ctx, "POST", "/api/users", map[string]string{"name": name, "password": password}, nil)
}

// Users lists the accounts.
func (c *Client) Users(ctx context.Context) ([]control.User, error) {
	var out []control.User
	return out, c.do(ctx, "GET", "/api/users", nil, nil, "", &out)
}

func mailboxPath(user, mailbox string) string {
	return "/api/users/" + url.PathEscape(user) + "/mailboxes/" + url.PathEscape(mailbox)
}

// CreateMailbox creates a mailbox; specialUse may be empty or \Sent,
// \Trash and the like.
func (c *Client) CreateMailbox(ctx context.Context, user, mailbox, specialUse string) error {
	req := map[string]string{"name": mailbox}
	if specialUse != "" {
		req["special_use"] = specialUse
	}
	return c.doJSON(ctx, "POST", "/api/users/"+url.PathEscape(user)+"/mailboxes", req, nil)
}

// Deliver appends a message as new mail, at once visible to clients in
// IDLE, and returns its UID.
func (c *Client) Deliver(ctx context.Context, user, mailbox string, raw []byte, flags ...string) (uint32, error) {
	var out struct {
		UID uint32 `json:"uid"`
	}
	q := url.Values{}
	for _, f := range flags {
		q.Add("flag", f)
	}
	return out.UID, c.do(ctx, "POST", mailboxPath(user, mailbox)+"/messages", q, bytes.NewReader(raw), "message/rfc822", &out)
}

// Messages lists a mailbox's messages with their flags.
func (c *Client) Messages(ctx context.Context, user, mailbox string) ([]control.Message, error) {
	var out []control.Message
	return out, c.do(ctx, "GET", mailboxPath(user, mailbox)+"/messages", nil, nil, "", &out)
}

// Message returns one message's text.
func (c *Client) Message(ctx context.Context, user, mailbox string, uid uint32) ([]byte, error) {
	resp, err := c.send(ctx, "GET", mailboxPath(user, mailbox)+"/messages/"+strconv.FormatUint(uint64(uid), 10), nil, nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// SetFlags replaces a message's flags, as another client would.
func (c *Client) SetFlags(ctx context.Context, user, mailbox string, uid uint32, flags ...string) error {
	if flags == nil {
		flags = []string{}
	}
	return c.doJSON(ctx, "PUT", mailboxPath(user, mailbox)+"/messages/"+strconv.FormatUint(uint64(uid), 10)+"/flags", map[string][]string{"flags": flags}, nil)
}

// BumpUIDValidity gives a mailbox a new UIDVALIDITY and returns it.
func (c *Client) BumpUIDValidity(ctx context.Context, user, mailbox string) (uint32, error) {
	var out struct {
		UIDValidity uint32 `json:"uidvalidity"`
	}
	return out.UIDValidity, c.do(ctx, "POST", mailboxPath(user, mailbox)+"/uidvalidity", nil, nil, "", &out)
}

// Connections lists the open connections.
func (c *Client) Connections(ctx context.Context) ([]control.Connection, error) {
	var out []control.Connection
	return out, c.do(ctx, "GET", "/api/connections", nil, nil, "", &out)
}

// CloseConnection closes a connection as a dropped network would.
func (c *Client) CloseConnection(ctx context.Context, id int) error {
	return c.do(ctx, "DELETE", "/api/connections/"+strconv.Itoa(id), nil, nil, "", nil)
}

func connQuery(conn int) url.Values {
	if conn == 0 {
		return nil
	}
	return url.Values{"conn": {strconv.Itoa(conn)}}
}

// Transcript returns the transcript so far: one connection's, or every
// connection's when conn is 0.
func (c *Client) Transcript(ctx context.Context, conn int) ([]control.Line, error) {
	var out []control.Line
	return out, c.do(ctx, "GET", "/api/transcript", connQuery(conn), nil, "", &out)
}

// Events is a stream of transcript lines as they happen.
type Events struct {
	resp *http.Response
	r    *bufio.Reader
}

// Events subscribes to the transcript's lines (one connection's, or all
// when conn is 0). It returns once the subscription is in place: what the
// server records after that is in the stream. Cancel ctx or call Close to
// end it.
func (c *Client) Events(ctx context.Context, conn int) (*Events, error) {
	resp, err := c.send(ctx, "GET", "/api/events", connQuery(conn), nil, "")
	if err != nil {
		return nil, err
	}
	ev := &Events{resp: resp, r: bufio.NewReader(resp.Body)}
	line, err := ev.r.ReadString('\n')
	if err != nil || line != ": subscribed\n" {
		resp.Body.Close()
		return nil, fmt.Errorf("control API: events: no subscription (%q, %v)", line, err)
	}
	return ev, nil
}

// Next returns the next line. It fails with io.EOF when the server stops,
// and with an error saying so when the server dropped this reader for
// falling behind.
func (e *Events) Next() (control.Line, error) {
	var event string
	for {
		l, err := e.r.ReadString('\n')
		if err != nil {
			return control.Line{}, err
		}
		l = strings.TrimRight(l, "\n")
		switch {
		case strings.HasPrefix(l, "event: "):
			event = strings.TrimPrefix(l, "event: ")
		case strings.HasPrefix(l, "data: "):
			data := strings.TrimPrefix(l, "data: ")
			switch event {
			case "line":
				var line control.Line
				if err := json.Unmarshal([]byte(data), &line); err != nil {
					return control.Line{}, fmt.Errorf("control API: events: %w", err)
				}
				return line, nil
			case "end":
				return control.Line{}, io.EOF
			default:
				return control.Line{}, fmt.Errorf("control API: events: %s: %s", event, data)
			}
		}
	}
}

// WaitFor reads lines until one matches, and returns it.
func (e *Events) WaitFor(match func(control.Line) bool) (control.Line, error) {
	for {
		l, err := e.Next()
		if err != nil || match(l) {
			return l, err
		}
	}
}

// Close ends the stream.
func (e *Events) Close() error { return e.resp.Body.Close() }
