package faults

import (
	"crypto/tls"
	"fmt"
	"time"
)

// TLS changes the TLS handshake, on an implicit-TLS port and after
// STARTTLS alike: the versions the server accepts (a server stuck on TLS
// 1.0), or a handshake that stalls or is refused with an alert.
//
//	tls = { max_version = "1.1" }
//	tls = { handshake = "abort" }
type TLS struct {
	TLS struct {
		MinVersion string `toml:"min_version"`
		MaxVersion string `toml:"max_version"`
		// Handshake is "stall" (read the ClientHello, answer nothing) or
		// "abort" (answer it with a handshake_failure alert and close).
		Handshake string `toml:"handshake"`
	} `toml:"tls"`
}

var tlsVersions = map[string]uint16{"1.0": tls.VersionTLS10, "1.1": tls.VersionTLS11, "1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

// Kind implements Action.
func (*TLS) Kind() string { return "tls" }

// Validate implements Action.
func (t *TLS) Validate() error {
	for key, v := range map[string]string{"min_version": t.TLS.MinVersion, "max_version": t.TLS.MaxVersion} {
		if _, ok := tlsVersions[v]; v != "" && !ok {
			return fmt.Errorf("tls.%s: %q is not a TLS version (allowed: 1.0, 1.1, 1.2, 1.3)", key, v)
		}
	}
	switch t.TLS.Handshake {
	case "", "stall", "abort":
	default:
		return fmt.Errorf("tls.handshake: %q is not allowed (allowed: stall, abort)", t.TLS.Handshake)
	}
	if t.TLS.MinVersion == "" && t.TLS.MaxVersion == "" && t.TLS.Handshake == "" {
		return fmt.Errorf("tls: give min_version, max_version or handshake")
	}
	return nil
}

// configure returns cfg with the versions this fault sets.
func (t *TLS) configure(cfg *tls.Config) *tls.Config {
	if t.TLS.MinVersion == "" && t.TLS.MaxVersion == "" {
		return cfg
	}
	cfg = cfg.Clone()
	if v, ok := tlsVersions[t.TLS.MinVersion]; ok {
		cfg.MinVersion = v
	}
	if v, ok := tlsVersions[t.TLS.MaxVersion]; ok {
		cfg.MaxVersion = v
		if cfg.MinVersion > v {
			cfg.MinVersion = v
		}
	}
	return cfg
}

// handshakeFailureAlert is a TLS alert record: fatal handshake_failure.
var handshakeFailureAlert = []byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}

// sabotage plays a stalled or refused handshake on c's socket; it reports
// whether it did.
func (t *TLS) sabotage(c *Conn) (bool, error) {
	if t.TLS.Handshake == "" {
		return false, nil
	}
	// Read the ClientHello first, so that the client sees the failure in
	// the handshake rather than as a refused connection.
	c.tcp.SetReadDeadline(time.Now().Add(5 * time.Second))
	c.tcp.Read(make([]byte, 4096))
	c.tcp.SetReadDeadline(time.Time{})
	if t.TLS.Handshake == "abort" {
		c.tap(TapEvent{Dir: DirInfo, Data: []byte("fault: TLS handshake refused with a handshake_failure alert")})
		c.tcp.Write(handshakeFailureAlert)
		c.Drop(false)
		return true, ErrDropped
	}
	c.Stall()
	return true, c.waitIfStalled()
}
