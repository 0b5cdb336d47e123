package main

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
	"github.com/imapfault/imapfault/status"
)

// TestCheckOutputsHideSecrets runs check against the fake server with
// every mechanism, accepted and refused, in every output format, and
// looks for the password or token in any form on stdout and stderr and in
// the HTML page and JUnit file it writes.
func TestCheckOutputsHideSecrets(t *testing.T) {
	sc, err := scenarios.Builtin("healthy")
	if err != nil {
		t.Fatal(err)
	}
	// Without IDLE the walk does not hold it for a second.
	noIdle := &faults.Capabilities{}
	noIdle.Capabilities.Remove = []string{"IDLE"}
	sc.Faults = append(sc.Faults, faults.Fault{Action: noIdle})
	srv := server.NewTest(t, sc)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.Certs().CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	alice := sc.Users[0]
	b64 := base64.StdEncoding.EncodeToString
	for _, auth := range []string{"login", "plain", "xoauth2", "oauthbearer"} {
		for _, good := range []bool{true, false} {
			secret := alice.Password
			environ := "IMAPFAULT_PASSWORD"
			if strings.Contains(auth, "oauth") {
				secret, environ = alice.Tokens[0], "IMAPFAULT_TOKEN"
			}
			if !good {
				secret = "wr0ng-" + secret
			}
			forms := []string{
				secret, b64([]byte(secret)),
				b64([]byte("\x00alice\x00" + secret)),
				b64([]byte("user=alice\x01auth=Bearer " + secret + "\x01\x01")),
			}
			for _, format := range []string{"", "-v", "--json", "--nagios", "--html", "--junit"} {
				t.Run(fmt.Sprintf("%s %v %s", auth, good, format), func(t *testing.T) {
					t.Parallel()
					args := []string{"check", "--user", "alice", "--auth", auth, "--ca-file", ca, "--server-name", "localhost", "--timeout", "2s"}
					file := filepath.Join(t.TempDir(), "out")
					switch format {
					case "":
					case "--html", "--junit":
						args = append(args, format, file)
					default:
						args = append(args, format)
					}
					r := runCmd(t, map[string]string{environ: secret}, append(args, srv.Addr())...)
					out := r.stdout + r.stderr
					if format == "--html" || format == "--junit" {
						b, err := os.ReadFile(file)
						if err != nil || len(b) == 0 {
							t.Fatalf("check %s wrote nothing: %v", format, err)
						}
						out += string(b)
					}
					if r.code == exitUsage || out == "" {
						t.Errorf("check = %d, %q", r.code, out)
					}
					for _, form := range forms {
						if strings.Contains(out, form) {
							t.Errorf("output holds %q:\n%s", form, out)
						}
					}
				})
			}
		}
	}
}

// TestReportOutputsHideSecrets records checks with every mechanism,
// accepted and refused (the refusals make incidents, whose evidence the
// report shows), transcripts kept, and looks for the secret in any form
// in the audit report's HTML, JSON and CSV.
func TestReportOutputsHideSecrets(t *testing.T) {
	sc, err := scenarios.Builtin("healthy")
	if err != nil {
		t.Fatal(err)
	}
	noIdle := &faults.Capabilities{}
	noIdle.Capabilities.Remove = []string{"IDLE"}
	sc.Faults = append(sc.Faults, faults.Fault{Action: noIdle})
	srv := server.NewTest(t, sc)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(srv.Certs().CAPEM())
	alice := sc.Users[0]
	b64 := base64.StdEncoding.EncodeToString
	var results []history.Result
	var forms []string
	for _, auth := range []string{client.AuthLogin, client.AuthPlain, client.AuthXOAuth2, client.AuthOAuthBearer} {
		for _, good := range []bool{true, false} {
			o := client.Options{Addr: srv.Addr(), User: "alice", Auth: auth, RootCAs: pool, ServerName: "localhost",
				StepTimeout: 2 * time.Second, Password: alice.Password}
			secret := &o.Password
			if strings.Contains(auth, "oauth") {
				o.Password, o.Token = "", alice.Tokens[0]
				secret = &o.Token
			}
			if !good {
				*secret = "wr0ng-" + *secret
			}
			forms = append(forms, *secret, b64([]byte(*secret)), b64([]byte("\x00alice\x00"+*secret)),
				b64([]byte("user=alice\x01auth=Bearer "+*secret+"\x01\x01")))
			rep, err := client.Check(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() != good {
				t.Fatalf("%s good=%v: check = %s", auth, good, rep.Diagnosis.Code)
			}
			r := history.FromReport(auth, time.Minute, status.Of(rep), rep, true)
			r.Time = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(len(results)) * time.Minute)
			results = append(results, r)
		}
	}
	db := writeHistory(t, results)
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "r.html"), filepath.Join(dir, "r.json"), filepath.Join(dir, "r.csv")}
	r := runCmd(t, nil, "report", "--history", db, "--since", "2026-10-01", "--until", "2026-10-01",
		"--html", files[0], "--json", files[1], "--csv", files[2])
	out := r.stdout + r.stderr
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out += string(b)
	}
	if r.code != exitOK || !strings.Contains(out, "auth.failed") {
		t.Fatalf("report = %d; want the refusals as incidents:\n%.2000s", r.code, out)
	}
	for _, form := range forms {
		if strings.Contains(out, form) {
			t.Errorf("report output holds %q", form)
		}
	}
}
