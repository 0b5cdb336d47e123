package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/imapfault/imapfault/control"
	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
)

// listFlag is a flag that may be given more than once.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// servePlan is what serve's flags ask for, checked before anything
// starts.
type servePlan struct {
	scenarios   []*scenarios.Scenario
	names       []string // unique: the control API's ?server=NAME
	listens     []string
	controlAddr string
	token       string
}

func planServe(names, listens []string, tlsMode, controlAddr, tokenFile string) (*servePlan, error) {
	if len(names) == 0 {
		names = []string{"healthy"}
	}
	p := &servePlan{controlAddr: controlAddr}
	switch {
	case len(listens) == 0:
		listens = []string{"127.0.0.1:0"}
		fallthrough
	case len(listens) == 1 && len(names) > 1:
		if _, port, err := net.SplitHostPort(listens[0]); err != nil || port != "0" {
			return nil, fmt.Errorf("--listen %s serves one scenario: with %d --scenario flags give one --listen each, or one with port 0", listens[0], len(names))
		}
		for range names {
			p.listens = append(p.listens, listens[0])
		}
	case len(listens) == len(names):
		p.listens = listens
	default:
		return nil, fmt.Errorf("%d --listen flags for %d --scenario flags: give one each, or one with port 0 for all", len(listens), len(names))
	}
	seen := map[string]int{}
	for _, n := range names {
		sc, err := scenarios.Load(n)
		if err != nil {
			return nil, err
		}
		if tlsMode != "" {
			if err := overrideTLS(sc, tlsMode); err != nil {
				return nil, err
			}
		}
		// Two servers of one scenario are told apart by a number.
		seen[sc.Name]++
		name := sc.Name
		if seen[sc.Name] > 1 {
			name = fmt.Sprintf("%s-%d", sc.Name, seen[sc.Name])
		}
		p.scenarios = append(p.scenarios, sc)
		p.names = append(p.names, name)
	}
	var err error
	if p.token, err = readControlToken(controlAddr, tokenFile); err != nil {
		return nil, err
	}
	return p, nil
}

// overrideTLS replaces a scenario's transport. The defaults that follow
// from it (plaintext_auth, the tester's tls) are computed again.
func overrideTLS(sc *scenarios.Scenario, mode string) error {
	switch mode {
	case scenarios.TLSNone, scenarios.TLSStartTLS, scenarios.TLSImplicit:
	default:
		return fmt.Errorf("--tls %q: use none, starttls or implicit", mode)
	}
	sc.Server.TLS = mode
	sc.Server.PlaintextAuth = nil
	sc.Client.TLS = ""
	return sc.Validate()
}

// readControlToken reads --control-token-file: "" without one.
func readControlToken(controlAddr, tokenFile string) (string, error) {
	if tokenFile == "" {
		return "", nil
	}
	if controlAddr == "" {
		return "", fmt.Errorf("--control-token-file needs --control ADDR")
	}
	data, err := os.ReadFile(tokenFile)
	if err != nil {
		return "", fmt.Errorf("--control-token-file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("--control-token-file %s is empty: put the token in it", tokenFile)
	}
	return token, nil
}

// serverTargets names serve's servers for the control API.
func serverTargets(names []string, servers []*server.Server) []control.Target {
	targets := make([]control.Target, len(servers))
	for i, srv := range servers {
		targets[i] = control.Target{Name: names[i], Server: srv}
	}
	return targets
}

// startControl serves the control API over targets on addr until stop.
func startControl(addr, token string, targets []control.Target, logger *slog.Logger) (stop func(), url string, err error) {
	h, err := control.New(targets, control.Options{Token: token, Logger: logger})
	if err != nil {
		return nil, "", err
	}
	ln, err := control.Listen(addr, token != "", logger)
	if err != nil {
		return nil, "", err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("control API", "err", err)
		}
	}()
	stop = func() {
		// End the event streams first: Shutdown waits for handlers.
		h.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if hs.Shutdown(ctx) != nil {
			hs.Close()
		}
		<-done
	}
	return stop, "http://" + ln.Addr().String(), nil
}

// readyLine is serve's machine-readable announcement: what a harness
// needs to connect, without scraping text. Address, TLS, scenario and
// users repeat the first server's for the common one-scenario case.
type readyLine struct {
	Address  string         `json:"address"`
	TLS      string         `json:"tls"`
	Scenario string         `json:"scenario"`
	Users    []control.User `json:"users"`
	CAFile   string         `json:"ca_file"`
	Control  string         `json:"control,omitempty"`
	Servers  []readyServer  `json:"servers"`
}

type readyServer struct {
	Name     string         `json:"name"`
	Address  string         `json:"address"`
	TLS      string         `json:"tls"`
	Scenario string         `json:"scenario"`
	Users    []control.User `json:"users"`
}

func (r *readyLine) fillFirst() {
	first := r.Servers[0]
	r.Address, r.TLS, r.Scenario, r.Users = first.Address, first.TLS, first.Scenario, first.Users
}

func usersOf(sc *scenarios.Scenario) []control.User { return control.ScenarioUsers(sc) }

// announce prints the JSON ready line when asked, and writes it to the
// ready file, whole or not at all (a harness polls for it).
func announce(e *env, r any, jsonOut bool, readyFile string) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if readyFile != "" {
		tmp, err := os.CreateTemp(filepath.Dir(readyFile), ".ready-*")
		if err != nil {
			return fmt.Errorf("--ready-file: %w", err)
		}
		_, werr := tmp.Write(append(data, '\n'))
		cerr := tmp.Close()
		if err := errors.Join(werr, cerr); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("--ready-file: %w", err)
		}
		if err := os.Rename(tmp.Name(), readyFile); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("--ready-file: %w", err)
		}
	}
	if jsonOut {
		fmt.Fprintln(e.stdout, string(data))
	}
	return nil
}
