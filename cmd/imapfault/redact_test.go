package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
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
