package server

import (
	"testing"

	"github.com/imapfault/imapfault/scenarios"
)

// NewTest starts a server for sc on loopback and stops it when the test
// ends; a failure to start fails the test.
func NewTest(tb testing.TB, sc *scenarios.Scenario) *Server {
	tb.Helper()
	s, err := New(sc, Options{})
	if err != nil {
		tb.Fatalf("server.New(%s): %v", sc.Name, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// NewTestBuiltin is NewTest for a built-in scenario, by name.
func NewTestBuiltin(tb testing.TB, name string) *Server {
	tb.Helper()
	sc, err := scenarios.Builtin(name)
	if err != nil {
		tb.Fatal(err)
	}
	return NewTest(tb, sc)
}
