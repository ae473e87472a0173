// Package testpki makes a throwaway CA and certificates for tests of TLS settings.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a CA, a server certificate for temporal.test and client certificates, as PEM
// files in a temp dir.
type PKI struct {
	Dir                       string
	CAFile, CertFile, KeyFile string // the CA; a client certificate and its key
	OtherKeyFile              string // a key of no certificate here
	ExpiredFile               string // an expired client certificate...
	ExpiredKeyFile            string // ...and its key
	Server                    tls.Certificate
	CAPool                    *x509.CertPool
}

// New makes the CA and certificates in a temp dir of t.
func New(t *testing.T) *PKI {
	t.Helper()
	p := &PKI{Dir: t.TempDir()}
	caKey := genKey(t)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dcrflow test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p.CAPool = x509.NewCertPool()
	p.CAPool.AddCert(ca)
	p.CAFile = p.Write(t, "ca.pem", pemBlock("CERTIFICATE", caDER))

	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, notAfter time.Time) ([]byte, *ecdsa.PrivateKey) {
		key := genKey(t)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
			NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter, ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	srvDER, srvKey := issue(2, "temporal.test", x509.ExtKeyUsageServerAuth, time.Now().Add(time.Hour))
	p.Server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, "dcrflow-worker", x509.ExtKeyUsageClientAuth, time.Now().Add(time.Hour))
	p.CertFile = p.Write(t, "client.pem", pemBlock("CERTIFICATE", cliDER))
	p.KeyFile = p.Write(t, "client-key.pem", keyPEM(t, cliKey))
	p.OtherKeyFile = p.Write(t, "other-key.pem", keyPEM(t, genKey(t)))
	oldDER, oldKey := issue(4, "dcrflow-worker", x509.ExtKeyUsageClientAuth, time.Now().Add(-time.Hour))
	p.ExpiredFile = p.Write(t, "expired.pem", pemBlock("CERTIFICATE", oldDER))
	p.ExpiredKeyFile = p.Write(t, "expired-key.pem", keyPEM(t, oldKey))
	return p
}

func genKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func keyPEM(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der)
}

func (p *PKI) Write(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(p.Dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
