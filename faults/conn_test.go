package faults

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"
)

// TestConnRefusesWhatItDoesNotAdvertise: a command whose capability the
// client was told is missing (STARTTLS removed) or disabled (LOGIN under
// LOGINDISABLED) is not served as if it were there.
func TestConnRefusesWhatItDoesNotAdvertise(t *testing.T) {
	caps := func(add, remove string) []Fault {
		c := &Capabilities{}
		if add != "" {
			c.Capabilities.Add = []string{add}
		}
		if remove != "" {
			c.Capabilities.Remove = []string{remove}
		}
		return []Fault{{Action: c}}
	}
	tests := []struct {
		name   string
		faults []Fault
		cmd    string
		want   string // the line the client gets; "" when the server sees the command
	}{
		{"STARTTLS removed goes to the server, which has none", caps("", "STARTTLS"), "a STARTTLS", ""},
		{"LOGIN under LOGINDISABLED is refused", caps("LOGINDISABLED", ""), "a LOGIN alice secret", "a NO [CANNOT] LOGIN is disabled on this server"},
		{"AUTHENTICATE under LOGINDISABLED goes on", caps("LOGINDISABLED", ""), "a AUTHENTICATE PLAIN", ""},
		{"LOGIN without LOGINDISABLED goes on", nil, "a LOGIN alice secret", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := NewSet(tt.faults)
			if err != nil {
				t.Fatal(err)
			}
			server, client := net.Pipe()
			defer client.Close()
			c := set.NewConn(server, &ConnOptions{StartTLS: &tls.Config{}})
			defer c.Close()
			client.SetDeadline(time.Now().Add(5 * time.Second))
			c.SetDeadline(time.Now().Add(5 * time.Second))
			lines := make(chan string, 4)
			go func() {
				r := bufio.NewReader(client)
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						close(lines)
						return
					}
					lines <- strings.TrimRight(l, "\r\n")
				}
			}()
			if _, err := c.Write([]byte("* OK IMAP4rev1 ready\r\n")); err != nil {
				t.Fatal(err)
			}
			<-lines
			// The NOOP after the command shows whether the server saw it.
			go client.Write([]byte(tt.cmd + "\r\nb NOOP\r\n"))
			buf := make([]byte, 256)
			n, err := c.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			seen := strings.HasPrefix(string(buf[:n]), tt.cmd)
			if seen != (tt.want == "") {
				t.Errorf("server read %q after %q; want it to see the command: %v", buf[:n], tt.cmd, tt.want == "")
			}
			if tt.want != "" {
				if got := <-lines; got != tt.want {
					t.Errorf("client got %q, want %q", got, tt.want)
				}
			}
		})
	}
}
