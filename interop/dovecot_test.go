//go:build interop

package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imapfault/imapfault/client"
)

const (
	testUser     = "alice"
	testPassword = "correct horse battery"
	stepTimeout  = 5 * time.Second
)

// dovecot is one dovecot instance on loopback.
type dovecot struct {
	plain, tls string         // host:port of the IMAP and IMAPS listeners
	roots      *x509.CertPool // trusts the instance's certificate
}

// dovecotOpts vary the throwaway configuration.
type dovecotOpts struct {
	selfSigned       bool // a self-signed certificate instead of one from a test CA
	disablePlaintext bool // disable_plaintext_auth = yes: LOGINDISABLED without TLS
}

func startDovecot(t *testing.T, o dovecotOpts) *dovecot {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		t.Skip("dovecot is not installed: apt-get install dovecot-imapd (or run make interop as root)")
	}
	if os.Geteuid() != 0 {
		t.Skip("running dovecot from a throwaway configuration needs root")
	}
	mailUser, err := user.Lookup("dovecot")
	if err != nil {
		t.Skipf("no dovecot system user: %v", err)
	}
	dir := t.TempDir()
	// The mail processes run as the dovecot user and must reach the home.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	uid, _ := strconv.Atoi(mailUser.Uid)
	gid, _ := strconv.Atoi(mailUser.Gid)

	d := &dovecot{plain: freeAddr(t), tls: freeAddr(t), roots: x509.NewCertPool()}
	certPEM, keyPEM := makeCert(t, o.selfSigned, d.roots)
	write(t, filepath.Join(dir, "cert.pem"), certPEM, 0o644)
	write(t, filepath.Join(dir, "key.pem"), keyPEM, 0o600)
	write(t, filepath.Join(dir, "passwd"), []byte(testUser+":{PLAIN}"+testPassword+"::::::\n"), 0o644)

	home := filepath.Join(dir, "home", testUser)
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(home, "Maildir", sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	msg := "From: Bob Example <bob@example.com>\r\nTo: alice@localhost\r\nSubject: interop hello\r\n" +
		"Date: " + time.Now().Add(-2*time.Hour).Format(time.RFC1123Z) + "\r\nMessage-ID: <interop-1@example.com>\r\n\r\nHello Alice.\r\n"
	write(t, filepath.Join(home, "Maildir", "new", "1.eml"), []byte(msg), 0o600)
	if err := filepath.Walk(filepath.Join(dir, "home"), func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	}); err != nil {
		t.Fatal(err)
	}

	conf := filepath.Join(dir, "dovecot.conf")
	write(t, conf, []byte(config(dir, d, uid, gid, o)), 0o644)

	var out bytes.Buffer
	cmd := exec.Command(bin, "-F", "-c", conf)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dovecot: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			logs, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Logf("dovecot output:\n%s\ndovecot.log:\n%s", out.String(), logs)
		}
	})
	if err := waitGreeting(d.plain, 10*time.Second, done); err != nil {
		logs, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
		t.Fatalf("dovecot did not come up: %v\n%s\n%s", err, out.String(), logs)
	}
	return d
}

func config(dir string, d *dovecot, uid, gid int, o dovecotOpts) string {
	_, plainPort, _ := net.SplitHostPort(d.plain)
	_, tlsPort, _ := net.SplitHostPort(d.tls)
	return fmt.Sprintf(`protocols = imap
listen = %[7]s
first_valid_uid = %[3]d
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = %[2]s
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[3]d gid=%[4]d home=%[1]s/home/%%u
}
service imap-login {
  inet_listener imap {
    port = %[5]s
  }
  inet_listener imaps {
    port = %[6]s
    ssl = yes
  }
}
`, dir, yesNo(o.disablePlaintext), uid, gid, plainPort, tlsPort, listenIP)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// waitGreeting polls addr until it greets, dovecot exits, or the time is up.
func waitGreeting(addr string, limit time.Duration, exited <-chan error) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("dovecot exited: %v", err)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err == nil && strings.HasPrefix(line, "* OK") {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no greeting on %s within %s", addr, limit)
}

// listenIP is where dovecot listens. Dovecot treats a connection whose
// two ends share an address as secure and would never advertise
// LOGINDISABLED; the client connects from 127.0.0.1 (Linux picks it as the
// source for all of 127.0.0.0/8), so the ends differ.
const listenIP = "127.0.0.2"

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", listenIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func write(t *testing.T, path string, b []byte, mode os.FileMode) {
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
}

// makeCert makes a certificate for localhost and 127.0.0.1, issued by a
// test CA that roots trusts, or self-signed (and then not in roots).
func makeCert(t *testing.T, selfSigned bool, roots *x509.CertPool) (certPEM, keyPEM []byte) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	tmpl := func(cn string) *x509.Certificate {
		serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
		return &x509.Certificate{
			SerialNumber: serial,
			Subject:      pkix.Name{CommonName: cn, Organization: []string{"imapfault interop"}},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(90 * 24 * time.Hour),
		}
	}
	leafKey := newKey()
	leaf := tmpl("localhost")
	leaf.DNSNames = []string{"localhost"}
	leaf.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.ParseIP(listenIP)}
	leaf.KeyUsage = x509.KeyUsageDigitalSignature
	leaf.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	parent, signer := leaf, leafKey
	if !selfSigned {
		caKey := newKey()
		ca := tmpl("imapfault interop CA")
		ca.IsCA, ca.BasicConstraintsValid, ca.MaxPathLenZero = true, true, true
		ca.KeyUsage = x509.KeyUsageCertSign
		der, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		caCert, _ := x509.ParseCertificate(der)
		roots.AddCert(caCert)
		parent, signer = caCert, caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, parent, &leafKey.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// check runs the tester and compares the diagnosis.
func check(t *testing.T, o client.Options, code, phase string) *client.Report {
	t.Helper()
	if o.StepTimeout == 0 {
		o.StepTimeout = stepTimeout
	}
	if o.ServerName == "" {
		o.ServerName = "localhost"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := client.Check(ctx, o)
	if err != nil {
		t.Fatalf("Check() error = %v", err)
	}
	if rep.Diagnosis.Code != code || rep.Diagnosis.Phase != phase {
		var b strings.Builder
		for _, e := range rep.Transcript {
			fmt.Fprintf(&b, "  %s %s\n", e.Dir, e.Text)
		}
		t.Errorf("diagnosis = %s in %s (%s), want %s in %s\n%s", rep.Diagnosis.Code, rep.Diagnosis.Phase, rep.Diagnosis.Evidence, code, phase, b.String())
	}
	return rep
}

func warnings(rep *client.Report) []string {
	var out []string
	for _, w := range rep.Warnings {
		out = append(out, w.Code)
	}
	return out
}

func TestDovecot(t *testing.T) {
	d := startDovecot(t, dovecotOpts{})
	login := func(addr string, mode client.TLSMode) client.Options {
		return client.Options{Addr: addr, TLS: mode, RootCAs: d.roots, User: testUser, Password: testPassword}
	}

	t.Run("healthy plaintext", func(t *testing.T) {
		rep := check(t, login(d.plain, client.TLSNone), client.CodeOK, "logout")
		if got := warnings(rep); len(got) != 1 || got[0] != client.CodeSecurityPlaintextLogin {
			t.Errorf("warnings = %v, want [%s]", got, client.CodeSecurityPlaintextLogin)
		}
		if len(rep.Newest) == 0 || rep.Newest[0].Subject != "interop hello" {
			t.Errorf("newest = %+v, want the delivered message", rep.Newest)
		}
	})
	t.Run("healthy starttls", func(t *testing.T) {
		rep := check(t, login(d.plain, client.TLSStartTLS), client.CodeOK, "logout")
		if rep.TLS == nil || !rep.TLS.Verified || len(rep.Warnings) != 0 {
			t.Errorf("TLS = %+v, warnings %v; want a verified session without warnings", rep.TLS, warnings(rep))
		}
	})
	t.Run("healthy implicit TLS", func(t *testing.T) {
		check(t, login(d.tls, client.TLSImplicit), client.CodeOK, "logout")
	})
	t.Run("idle", func(t *testing.T) {
		rep := check(t, login(d.tls, client.TLSImplicit), client.CodeOK, "logout")
		for _, st := range rep.Steps {
			if st.Phase == "idle" && (!st.OK || !strings.Contains(st.Detail, "DONE acknowledged")) {
				t.Errorf("idle step = %+v, want it acknowledged", st)
			}
		}
	})
	t.Run("write round-trip", func(t *testing.T) {
		o := login(d.tls, client.TLSImplicit)
		o.Write = true
		rep := check(t, o, client.CodeOK, "logout")
		if rep.FlagLatency <= 0 {
			t.Errorf("FlagLatency = %v, want the time the flag took to show", rep.FlagLatency)
		}
		var phases []string
		for _, st := range rep.Steps {
			phases = append(phases, st.Phase)
		}
		if got := strings.Join(phases, " "); !strings.Contains(got, "append flags delete") {
			t.Errorf("phases = %s, want append, flags and delete", got)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		o := login(d.tls, client.TLSImplicit)
		o.Password = "wrong"
		check(t, o, client.CodeAuthFailed, "auth")
	})
	t.Run("missing mailbox", func(t *testing.T) {
		o := login(d.tls, client.TLSImplicit)
		o.Mailbox = "Does/Not/Exist"
		check(t, o, client.CodeMailboxSelectFailed, "select")
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		o := login(d.tls, client.TLSImplicit)
		o.RootCAs = x509.NewCertPool()
		check(t, o, client.CodeTLSCertUntrusted, "tls")
	})
	t.Run("TLS to the plaintext port", func(t *testing.T) {
		check(t, login(d.plain, client.TLSImplicit), client.CodeTLSProtocolMismatch, "tls")
	})
	t.Run("plaintext to the TLS port", func(t *testing.T) {
		o := login(d.tls, client.TLSNone)
		o.StepTimeout = time.Second
		check(t, o, client.CodeTLSProtocolMismatch, "greeting")
	})
	t.Run("nothing listening", func(t *testing.T) {
		check(t, login(freeAddr(t), client.TLSNone), client.CodeTCPRefused, "connect")
	})
}

func TestDovecotLoginDisabledSelfSigned(t *testing.T) {
	d := startDovecot(t, dovecotOpts{selfSigned: true, disablePlaintext: true})
	t.Run("LOGINDISABLED", func(t *testing.T) {
		check(t, client.Options{Addr: d.plain, TLS: client.TLSNone, User: testUser, Password: testPassword}, client.CodeAuthLoginDisabled, "auth")
	})
	t.Run("self-signed", func(t *testing.T) {
		check(t, client.Options{Addr: d.tls, TLS: client.TLSImplicit, User: testUser, Password: testPassword}, client.CodeTLSCertSelfSigned, "tls")
	})
	t.Run("self-signed insecure", func(t *testing.T) {
		rep := check(t, client.Options{Addr: d.tls, TLS: client.TLSImplicit, Insecure: true, User: testUser, Password: testPassword}, client.CodeOK, "logout")
		if got := warnings(rep); len(got) != 1 || got[0] != client.CodeTLSCertSelfSigned {
			t.Errorf("warnings = %v, want [%s]", got, client.CodeTLSCertSelfSigned)
		}
	})
}
