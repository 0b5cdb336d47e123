package control

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/scenarios"
)

// route is one operation of the API; openapi.json lists the same ones
// (TestOpenAPIMatchesRoutes).
type route struct {
	method, path string
	handle       http.HandlerFunc
}

func (h *Handler) routes() []route {
	return []route{
		{"GET", "/readyz", h.readyz},
		{"GET", "/openapi.json", h.openapi},
		{"GET", "/api/servers", h.api(h.listServers)},
		{"GET", "/api/server", h.on(h.getServer)},
		{"PUT", "/api/scenario", h.onServer(h.putScenario)},
		{"POST", "/api/reset", h.onServer(h.reset)},
		{"GET", "/api/faults", h.on(h.listFaults)},
		{"POST", "/api/faults", h.on(h.addFault)},
		{"DELETE", "/api/faults", h.on(h.clearFaults)},
		{"DELETE", "/api/faults/{id}", h.on(h.removeFault)},
		{"GET", "/api/users", h.onServer(h.listUsers)},
		{"POST", "/api/users", h.onServer(h.addUser)},
		{"POST", "/api/users/{user}/mailboxes", h.onServer(h.createMailbox)},
		{"GET", "/api/users/{user}/mailboxes/{mailbox}/messages", h.onServer(h.listMessages)},
		{"POST", "/api/users/{user}/mailboxes/{mailbox}/messages", h.onServer(h.deliver)},
		{"GET", "/api/users/{user}/mailboxes/{mailbox}/messages/{uid}", h.onServer(h.getMessage)},
		{"PUT", "/api/users/{user}/mailboxes/{mailbox}/messages/{uid}/flags", h.onServer(h.setFlags)},
		{"POST", "/api/users/{user}/mailboxes/{mailbox}/uidvalidity", h.onServer(h.bumpUIDValidity)},
		{"GET", "/api/connections", h.onServer(h.listConnections)},
		{"DELETE", "/api/connections/{id}", h.onServer(h.closeConnection)},
		{"GET", "/api/transcript", h.onServer(h.transcript)},
		{"GET", "/api/events", h.onServer(h.events)},
	}
}

// api adapts a handler that returns an error.
func (h *Handler) api(f func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			writeError(w, status(err), errorMessage(err))
		}
	}
}

// on adapts a handler of one server, chosen by ?server=NAME.
func (h *Handler) on(f func(w http.ResponseWriter, r *http.Request, t Target) error) http.HandlerFunc {
	return h.api(func(w http.ResponseWriter, r *http.Request) error {
		t, err := h.target(r)
		if err != nil {
			return err
		}
		return f(w, r, t)
	})
}

// onServer adapts a handler that needs a fake server: a proxy has no
// scenario, accounts, mail or transcript of its own to show or change.
func (h *Handler) onServer(f func(w http.ResponseWriter, r *http.Request, t Target) error) http.HandlerFunc {
	return h.on(func(w http.ResponseWriter, r *http.Request, t Target) error {
		if t.Server == nil {
			return &httpError{http.StatusConflict, fmt.Sprintf("server %q is a proxy in front of %s: it has no scenario, users, mailboxes, messages, connections or transcript to show or change here; only /api/faults and /api/server work on a proxy", t.Name, t.Proxy.Upstream)}
		}
		return f(w, r, t)
	})
}

func (h *Handler) target(r *http.Request) (Target, error) {
	name := r.URL.Query().Get("server")
	if name == "" {
		if len(h.targets) == 1 {
			return h.targets[0], nil
		}
		return Target{}, badRequest("this process serves %d scenarios: name one with ?server=NAME (one of: %s)", len(h.targets), h.names())
	}
	for _, t := range h.targets {
		if t.Name == name {
			return t, nil
		}
	}
	return Target{}, &httpError{http.StatusNotFound, fmt.Sprintf("no server %q (servers: %s)", name, h.names())}
}

func (h *Handler) names() string {
	names := make([]string, len(h.targets))
	for i, t := range h.targets {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

func (h *Handler) readyz(w http.ResponseWriter, _ *http.Request) {
	// The servers listen from the moment they exist: the API is ready
	// as soon as it answers.
	writeJSON(w, http.StatusOK, map[string]any{"ready": true, "servers": len(h.targets)})
}

func (h *Handler) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}

// ServerState is the answer of GET /api/server.
type ServerState struct {
	Name        string `json:"name"`
	Address     string `json:"address"`
	TLS         string `json:"tls"`
	Scenario    string `json:"scenario"`
	Description string `json:"description,omitempty"`
	CAPEM       string `json:"ca_pem,omitempty"`
	Users       []User `json:"users"`
	Connections int    `json:"connections"`
	Faults      int    `json:"faults"`
	// Upstream is the real server a proxy stands in front of; a proxy
	// shows no users, connections or TLS mode of its own.
	Upstream string `json:"upstream,omitempty"`
}

// User is an account as the API shows it: the scenario's accounts have
// published test passwords, which a test needs to log in.
type User struct {
	Name     string `json:"name"`
	Password string `json:"password,omitempty"`
}

func state(t Target) ServerState {
	if p := t.Proxy; p != nil {
		return ServerState{Name: t.Name, Address: p.Address, TLS: p.TLS, Scenario: p.Scenario, Users: []User{}, Faults: len(p.Faults.Faults()), Upstream: p.Upstream}
	}
	sc := t.Server.Scenario()
	st := ServerState{Name: t.Name, Address: t.Server.Addr(), TLS: sc.Server.TLS, Scenario: sc.Name, Description: sc.Description,
		Users: ScenarioUsers(sc), Connections: len(t.Server.Connections()), Faults: len(t.faults().Faults())}
	if c := t.Server.Certs(); c != nil {
		st.CAPEM = string(c.CAPEM())
	}
	return st
}

// ScenarioUsers lists a scenario's accounts with their passwords.
func ScenarioUsers(sc *scenarios.Scenario) []User {
	users := make([]User, len(sc.Users))
	for i, u := range sc.Users {
		users[i] = User{Name: u.Name, Password: u.Password}
	}
	return users
}

func (h *Handler) listServers(w http.ResponseWriter, _ *http.Request) error {
	list := make([]ServerState, len(h.targets))
	for i, t := range h.targets {
		list[i] = state(t)
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (h *Handler) getServer(w http.ResponseWriter, _ *http.Request, t Target) error {
	writeJSON(w, http.StatusOK, state(t))
	return nil
}

// scenarioRequest names a built-in scenario.
type scenarioRequest struct {
	Name string `json:"name"`
}

// putScenario takes {"name": "..."} for a built-in scenario, or a
// scenario file's TOML text: a TOML file cannot start with "{".
func (h *Handler) putScenario(w http.ResponseWriter, r *http.Request, t Target) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	var sc *scenarios.Scenario
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		var req scenarioRequest
		if err := decodeJSONBytes(data, &req); err != nil {
			return err
		}
		if req.Name == "" {
			return badRequest("field \"name\": give a built-in scenario's name (GET /api/server shows the current one; imapfault scenarios lists them)")
		}
		if sc, err = scenarios.Builtin(req.Name); err != nil {
			return &httpError{http.StatusNotFound, err.Error()}
		}
	} else {
		if len(trimmed) == 0 {
			return badRequest("empty body: send {\"name\": \"BUILTIN\"} or a scenario file's TOML text")
		}
		// A scenario sent over the API has no folder: its messages are
		// inline or generated.
		if sc, err = scenarios.Parse("request-body.toml", data, nil); err != nil {
			return err
		}
		if err := boundGenerated(sc); err != nil {
			return err
		}
	}
	if err := t.Server.SetScenario(sc); err != nil {
		return err
	}
	h.log.Info("scenario switched", "server", t.Name, "scenario", sc.Name)
	writeJSON(w, http.StatusOK, state(t))
	return nil
}

// maxGenerated bounds the messages a scenario sent over the API may ask
// the server to generate: a body of 1 MiB could otherwise ask for
// thousands of mailboxes of 100,000 messages each and exhaust memory.
const maxGenerated = 100000

func boundGenerated(sc *scenarios.Scenario) error {
	total := 0
	for i, u := range sc.Users {
		for j, m := range u.Mailboxes {
			if m.Generate == nil {
				continue
			}
			if total += m.Generate.Count; total > maxGenerated {
				return badRequest("request-body.toml: users[%d].mailboxes[%d].generate.count: the scenario asks for more than %d generated messages in all: ask for fewer", i, j, maxGenerated)
			}
		}
	}
	return nil
}

func (h *Handler) reset(w http.ResponseWriter, _ *http.Request, t Target) error {
	if err := t.Server.Reset(); err != nil {
		return err
	}
	h.log.Info("scenario reset", "server", t.Name)
	writeJSON(w, http.StatusOK, state(t))
	return nil
}

// Fault is a live fault as the API shows it.
type Fault struct {
	ID    int            `json:"id"`
	Added time.Time      `json:"added"`
	Fired int            `json:"fired"`
	Fault map[string]any `json:"fault"`
}

func faultJSON(f faults.LiveFault) (Fault, error) {
	table, err := scenarios.FaultTable(f.Fault())
	if err != nil {
		return Fault{}, fmt.Errorf("fault %d: %w", f.ID, err)
	}
	return Fault{ID: f.ID, Added: f.Added, Fired: f.Fired(), Fault: table}, nil
}

func (h *Handler) listFaults(w http.ResponseWriter, _ *http.Request, t Target) error {
	list := []Fault{}
	for _, f := range t.faults().Faults() {
		j, err := faultJSON(f)
		if err != nil {
			return err
		}
		list = append(list, j)
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (h *Handler) addFault(w http.ResponseWriter, r *http.Request, t Target) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	f, err := scenarios.ParseFault(data)
	if err != nil {
		return err
	}
	lf, err := t.faults().AddFault(f)
	if err != nil {
		return err
	}
	j, err := faultJSON(lf)
	if err != nil {
		return err
	}
	h.log.Info("fault added", "server", t.Name, "id", lf.ID, "fault", f.Action.Kind())
	writeJSON(w, http.StatusCreated, j)
	return nil
}

func (h *Handler) clearFaults(w http.ResponseWriter, _ *http.Request, t Target) error {
	t.faults().ClearFaults()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func pathInt(r *http.Request, name string) (int, error) {
	n, err := strconv.Atoi(r.PathValue(name))
	if err != nil || n <= 0 {
		return 0, badRequest("%s %q: want a positive whole number", name, r.PathValue(name))
	}
	return n, nil
}

func (h *Handler) removeFault(w http.ResponseWriter, r *http.Request, t Target) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := t.faults().RemoveFault(id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listUsers(w http.ResponseWriter, _ *http.Request, t Target) error {
	list := []User{}
	for _, n := range t.Server.Users() {
		list = append(list, User{Name: n})
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// userRequest creates an account.
type userRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (h *Handler) addUser(w http.ResponseWriter, r *http.Request, t Target) error {
	var req userRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := t.Server.AddUser(req.Name, req.Password); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, User{Name: req.Name})
	return nil
}

// mailboxRequest creates a mailbox.
type mailboxRequest struct {
	Name       string `json:"name"`
	SpecialUse string `json:"special_use,omitempty"`
}

var specialUses = []string{`\All`, `\Archive`, `\Drafts`, `\Flagged`, `\Junk`, `\Sent`, `\Trash`}

func (h *Handler) createMailbox(w http.ResponseWriter, r *http.Request, t Target) error {
	var req mailboxRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.SpecialUse != "" && !contains(specialUses, req.SpecialUse) {
		return badRequest("field \"special_use\": %q is not allowed (allowed: %s)", req.SpecialUse, strings.Join(specialUses, ", "))
	}
	if err := t.Server.CreateMailbox(r.PathValue("user"), req.Name, req.SpecialUse); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, req)
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Message is a stored message as the API lists it.
type Message struct {
	UID     uint32    `json:"uid"`
	Flags   []string  `json:"flags"`
	Size    int       `json:"size"`
	Date    time.Time `json:"date"`
	Subject string    `json:"subject"`
}

func (h *Handler) listMessages(w http.ResponseWriter, r *http.Request, t Target) error {
	msgs, err := t.Server.Messages(r.PathValue("user"), r.PathValue("mailbox"))
	if err != nil {
		return err
	}
	list := make([]Message, len(msgs))
	for i, m := range msgs {
		flags := make([]string, len(m.Flags))
		for k, f := range m.Flags {
			flags[k] = string(f)
		}
		list[i] = Message{UID: uint32(m.UID), Flags: flags, Size: m.Size, Date: m.Date, Subject: m.Subject}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// flags validates flags given by a request.
func flags(list []string, where string) ([]imap.Flag, error) {
	out := make([]imap.Flag, len(list))
	for i, f := range list {
		if !scenarios.ValidFlag(f) {
			return nil, badRequest("%s: %q is not a flag such as \\Seen or $Label1", where, f)
		}
		out[i] = imap.Flag(f)
	}
	return out, nil
}

// deliver appends the raw body as new mail. Bare LF line ends, as a
// script's here-document has them, become CRLF, as IMAP requires.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request, t Target) error {
	fl, err := flags(r.URL.Query()["flag"], "query parameter flag")
	if err != nil {
		return err
	}
	raw, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return badRequest("empty body: send the message's RFC 5322 text (headers, a blank line, the body)")
	}
	raw = crlf(raw)
	uid, err := t.Server.Deliver(r.PathValue("user"), r.PathValue("mailbox"), raw, fl...)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]uint32{"uid": uint32(uid)})
	return nil
}

func crlf(b []byte) []byte {
	if !bytes.Contains(b, []byte("\n")) || bytes.Count(b, []byte("\r\n")) == bytes.Count(b, []byte("\n")) {
		return b
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

func (h *Handler) getMessage(w http.ResponseWriter, r *http.Request, t Target) error {
	uid, err := pathInt(r, "uid")
	if err != nil {
		return err
	}
	raw, err := t.Server.Message(r.PathValue("user"), r.PathValue("mailbox"), imap.UID(uid))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "message/rfc822")
	_, _ = w.Write(raw)
	return nil
}

// flagsRequest replaces a message's flags.
type flagsRequest struct {
	Flags []string `json:"flags"`
}

func (h *Handler) setFlags(w http.ResponseWriter, r *http.Request, t Target) error {
	uid, err := pathInt(r, "uid")
	if err != nil {
		return err
	}
	var req flagsRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Flags == nil {
		return badRequest("field \"flags\": give the message's new flags, [] for none")
	}
	fl, err := flags(req.Flags, "field \"flags\"")
	if err != nil {
		return err
	}
	if err := t.Server.SetFlags(r.PathValue("user"), r.PathValue("mailbox"), imap.UID(uid), fl...); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}

func (h *Handler) bumpUIDValidity(w http.ResponseWriter, r *http.Request, t Target) error {
	v, err := t.Server.BumpUIDValidity(r.PathValue("user"), r.PathValue("mailbox"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]uint32{"uidvalidity": v})
	return nil
}

// Connection is an open connection as the API lists it.
type Connection struct {
	ID       int       `json:"id"`
	Remote   string    `json:"remote"`
	Started  time.Time `json:"started"`
	User     string    `json:"user,omitempty"`
	TLS      bool      `json:"tls"`
	Scenario string    `json:"scenario"`
}

func (h *Handler) listConnections(w http.ResponseWriter, _ *http.Request, t Target) error {
	list := []Connection{}
	for _, c := range t.Server.Connections() {
		list = append(list, Connection(c))
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (h *Handler) closeConnection(w http.ResponseWriter, r *http.Request, t Target) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := t.Server.CloseConnection(id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Line is a transcript line as the API shows it: dir is "<-" for what
// the client sent, "->" for what the server sent, "==" for what the wire
// layer did. Secrets are masked.
type Line struct {
	Time time.Time `json:"time"`
	Conn int       `json:"conn"`
	Dir  string    `json:"dir"`
	Text string    `json:"text"`
}

// connFilter reads ?conn=N; 0 means every connection.
func connFilter(r *http.Request) (int, error) {
	v := r.URL.Query().Get("conn")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, badRequest("query parameter conn %q: want a connection id (GET /api/connections lists them)", v)
	}
	return n, nil
}

func (h *Handler) transcript(w http.ResponseWriter, r *http.Request, t Target) error {
	conn, err := connFilter(r)
	if err != nil {
		return err
	}
	list := []Line{}
	for _, e := range t.Server.Transcript() {
		if conn == 0 || e.Conn == conn {
			list = append(list, Line(e))
		}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// eventBuffer is how many lines a slow event reader may lag behind before
// the server drops it.
const eventBuffer = 4096

// events streams transcript lines as server-sent events: a comment
// ": subscribed" once the subscription is in place (act only after it),
// then one "line" event per line. A reader that lags too far gets a
// "dropped" event and the stream ends; the server's shutdown or the
// handler's Close ends it with an "end" event.
func (h *Handler) events(w http.ResponseWriter, r *http.Request, t Target) error {
	conn, err := connFilter(r)
	if err != nil {
		return err
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		return &httpError{http.StatusInternalServerError, "this HTTP server cannot stream"}
	}
	sub := t.Server.Subscribe(eventBuffer)
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": subscribed\n\n")
	flusher.Flush()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-h.done:
			fmt.Fprint(w, "event: end\ndata: {}\n\n")
			flusher.Flush()
			return nil
		case e, ok := <-sub.Lines():
			if !ok {
				if sub.Dropped() {
					fmt.Fprintf(w, "event: dropped\ndata: {\"error\": \"this reader fell %d lines behind and was dropped: read faster or filter with ?conn=N\"}\n\n", eventBuffer)
				} else {
					fmt.Fprint(w, "event: end\ndata: {}\n\n")
				}
				flusher.Flush()
				return nil
			}
			if conn != 0 && e.Conn != conn {
				continue
			}
			fmt.Fprint(w, "event: line\ndata: ")
			// The encoder ends the JSON with the newline that ends data.
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(Line(e))
			fmt.Fprint(w, "\n")
			flusher.Flush()
		}
	}
}
