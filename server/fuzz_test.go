package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// FuzzSession feeds arbitrary client bytes to a running server after the
// greeting, then closes the client's side. Whatever the bytes (commands,
// an IDLE, an AUTHENTICATE exchange, an APPEND literal, garbage), the
// server must not panic, must end the session within a bound once the
// client is gone, and must go on serving the next client.
func FuzzSession(f *testing.F) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	login := "a LOGIN alice pw\r\n"
	for _, s := range []string{
		"a CAPABILITY\r\nb NOOP\r\nc LOGOUT\r\n",
		login + "b LIST \"\" \"*\"\r\nc SELECT INBOX\r\nd FETCH 1:* (FLAGS ENVELOPE BODY.PEEK[])\r\n",
		login + "b SELECT INBOX\r\nc IDLE\r\nDONE\r\nd IDLE\r\nxx\r\n",
		login + "b SELECT INBOX\r\nc UID STORE 1 +FLAGS.SILENT (\\Seen)\r\nd UID SEARCH ALL\r\ne EXPUNGE\r\n",
		login + "b APPEND INBOX (\\Seen) {12}\r\nSubject: x\r\n\r\n",
		login + "b APPEND INBOX {20+}\r\nSubject: y\r\n\r\nbody\r\n\r\n",
		login + "b APPEND INBOX {99999999}\r\n",
		"a AUTHENTICATE PLAIN\r\n" + b64("\x00alice\x00pw") + "\r\n",
		"a AUTHENTICATE PLAIN " + b64("\x00alice\x00pw") + "\r\n",
		"a AUTHENTICATE XOAUTH2 " + b64("user=alice\x01auth=Bearer tok\x01\x01") + "\r\n",
		"a AUTHENTICATE OAUTHBEARER " + b64("n,a=alice,\x01auth=Bearer bad\x01\x01") + "\r\n\r\n",
		"a AUTHENTICATE PLAIN\r\n*\r\n",
		"a LOGIN {5}\r\nalice {2}\r\npw\r\n",
		"a LOGIN alice {5000+}\r\n" + strings.Repeat("b NOOP\r\n", 10),
		login + "b CREATE x\r\nc RENAME x y\r\nd DELETE y\r\ne STATUS INBOX (MESSAGES UIDNEXT)\r\n",
		login + "b SELECT INBOX\r\nc COPY 1 INBOX\r\nd MOVE 1:* INBOX\r\ne UID FETCH 1:* (BODY[HEADER.FIELDS (SUBJECT)])\r\n",
		"\x00\xff\r\n",
		"a STARTTLS\r\n",
	} {
		f.Add([]byte(s))
	}
	sc := plainScenario(f, "")
	sc.Users[0].Tokens = []string{"tok"}
	sc.Server.AuthMechanisms = []string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}
	logs := &panicLog{}
	srv, err := New(sc, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	f.Fuzz(func(t *testing.T, in []byte) {
		if err := fuzzSession(srv.Addr(), in); err != nil {
			t.Fatal(err)
		}
		if p := logs.panicked(); p != "" {
			t.Fatalf("the server panicked: %s", p)
		}
		// The server still greets the next client.
		if err := fuzzSession(srv.Addr(), []byte("z LOGOUT\r\n")); err != nil {
			t.Fatalf("next client: %v", err)
		}
	})
}

// fuzzSession sends in after the greeting, closes the write side and reads
// until the server closes, with a bound of two seconds.
func fuzzSession(addr string, in []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	greeting := make([]byte, 1)
	if _, err := io.ReadFull(conn, greeting); err != nil {
		return fmt.Errorf("no greeting: %w", err)
	}
	// Write while reading, so that a server answering a long input does
	// not block on a full socket.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn.Write(in)
		conn.(*net.TCPConn).CloseWrite()
	}()
	_, err = io.Copy(io.Discard, conn)
	wg.Wait()
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return fmt.Errorf("the session did not end after the client's EOF: %w", err)
	}
	return nil
}

// panicLog keeps the first panic go-imap reports (it recovers them and
// closes the connection, which a client alone cannot tell from a drop).
type panicLog struct {
	mu    sync.Mutex
	first string
}

func (l *panicLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first == "" && bytes.Contains(p, []byte("panic")) {
		l.first = string(p)
	}
	return len(p), nil
}

func (l *panicLog) panicked() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first
}
