package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Certs is a run's certificate authority and the server certificates it
// signs. It is made once and may be shared by many servers of one run
// (imapfault verify does), since key generation is the costly part of a
// TLS scenario's start-up.
type Certs struct {
	CA       *x509.Certificate
	caKey    *ecdsa.PrivateKey
	inter    *x509.Certificate
	interKey *ecdsa.PrivateKey
	// other is a CA nobody trusts, for the untrusted-ca scenario.
	other    *x509.Certificate
	otherKey *ecdsa.PrivateKey
	leafKey  *ecdsa.PrivateKey
}

// NewCerts makes a fresh CA with an intermediate, valid from an hour ago
// for ten years.
func NewCerts() (*Certs, error) {
	c := &Certs{}
	var err error
	if c.CA, c.caKey, err = makeCA("imapfault test CA", nil, nil); err != nil {
		return nil, err
	}
	if c.inter, c.interKey, err = makeCA("imapfault test intermediate", c.CA, c.caKey); err != nil {
		return nil, err
	}
	if c.other, c.otherKey, err = makeCA("imapfault untrusted CA", nil, nil); err != nil {
		return nil, err
	}
	if c.leafKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	return c, nil
}

// Pool returns a certificate pool that trusts the run's CA.
func (c *Certs) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(c.CA)
	return pool
}

// CAPEM returns the CA certificate in PEM, for clients outside Go.
func (c *Certs) CAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.CA.Raw})
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

func makeCA(name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"imapfault"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        parent != nil,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// Leaf returns a server certificate of the given kind (see the scenarios
// package's Cert constants) for hosts.
func (c *Certs) Leaf(kind string, hosts []string) (tls.Certificate, error) {
	now := time.Now()
	notBefore, notAfter := now.Add(-time.Hour), now.AddDate(1, 0, 0)
	signer, signerKey := c.inter, c.interKey
	chain := true
	switch kind {
	case "valid":
	case "expired":
		notBefore, notAfter = now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1)
	case "not-yet-valid":
		notBefore, notAfter = now.AddDate(0, 0, 1), now.AddDate(1, 0, 0)
	case "wrong-host":
		hosts = []string{"mail.example.net"}
	case "untrusted-ca":
		signer, signerKey, chain = c.other, c.otherKey, false
	case "missing-intermediate":
		chain = false
	case "self-signed":
		signer, signerKey, chain = nil, nil, false
	default:
		return tls.Certificate{}, fmt.Errorf("unknown certificate kind %q", kind)
	}
	sn, err := serial()
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: hosts[0], Organization: []string{"imapfault"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if signer == nil {
		signer, signerKey = tmpl, c.leafKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &c.leafKey.PublicKey, signerKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: c.leafKey}
	if chain {
		cert.Certificate = append(cert.Certificate, c.inter.Raw)
	}
	return cert, nil
}
