package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"os"

	"github.com/imapfault/imapfault/relay"
	"github.com/imapfault/imapfault/server"
)

// upstreamFlags are the flags of the commands that stand in front of a
// real server through the relay (proxy, record): where the server is,
// how to trust it, and where clients connect.
type upstreamFlags struct {
	upstream, listen, tls, caFile, serverName, caOut *string
	insecure                                         *bool
}

func addUpstreamFlags(fs *flag.FlagSet) *upstreamFlags {
	return &upstreamFlags{
		upstream:   fs.String("upstream", "", "the real server as `host:port` (required)"),
		listen:     fs.String("listen", "127.0.0.1:0", "`address` to accept clients on; port 0 picks a free port"),
		tls:        fs.String("upstream-tls", "auto", "how the upstream speaks TLS: `mode` implicit, starttls, or auto (implicit on port 993); clients are spoken to the same way"),
		caFile:     fs.String("ca-file", "", "trust the CA certificates in PEM `file` for the upstream, instead of the system's"),
		serverName: fs.String("server-name", "", "the `name` the upstream's certificate must carry (default: the host of --upstream)"),
		insecure:   fs.Bool("insecure-skip-upstream-verify", false, "accept any certificate from the upstream: anyone on the path can then read the passwords clients send"),
		caOut:      fs.String("ca-out", "", "write the CA certificate clients must trust to `file` (default: a file in a new temporary folder)"),
	}
}

// relayOptions checks the flags and makes the relay's options: the
// upstream's trust, and a certificate of kind for hosts (server.Certs'
// kinds) that clients see, signed by the returned run's CA. A usage error
// is reported and gives exitUsage.
func (f *upstreamFlags) relayOptions(e *env, kind string, hosts []string) (relay.Options, *server.Certs, int, bool) {
	mode, err := relay.ParseTLSMode(*f.tls)
	if err != nil {
		errorf(e, "--upstream-tls: %v", err)
		return relay.Options{}, nil, exitUsage, false
	}
	var pool *x509.CertPool
	if *f.caFile != "" {
		pem, err := os.ReadFile(*f.caFile)
		if err != nil {
			errorf(e, "--ca-file: %v", err)
			return relay.Options{}, nil, exitUsage, false
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			errorf(e, "--ca-file %s: no PEM certificate in it", *f.caFile)
			return relay.Options{}, nil, exitUsage, false
		}
	}
	certs, err := server.NewCerts()
	if err != nil {
		errorf(e, "%v", err)
		return relay.Options{}, nil, exitFailure, false
	}
	leaf, err := certs.Leaf(kind, hosts)
	if err != nil {
		errorf(e, "%v", err)
		return relay.Options{}, nil, exitFailure, false
	}
	return relay.Options{
		Upstream:                   *f.upstream,
		Listen:                     *f.listen,
		TLS:                        mode,
		ServerTLS:                  &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12},
		UpstreamCAs:                pool,
		UpstreamServerName:         *f.serverName,
		InsecureSkipUpstreamVerify: *f.insecure,
	}, certs, 0, true
}

// relayReady is what the ready line of a command in front of a real
// server says of the relay; the command's own fields go beside it.
type relayReady struct {
	Address  string `json:"address"`
	TLS      string `json:"tls"` // implicit or starttls, as the upstream
	Upstream string `json:"upstream"`
	CAFile   string `json:"ca_file"`
}

func newRelayReady(r *relay.Relay, upstream, caFile string) relayReady {
	mode := relay.TLSStartTLS
	if r.Implicit() {
		mode = relay.TLSImplicit
	}
	return relayReady{Address: r.Addr(), TLS: mode.String(), Upstream: upstream, CAFile: caFile}
}
