// Package control is an HTTP/JSON API over running fake servers, so that
// a test suite in any language can switch the scenario, add a fault for
// the next connection, deliver mail, read what the client did and wait
// for what it sends, the way suites drive Toxiproxy or GreenMail.
//
// The API is described by openapi.json (embedded, served at
// /openapi.json); a test keeps it and the routes in step. Every error is
// a JSON object whose message says what to fix, and a request that fails
// changes nothing.
package control

import (
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/server"
)

// MaxBody bounds a request body: scenarios, faults and messages alike.
const MaxBody = 1 << 20

//go:embed openapi.json
var openAPI []byte

// Target is one server the API drives, under the name requests give in
// ?server=NAME: a fake server, or a proxy in front of a real one. One of
// Server and Proxy is set.
type Target struct {
	Name   string
	Server *server.Server
	Proxy  *Proxy
}

// FaultTarget is what every target offers: live faults for the
// connections accepted from now on, open ones keeping theirs.
// *server.Server offers it, and so does a proxy's *faults.Live.
type FaultTarget interface {
	AddFault(faults.Fault) (faults.LiveFault, error)
	Faults() []faults.LiveFault
	RemoveFault(id int) error
	ClearFaults()
}

// Proxy is a target in front of a real server (imapfault proxy): it has
// live faults and nothing else the API can change; the other endpoints
// answer 409.
type Proxy struct {
	Faults   FaultTarget
	Address  string // where clients connect
	TLS      string // as the upstream's: none, starttls or implicit
	Upstream string // the real server
	Scenario string // the name of the scenario whose faults it plays
}

// faults returns what holds the target's live faults.
func (t Target) faults() FaultTarget {
	if t.Proxy != nil {
		return t.Proxy.Faults
	}
	return t.Server
}

// Options configure the API.
type Options struct {
	// Token, when set, is the bearer token every /api request must carry
	// (Authorization: Bearer TOKEN). /readyz and /openapi.json stay open.
	Token string
	// Logger receives the changes made through the API, at info level.
	Logger *slog.Logger
}

// Handler serves the API.
type Handler struct {
	targets []Target
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	// done ends the event streams at Close, so that an HTTP server's
	// Shutdown need not wait for them.
	done      chan struct{}
	closeOnce sync.Once
}

// Close ends the event streams in progress (with an "end" event); other
// requests are unaffected. Call it before shutting the HTTP server down.
func (h *Handler) Close() {
	h.closeOnce.Do(func() { close(h.done) })
}

// New returns the API over targets; the first is the one a request
// without ?server= drives when there is only one.
func New(targets []Target, opts Options) (*Handler, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("control: no server to drive")
	}
	seen := map[string]bool{}
	for _, t := range targets {
		if t.Name == "" || seen[t.Name] {
			return nil, fmt.Errorf("control: server names must be unique and not empty (got %q twice or empty)", t.Name)
		}
		seen[t.Name] = true
		if (t.Server == nil) == (t.Proxy == nil) || (t.Proxy != nil && t.Proxy.Faults == nil) {
			return nil, fmt.Errorf("control: target %q: give either a server or a proxy with its faults", t.Name)
		}
	}
	h := &Handler{targets: targets, opts: opts, log: opts.Logger, mux: http.NewServeMux(), done: make(chan struct{})}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	for _, r := range h.routes() {
		h.mux.HandleFunc(r.method+" "+r.path, r.handle)
	}
	h.mux.HandleFunc("/", h.notFound)
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.opts.Token != "" && strings.HasPrefix(r.URL.Path, "/api/") && !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="imapfault"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong bearer token: send the header \"Authorization: Bearer TOKEN\" with the token given to --control-token-file")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(tok), []byte(h.opts.Token)) == 1
}

// notFound answers what no route matched: 405 with the allowed methods
// when the path exists, 404 otherwise, both in JSON.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
		return
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no route %s %s: see /openapi.json for the API", r.Method, r.URL.Path))
}

// Listen listens on addr for the API. A non-loopback address is allowed
// (inside a container, loopback is unreachable) but warned about, the
// louder without a token: anyone who reaches it can change the server.
func Listen(addr string, hasToken bool, log *slog.Logger) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("control API: listen on %s: %w", addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() && log != nil {
		if hasToken {
			log.Warn("control API listening beyond this machine", "addr", ln.Addr().String())
		} else {
			log.Warn("control API listening beyond this machine without a token: anyone who reaches it can drive the server (give --control-token-file)", "addr", ln.Addr().String())
		}
	}
	return ln, nil
}

// apiError is the body of every error.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Transcript lines are full of "->" and "<-": keep them readable.
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
