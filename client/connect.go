package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/imapfault/imapfault/client/phase"
)

// maxAddrs bounds how many resolved addresses are tried, and with them the
// time the connect phase can take.
const maxAddrs = 4

// connect resolves the host and dials each address in turn until one
// answers; every attempt appears in the transcript with its family.
func (w *walk) connect(ctx context.Context) (string, *Diagnosis) {
	host, port, _ := net.SplitHostPort(w.o.Addr)
	ips, d := w.resolve(ctx, host)
	if d != nil {
		return "", d
	}
	var firstErr error
	var firstAddr string
	for _, ip := range ips {
		addr := net.JoinHostPort(ip.String(), port)
		conn, err := dialOne(ctx, addr, w.o.timeout(phase.Connect))
		if err == nil {
			w.s = newSession(1, w.o, w.tr, w.red, conn)
			w.s.info("connected to %s (%s)", addr, family(ip))
			w.rep.Address = addr
			return fmt.Sprintf("connected to %s (%s)", addr, family(ip)), nil
		}
		w.tr.add(1, "!!", fmt.Sprintf("connect to %s (%s): %v", addr, family(ip), err))
		if firstErr == nil {
			firstErr, firstAddr = err, addr
		}
		if ctx.Err() != nil {
			break
		}
	}
	dd := dialDiag(firstAddr, firstErr, w.o.timeout(phase.Connect))
	if len(ips) > 1 {
		dd.Evidence += fmt.Sprintf(" (all %d addresses failed)", len(ips))
	}
	return "", &dd
}

func (w *walk) resolve(ctx context.Context, host string) ([]net.IP, *Diagnosis) {
	if ip := net.ParseIP(host); ip != nil {
		return []net.IP{ip}, nil
	}
	rctx, cancel := context.WithTimeout(ctx, w.o.timeout(phase.Connect))
	defer cancel()
	start := time.Now()
	addrs, err := net.DefaultResolver.LookupIPAddr(rctx, host)
	if err != nil {
		var dnsErr *net.DNSError
		code := CodeDNSTimeout
		switch {
		case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			code = CodeDNSNXDomain
		case errors.As(err, &dnsErr) && dnsErr.IsTimeout, errors.Is(err, context.DeadlineExceeded):
			err = fmt.Errorf("no answer from the resolver for %s: %w", time.Since(start).Round(time.Millisecond), err)
		}
		d := diag(code, "connect", fmt.Sprintf("resolving %s: %v", host, err))
		return nil, &d
	}
	ips := make([]net.IP, 0, len(addrs))
	for _, a := range addrs {
		ips = append(ips, a.IP)
	}
	if len(ips) > maxAddrs {
		ips = ips[:maxAddrs]
	}
	if len(ips) == 0 {
		d := diag(CodeDNSNXDomain, "connect", fmt.Sprintf("resolving %s: no addresses", host))
		return nil, &d
	}
	return ips, nil
}

func dialOne(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	return d.DialContext(dctx, "tcp", addr)
}

// dialDiag classifies a failed dial by errno and timeout, not by message.
func dialDiag(addr string, err error, timeout time.Duration) Diagnosis {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return diag(CodeTCPRefused, "connect", fmt.Sprintf("connection to %s refused", addr))
	case errors.Is(err, syscall.ECONNRESET):
		return diag(CodeTCPReset, "connect", fmt.Sprintf("connection to %s reset", addr))
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return diag(CodeTCPTimeout, "connect", fmt.Sprintf("%s unreachable: %v", addr, err))
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return diag(CodeTCPTimeout, "connect", fmt.Sprintf("no answer from %s within %s", addr, timeout))
	}
	return diag(CodeTCPRefused, "connect", fmt.Sprintf("connect to %s: %v", addr, err))
}

func family(ip net.IP) string {
	if ip.To4() != nil {
		return "IPv4"
	}
	return "IPv6"
}
