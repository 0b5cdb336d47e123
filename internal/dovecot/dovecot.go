// Package dovecot runs Debian's dovecot-imapd on loopback from a throwaway
// configuration, for the interop tests and the benchmarks. It needs the
// dovecot binary, root (dovecot starts as root and drops to its mail user)
// and the "dovecot" system user; Start says which one is missing with an
// error wrapping ErrUnavailable.
package dovecot

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
	"errors"
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
	"time"
)

// ListenIP is where dovecot listens. Dovecot treats a connection whose
// two ends share an address as secure and would never advertise
// LOGINDISABLED; clients connect from 127.0.0.1 (Linux picks it as the
// source for all of 127.0.0.0/8), so the ends differ.
const ListenIP = "127.0.0.2"

// ErrUnavailable means dovecot cannot run here; the wrapping error says
// why and what to install.
var ErrUnavailable = errors.New("dovecot unavailable")

// Options vary the throwaway configuration.
type Options struct {
	User, Password   string
	Messages         [][]byte // raw messages delivered to the user's INBOX
	SelfSigned       bool     // a self-signed certificate instead of one from a test CA
	DisablePlaintext bool     // disable_plaintext_auth = yes: LOGINDISABLED without TLS
	// ProcessLimit raises the process limits and the connections one user
	// may open from one address above dovecot's defaults (100 processes
	// per service, 10 connections), for load tests.
	ProcessLimit int
	// Tuned is Dovecot set up for speed, as a user comparing with "a fast
	// Dovecot" would: imap-login in high-performance mode (one login
	// process serves many connections instead of one forked per
	// connection) and no fsync of mail writes.
	Tuned bool
}

// Dovecot is one running dovecot instance on loopback.
type Dovecot struct {
	Plain, TLS string         // host:port of the IMAP and IMAPS listeners
	Roots      *x509.CertPool // trusts the instance's certificate
	// CertFile is the certificate it serves, in PEM: a CA file for
	// clients that take one (Go verifies a certificate found in its roots).
	CertFile string

	dir  string
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan error
}

// Start writes a configuration under dir (which it makes readable by the
// mail user) and starts dovecot in the foreground. It returns once the
// plaintext listener greets, or an error when dovecot exits, ctx ends or
// ten seconds pass.
func Start(ctx context.Context, dir string, o Options) (*Dovecot, error) {
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		return nil, fmt.Errorf("%w: not installed: apt-get install dovecot-imapd", ErrUnavailable)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: running it from a throwaway configuration needs root", ErrUnavailable)
	}
	mailUser, err := user.Lookup("dovecot")
	if err != nil {
		return nil, fmt.Errorf("%w: no dovecot system user: %v", ErrUnavailable, err)
	}
	// The mail processes run as the dovecot user and must reach the home.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, err
		}
	}
	uid, _ := strconv.Atoi(mailUser.Uid)
	gid, _ := strconv.Atoi(mailUser.Gid)

	d := &Dovecot{Roots: x509.NewCertPool(), dir: dir, done: make(chan error, 1)}
	if d.Plain, err = FreeAddr(); err != nil {
		return nil, err
	}
	if d.TLS, err = FreeAddr(); err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := makeCert(o.SelfSigned, d.Roots)
	if err != nil {
		return nil, err
	}
	d.CertFile = filepath.Join(dir, "cert.pem")
	home := filepath.Join(dir, "home", o.User)
	type file struct {
		path string
		data []byte
		mode os.FileMode
	}
	files := []file{
		{d.CertFile, certPEM, 0o644},
		{filepath.Join(dir, "key.pem"), keyPEM, 0o600},
		{filepath.Join(dir, "passwd"), []byte(o.User + ":{PLAIN}" + o.Password + "::::::\n"), 0o644},
		{filepath.Join(dir, "dovecot.conf"), []byte(config(dir, d, uid, gid, o)), 0o644},
	}
	for i, m := range o.Messages {
		files = append(files, file{filepath.Join(home, "Maildir", "new", strconv.Itoa(i+1)+".eml"), m, 0o600})
	}
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(home, "Maildir", sub), 0o700); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			return nil, err
		}
	}
	if err := filepath.Walk(filepath.Join(dir, "home"), func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	}); err != nil {
		return nil, err
	}

	d.cmd = exec.Command(bin, "-F", "-c", filepath.Join(dir, "dovecot.conf"))
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.out
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dovecot: %w", err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	if err := d.waitGreeting(ctx, 10*time.Second); err != nil {
		d.Stop()
		return nil, fmt.Errorf("dovecot did not come up: %w\n%s", err, d.Logs())
	}
	return d, nil
}

// Pid is the dovecot master process; its children serve the sessions.
func (d *Dovecot) Pid() int { return d.cmd.Process.Pid }

// Logs returns dovecot's output and log file.
func (d *Dovecot) Logs() string {
	logs, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
	return d.out.String() + "\n" + string(logs)
}

// Stop sends SIGTERM and waits up to ten seconds before killing the whole
// process group.
func (d *Dovecot) Stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
	}
}

func config(dir string, d *Dovecot, uid, gid int, o Options) string {
	_, plainPort, _ := net.SplitHostPort(d.Plain)
	_, tlsPort, _ := net.SplitHostPort(d.TLS)
	limits := ""
	if o.ProcessLimit > 0 {
		limits = fmt.Sprintf("default_process_limit = %[1]d\ndefault_client_limit = %[2]d\nprotocol imap {\n  mail_max_userip_connections = %[1]d\n}\n", o.ProcessLimit, 2*o.ProcessLimit)
	}
	login := ""
	if o.Tuned {
		limits += "mail_fsync = never\n"
		login = "  service_count = 0\n  process_min_avail = 2\n"
		if o.ProcessLimit > 0 {
			login += fmt.Sprintf("  client_limit = %d\n", 2*o.ProcessLimit)
		}
	}
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
%[8]snamespace inbox {
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
%[9]s  inet_listener imap {
    port = %[5]s
  }
  inet_listener imaps {
    port = %[6]s
    ssl = yes
  }
}
`, dir, yesNo(o.DisablePlaintext), uid, gid, plainPort, tlsPort, ListenIP, limits, login)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// waitGreeting polls the plaintext listener until it greets, dovecot
// exits, ctx ends or the time is up.
func (d *Dovecot) waitGreeting(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		select {
		case err := <-d.done:
			d.done <- err // Stop waits on it too
			return fmt.Errorf("dovecot exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("no greeting on %s within %s", d.Plain, limit)
		default:
		}
		c, err := net.DialTimeout("tcp", d.Plain, time.Second)
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
}

// FreeAddr returns a host:port on ListenIP that nothing listens on now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", ListenIP+":0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// makeCert makes a certificate for localhost, 127.0.0.1 and ListenIP,
// issued by a test CA that roots trusts, or self-signed (and then not in
// roots).
func makeCert(selfSigned bool, roots *x509.CertPool) (certPEM, keyPEM []byte, err error) {
	tmpl := func(cn string) *x509.Certificate {
		serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
		return &x509.Certificate{
			SerialNumber: serial,
			Subject:      pkix.Name{CommonName: cn, Organization: []string{"imapfault interop"}},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(90 * 24 * time.Hour),
		}
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	leaf := tmpl("localhost")
	leaf.DNSNames = []string{"localhost"}
	leaf.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.ParseIP(ListenIP)}
	leaf.KeyUsage = x509.KeyUsageDigitalSignature
	leaf.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	parent, signer := leaf, leafKey
	if !selfSigned {
		caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		ca := tmpl("imapfault interop CA")
		ca.IsCA, ca.BasicConstraintsValid, ca.MaxPathLenZero = true, true, true
		ca.KeyUsage = x509.KeyUsageCertSign
		der, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		caCert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, err
		}
		roots.AddCert(caCert)
		parent, signer = caCert, caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, parent, &leafKey.PublicKey, signer)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}
