//go:build interop

package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapfault/imapfault/server"
)

// imapflowArgs is the JSON argument of interop/node/client.mjs.
func imapflowArgs(t *testing.T, f *fake, full, idle bool) string {
	t.Helper()
	port, _ := strconv.Atoi(f.port())
	b, err := json.Marshal(map[string]any{
		"host": "127.0.0.1", "port": port, "tls": f.sc.Server.TLS, "ca": f.ca,
		"user": f.user(), "pass": f.password(),
		"timeout": clientTimeout.Milliseconds(), "full": full, "idle": idle,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// needImapflow returns node and the client script, or skips.
func needImapflow(t *testing.T) (node, script string) {
	t.Helper()
	node = need(t, "imapflow", "node", "apt-get install nodejs npm, then npm install --prefix interop/node")
	if _, err := os.Stat(filepath.Join("node", "node_modules", "imapflow")); err != nil {
		skipMissing(t, "imapflow", "imapflow is not installed: npm install --prefix interop/node (or run make interop as root)")
	}
	return node, filepath.Join("node", "client.mjs")
}

func TestImapflow(t *testing.T) {
	node, script := needImapflow(t)

	// full runs imapflow's whole session; without IDLE (idle false) it
	// stops before the push.
	full := func(t *testing.T, f *fake, idle bool) {
		want := "login list select fetch flags-add flags-remove append expunge idle pushed logout"
		if !idle {
			want = "login list select fetch flags-add flags-remove append expunge logout"
		}
		res := record(t, "imapflow", f, strings.ReplaceAll(want, " ", ", "))
		ctx, cancel := context.WithTimeout(context.Background(), runLimit)
		defer cancel()
		cmd := command(ctx, nil, node, script, imapflowArgs(t, f, true, idle))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// On a failure before Wait below, kill and reap imapflow; after
		// it, this second Wait returns at once.
		defer func() {
			cancel()
			_ = cmd.Wait()
		}()
		var steps []string
		var pushed struct{ Subject string }
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			var st struct{ Step string }
			if err := json.Unmarshal(lines.Bytes(), &st); err != nil {
				t.Fatalf("imapflow printed %q: %v", lines.Text(), err)
			}
			steps = append(steps, st.Step)
			switch st.Step {
			case "idle":
				// Deliver once the server has accepted IDLE, so that
				// the message can only reach imapflow as a push.
				waitIdling(t, f)
				if _, err := f.Deliver(f.user(), "INBOX", []byte("From: Bob <bob@example.com>\r\nTo: alice@localhost\r\nSubject: pushed during IDLE\r\n\r\nHello.\r\n")); err != nil {
					t.Fatal(err)
				}
			case "pushed":
				json.Unmarshal(lines.Bytes(), &pushed)
			}
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("imapflow: %v after steps %v; stderr:\n%s", err, steps, stderr.String())
		}
		if got := strings.Join(steps, " "); got != want || (idle && pushed.Subject != "pushed during IDLE") {
			t.Fatalf("imapflow steps = %s, pushed subject %q; want %s and the delivered message", got, pushed.Subject, want)
		}
		res.got = strings.Join(steps, ", ")
	}
	t.Run("healthy", func(t *testing.T) {
		for _, transport := range []string{plaintext, starttls, implicit} {
			t.Run(transport, func(t *testing.T) {
				t.Parallel()
				full(t, startFake(t, "healthy", transport), true)
			})
		}
	})
	t.Run("flavours", func(t *testing.T) {
		for _, fl := range flavours {
			t.Run(fl.name, func(t *testing.T) {
				t.Parallel()
				full(t, startFlavour(t, fl.name, fl.transport), fl.idle)
			})
		}
	})

	// imapflow rejects with an Error whose fields the script prints as
	// JSON: Node's TLS error codes, imapflow's own codes, and the
	// server's response code.
	for _, tc := range []struct {
		scenario string
		want     string
	}{
		{"login-rejected", `"serverResponseCode":"AUTHENTICATIONFAILED","responseText":"Invalid credentials","authenticationFailed":true`},
		{"wrong-password", `"serverResponseCode":"AUTHENTICATIONFAILED","responseText":"Authentication failed","authenticationFailed":true`},
		{"auth-expired", `"serverResponseCode":"EXPIRED","responseText":"Password expired","authenticationFailed":true`},
		{"expired-cert", `"code":"CERT_HAS_EXPIRED"`},
		{"self-signed-cert", `"code":"DEPTH_ZERO_SELF_SIGNED_CERT"`},
		{"wrong-host-cert", `"code":"ERR_TLS_CERT_ALTNAME_INVALID"`},
		{"no-starttls", `"message":"Server does not support STARTTLS"`},
		{"bye-greeting", `"code":"ClosedAfterConnectText"`},
		{"silent-server", `"message":"Socket timeout","code":"ETIMEOUT"`},
		{"dropped-socket", `"message":"Connection not available","code":"NoConnection"`},
		{"truncated-literal", `"message":"Connection not available","code":"NoConnection"`},
		{"select-nonexistent", `"serverResponseCode":"NONEXISTENT","responseText":"Mailbox does not exist"`},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			f := startFake(t, tc.scenario, "")
			expectFailure(t, "imapflow", f, failure{1, tc.want}, func() ran { return run(t, nil, node, script, imapflowArgs(t, f, false, false)) })
		})
	}
}

// waitIdling waits until the server has answered an IDLE with "+" (go-imap
// says "+ idling", and "+" alone to literals and SASL).
func waitIdling(t *testing.T, f *fake) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := f.WaitTranscript(ctx, func(e server.Entry) bool { return e.Dir == "->" && e.Text == "+ idling" }); err != nil {
		t.Fatal("the server never answered IDLE with a continuation")
	}
}
