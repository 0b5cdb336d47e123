package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// commandTimeout bounds every read and write of a session, so that a
// server that stops answering ends the run instead of hanging it.
const commandTimeout = 10 * time.Second

// LoadOptions shape a load run.
type LoadOptions struct {
	Clients  int           // concurrent clients, each running sessions back to back
	Duration time.Duration // how long to start new sessions
	// Nagle leaves Nagle's algorithm on in the client, as Python's imaplib
	// and many other clients do: the APPEND literal and its final CRLF,
	// written apart, then meet the server's delayed ACK.
	Nagle bool
}

// LoadResult is what a load run measured.
type LoadResult struct {
	Sessions int           // sessions that ran to LOGOUT's OK
	Errors   int           // sessions that failed
	FirstErr error         // the first failure, for the report
	Elapsed  time.Duration // from the first session's start to the last one's end
	Latency  map[string]Latencies
}

// Add merges o, a run against the same server, into r: runs taken in
// turns with another server's even out the machine's slow spells.
func (r *LoadResult) Add(o *LoadResult) {
	r.Sessions += o.Sessions
	r.Errors += o.Errors
	if r.FirstErr == nil {
		r.FirstErr = o.FirstErr
	}
	r.Elapsed += o.Elapsed
	if r.Latency == nil {
		r.Latency = map[string]Latencies{}
	}
	for cmd, l := range o.Latency {
		r.Latency[cmd] = append(r.Latency[cmd], l...)
		r.Latency[cmd].sort()
	}
}

// PerSecond is the completed sessions per second.
func (r *LoadResult) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sessions) / r.Elapsed.Seconds()
}

// Load runs o.Clients clients against t, each running login → select →
// fetch → store → append → expunge → logout sessions back to back for
// o.Duration. It stops early, with ctx's error, when ctx ends.
func Load(ctx context.Context, t Target, o LoadOptions) (*LoadResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type worker struct {
		sessions, errors int
		firstErr         error
		lat              map[string]Latencies
	}
	workers := make([]worker, o.Clients)
	start := time.Now()
	deadline := start.Add(o.Duration)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		w.lat = map[string]Latencies{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				err := Session(ctx, t, o.Nagle, func(cmd string, d time.Duration) { w.lat[cmd] = append(w.lat[cmd], d) })
				if err != nil {
					w.errors++
					if w.firstErr == nil {
						w.firstErr = err
					}
					continue
				}
				w.sessions++
			}
		}()
	}
	wg.Wait()
	r := &LoadResult{Elapsed: time.Since(start), Latency: map[string]Latencies{}}
	for _, w := range workers {
		r.Sessions += w.sessions
		r.Errors += w.errors
		if r.FirstErr == nil {
			r.FirstErr = w.firstErr
		}
		for cmd, l := range w.lat {
			r.Latency[cmd] = append(r.Latency[cmd], l...)
		}
	}
	for _, l := range r.Latency {
		l.sort()
	}
	return r, ctx.Err()
}

// appendMessage is the message each session appends (flagged \Deleted, so
// that its EXPUNGE keeps the mailbox at its seeded size).
var appendMessage = []byte("From: Load Generator <load@example.com>\r\n" +
	"To: Alice Example <alice@example.com>\r\n" +
	"Subject: benchmark\r\n" +
	"Date: Mon, 02 Nov 2026 12:00:00 +0000\r\n" +
	"Message-ID: <bench@example.com>\r\n" +
	"\r\n" +
	strings.Repeat("A line of body text, long enough to look like mail.\r\n", 30))

// Session runs one load session against t and reports each step's
// duration to rec.
func Session(ctx context.Context, t Target, nagle bool, rec func(cmd string, d time.Duration)) error {
	start := time.Now()
	c, err := dial(ctx, t.Addr, "")
	if err != nil {
		return err
	}
	defer c.close()
	stop := context.AfterFunc(ctx, c.close)
	defer stop()
	if nagle {
		if err := c.conn.(*net.TCPConn).SetNoDelay(false); err != nil {
			return err
		}
	}
	if err := c.greeting(); err != nil {
		return err
	}
	rec("connect", time.Since(start))
	steps := []struct{ name, cmd string }{
		{"login", "LOGIN " + quote(t.User) + " " + quote(t.Password)},
		{"select", "SELECT INBOX"},
		{"fetch", "FETCH 1 (UID FLAGS BODY.PEEK[])"},
		{"store", `STORE 1 +FLAGS (\Flagged)`},
		{"append", ""},
		{"expunge", "EXPUNGE"},
		{"logout", "LOGOUT"},
	}
	for i, st := range steps {
		tag := "a" + strconv.Itoa(i+1)
		t0 := time.Now()
		if st.name == "append" {
			err = c.append(tag, appendMessage)
		} else {
			err = c.command(tag, st.cmd)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		rec(st.name, time.Since(t0))
	}
	return nil
}

// conn is one client connection with a bounded reader.
type conn struct {
	conn net.Conn
	r    *bufio.Reader
	// max bounds one response (0: 1 MiB); read counts the bytes read.
	max, read int
	// wait bounds each read (0: commandTimeout).
	wait time.Duration
}

// dial connects to addr, from the loopback address src when given.
func dial(ctx context.Context, addr, src string) (*conn, error) {
	d := net.Dialer{Timeout: commandTimeout}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &conn{conn: c, r: bufio.NewReaderSize(c, 4096)}, nil
}

func (c *conn) close() { c.conn.Close() }

func (c *conn) greeting() error {
	line, err := c.response()
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") {
		return fmt.Errorf("greeting: %q", line)
	}
	return nil
}

func (c *conn) write(b []byte) error {
	c.conn.SetWriteDeadline(time.Now().Add(commandTimeout))
	_, err := c.conn.Write(b)
	return err
}

// command sends one command and waits for its tagged OK.
func (c *conn) command(tag, cmd string) error {
	if err := c.write([]byte(tag + " " + cmd + "\r\n")); err != nil {
		return err
	}
	return c.tagged(tag)
}

// append sends APPEND with a synchronising literal the way most clients
// do: the command, then after "+" the literal and the final CRLF in two
// writes.
func (c *conn) append(tag string, msg []byte) error {
	if err := c.write([]byte(fmt.Sprintf("%s APPEND INBOX (\\Deleted) {%d}\r\n", tag, len(msg)))); err != nil {
		return err
	}
	for {
		line, err := c.response()
		if err != nil {
			return err
		}
		if strings.HasPrefix(line, "+") {
			break
		}
		if strings.HasPrefix(line, tag+" ") {
			return fmt.Errorf("no continuation: %q", line)
		}
	}
	if err := c.write(msg); err != nil {
		return err
	}
	if err := c.write([]byte("\r\n")); err != nil {
		return err
	}
	return c.tagged(tag)
}

// tagged reads responses up to the one tagged tag and wants it OK.
func (c *conn) tagged(tag string) error {
	for {
		line, err := c.response()
		if err != nil {
			return err
		}
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				return fmt.Errorf("%q", line)
			}
			return nil
		}
	}
}

// errLong bounds a response, so that a broken server cannot make the
// client buffer without limit.
var errLong = errors.New("response longer than its bound")

// response reads one response, its literals included, and returns its
// first line.
func (c *conn) response() (string, error) {
	wait := c.wait
	if wait == 0 {
		wait = commandTimeout
	}
	c.conn.SetReadDeadline(time.Now().Add(wait))
	first := ""
	total := 0
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if first == "" {
			first = line
		}
		total += len(line)
		c.read += len(line)
		n, ok := literal(line)
		if !ok {
			return strings.TrimRight(first, "\r\n"), nil
		}
		limit := c.max
		if limit == 0 {
			limit = 1 << 20
		}
		if total += n; total > limit {
			return "", errLong
		}
		if _, err := c.r.Discard(n); err != nil {
			return "", err
		}
		c.read += n
	}
}

// literal reports the size of the literal a line announces at its end.
func literal(line string) (int, bool) {
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasSuffix(line, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(line[i+1:len(line)-1], "+"))
	return n, err == nil && n >= 0
}

// quoteEscapes escapes the two characters a quoted string cannot hold
// bare; built once, as building a Replacer costs more than using it.
var quoteEscapes = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// quote makes s an IMAP quoted string.
func quote(s string) string {
	return `"` + quoteEscapes.Replace(s) + `"`
}
