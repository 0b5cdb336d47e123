package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imapfault/imapfault/faults"
)

// TestWaitTranscript: WaitTranscript returns an entry already recorded, one
// recorded while it waits, and ctx's error when none comes.
func TestWaitTranscript(t *testing.T) {
	srv := &Server{transcript: newTranscript(nil)}
	rec := func(conn int, text string) {
		srv.transcript.record(faults.TapEvent{Conn: conn, Time: time.Now(), Dir: faults.DirInfo, Data: []byte(text)})
	}
	is := func(text string) func(Entry) bool { return func(e Entry) bool { return e.Text == text } }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	rec(1, "already there")
	if e, err := srv.WaitTranscript(ctx, is("already there")); err != nil || e.Conn != 1 {
		t.Fatalf("WaitTranscript(recorded) = %v, %v", e, err)
	}

	got := make(chan Entry)
	go func() {
		e, _ := srv.WaitTranscript(ctx, is("later"))
		got <- e
	}()
	// Entries that do not match wake the waiter without ending its wait.
	rec(2, "not this")
	rec(3, "later")
	if e := <-got; e.Conn != 3 {
		t.Fatalf("WaitTranscript(later) = %v", e)
	}

	short, stop := context.WithCancel(ctx)
	stop()
	if _, err := srv.WaitTranscript(short, is("never")); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitTranscript(never) = %v, want context.Canceled", err)
	}
}
