package config

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// pki is a CA, a server certificate for temporal.test and client certificates, as PEM
// files in a temp dir.
type pki struct {
	dir                       string
	caFile, certFile, keyFile string // the CA; a client certificate and its key
	otherKeyFile              string // a key of no certificate here
	expiredFile               string // an expired client certificate...
	expiredKeyFile            string // ...and its key
	server                    tls.Certificate
	caPool                    *x509.CertPool
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	caKey := genKey(t)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dcrflow test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p.caPool = x509.NewCertPool()
	p.caPool.AddCert(ca)
	p.caFile = p.write(t, "ca.pem", pemBlock("CERTIFICATE", caDER))

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
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, "dcrflow-worker", x509.ExtKeyUsageClientAuth, time.Now().Add(time.Hour))
	p.certFile = p.write(t, "client.pem", pemBlock("CERTIFICATE", cliDER))
	p.keyFile = p.write(t, "client-key.pem", keyPEM(t, cliKey))
	p.otherKeyFile = p.write(t, "other-key.pem", keyPEM(t, genKey(t)))
	oldDER, oldKey := issue(4, "dcrflow-worker", x509.ExtKeyUsageClientAuth, time.Now().Add(-time.Hour))
	p.expiredFile = p.write(t, "expired.pem", pemBlock("CERTIFICATE", oldDER))
	p.expiredKeyFile = p.write(t, "expired-key.pem", keyPEM(t, oldKey))
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

func (p *pki) write(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLS_ConfigFromFiles(t *testing.T) {
	p := newPKI(t)
	if cfg, err := (TLS{}).Config(); cfg != nil || err != nil {
		t.Fatalf("no TLS settings: %v, %v", cfg, err)
	}
	cfg, err := TLS{Enabled: true}.Config()
	if err != nil || cfg == nil || cfg.RootCAs != nil || len(cfg.Certificates) != 0 {
		t.Fatalf("enabled alone (system roots): %+v, %v", cfg, err)
	}
	cfg, err = TLS{CAFile: p.caFile, CertFile: p.certFile, KeyFile: p.keyFile, ServerName: "temporal.test"}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootCAs == nil || len(cfg.Certificates) != 1 || cfg.ServerName != "temporal.test" || cfg.InsecureSkipVerify {
		t.Fatalf("mTLS config = %+v", cfg)
	}

	// The config really completes a mutual handshake with a server of that CA.
	srvLn, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{p.server}, ClientCAs: p.caPool, ClientAuth: tls.RequireAndVerifyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	defer srvLn.Close()
	go func() {
		for {
			c, err := srvLn.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	conn, err := tls.Dial("tcp", srvLn.Addr().String(), cfg)
	if err != nil {
		t.Fatalf("handshake with the built config: %v", err)
	}
	conn.Close()
}

func TestTLS_ErrorsNameTheSetting(t *testing.T) {
	p := newPKI(t)
	notPEM := p.write(t, "not.pem", []byte("hello"))
	for name, tc := range map[string]struct {
		tls  TLS
		want []string
	}{
		"missing ca":       {TLS{CAFile: filepath.Join(p.dir, "nope.pem")}, []string{"temporal.tls.ca_file", "DCRFLOW_TEMPORAL_TLS_CA_FILE", "nope.pem", "no such file"}},
		"ca not pem":       {TLS{CAFile: notPEM}, []string{"temporal.tls.ca_file", "no PEM certificate"}},
		"cert without key": {TLS{CertFile: p.certFile}, []string{"temporal.tls.cert_file is set but temporal.tls.key_file", "DCRFLOW_TEMPORAL_TLS_KEY_FILE"}},
		"key without cert": {TLS{KeyFile: p.keyFile}, []string{"temporal.tls.key_file is set but temporal.tls.cert_file", "DCRFLOW_TEMPORAL_TLS_CERT_FILE"}},
		"unreadable key":   {TLS{CertFile: p.certFile, KeyFile: p.dir}, []string{"temporal.tls.key_file (DCRFLOW_TEMPORAL_TLS_KEY_FILE)", "a directory, not a regular file; a PEM file must be a regular file (of at most 1 MiB)"}},
		"missing cert":     {TLS{CertFile: filepath.Join(p.dir, "gone.pem"), KeyFile: p.keyFile}, []string{"temporal.tls.cert_file (DCRFLOW_TEMPORAL_TLS_CERT_FILE)", "gone.pem"}},
		"mismatched pair":  {TLS{CertFile: p.certFile, KeyFile: p.otherKeyFile}, []string{"temporal.tls.cert_file", "temporal.tls.key_file", "not a matching", "private key does not match public key"}},
		"cert not pem":     {TLS{CertFile: notPEM, KeyFile: p.keyFile}, []string{"temporal.tls.cert_file", "not.pem", "not a matching PEM"}},
		"expired cert":     {TLS{CertFile: p.expiredFile, KeyFile: p.expiredKeyFile}, []string{"temporal.tls.cert_file", "expired on"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.tls.Config()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("several lines: %q", err)
			}
		})
	}
}

func TestLoadStarter_TLSAndAPIKeyFromEnvironment(t *testing.T) {
	p := newPKI(t)
	t.Setenv("DCRFLOW_TEMPORAL_ADDRESS", "prod.acct.tmprl.cloud:7233")
	t.Setenv("DCRFLOW_TEMPORAL_NAMESPACE", "prod.acct")
	t.Setenv("DCRFLOW_TEMPORAL_API_KEY_FILE", writeFile(t, "api-key", "key-from-file\n"))
	t.Setenv("DCRFLOW_TEMPORAL_TLS_CA_FILE", p.caFile)
	t.Setenv("DCRFLOW_TEMPORAL_TLS_SERVER_NAME", "temporal.test")
	s, err := LoadStarter("")
	if err != nil {
		t.Fatal(err)
	}
	if s.Temporal.APIKey != "key-from-file" || s.Temporal.TLS.CAFile != p.caFile || s.Temporal.TLS.ServerName != "temporal.test" {
		t.Fatalf("temporal = %+v", s.Temporal)
	}
	opts, err := s.Temporal.ClientOptions(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if opts.HostPort != "prod.acct.tmprl.cloud:7233" || opts.Namespace != "prod.acct" || opts.Credentials == nil ||
		opts.ConnectionOptions.TLS == nil || opts.ConnectionOptions.TLS.RootCAs == nil {
		t.Fatalf("options = %+v", opts)
	}

	// The same settings in a file; a broken one is a config error naming it.
	path := writeFile(t, "starter.yaml", "temporal:\n  tls: {cert_file: "+p.certFile+"}\n")
	t.Setenv("DCRFLOW_TEMPORAL_TLS_CA_FILE", "")
	t.Setenv("DCRFLOW_TEMPORAL_TLS_SERVER_NAME", "")
	_, err = LoadStarter(path)
	if err == nil || !strings.Contains(err.Error(), "starter.yaml") || !strings.Contains(err.Error(), "temporal.tls.key_file") {
		t.Fatalf("cert without key in a file: %v", err)
	}
	t.Setenv("DCRFLOW_TEMPORAL_ADDRESS", "no-port")
	if _, err := LoadStarter(""); err == nil || !strings.Contains(err.Error(), `temporal.address (DCRFLOW_TEMPORAL_ADDRESS) "no-port": want host:port`) {
		t.Fatalf("address without port: %v", err)
	}
}

// fakeFrontend is a Temporal frontend over mTLS that records the authorization header,
// refuses a wrong API key and knows one namespace.
type fakeFrontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	mu   sync.Mutex
	auth []string
}

func (f *fakeFrontend) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{}, nil
}

func (f *fakeFrontend) DescribeNamespace(_ context.Context, r *workflowservice.DescribeNamespaceRequest) (*workflowservice.DescribeNamespaceResponse, error) {
	if r.GetNamespace() != "prod.acct" {
		return nil, serviceerror.ToStatus(serviceerror.NewNamespaceNotFound(r.GetNamespace())).Err()
	}
	return &workflowservice.DescribeNamespaceResponse{}, nil
}

func (f *fakeFrontend) intercept(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.auth = append(f.auth, md.Get("authorization")...)
	f.mu.Unlock()
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer right-key" {
		return nil, status.Error(codes.Unauthenticated, "invalid API key")
	}
	return h(ctx, req)
}

func TestDial_TLSAndAPIKeyAgainstAFakeFrontend(t *testing.T) {
	p := newPKI(t)
	f := &fakeFrontend{}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{p.server},
		ClientCAs: p.caPool, ClientAuth: tls.RequireAndVerifyClientCert})), grpc.UnaryInterceptor(f.intercept))
	workflowservice.RegisterWorkflowServiceServer(srv, f)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Stop()

	base := Temporal{Address: ln.Addr().String(), Namespace: "prod.acct", TaskQueue: "dcrflow", APIKey: "right-key",
		TLS: TLS{CAFile: p.caFile, CertFile: p.certFile, KeyFile: p.keyFile, ServerName: "temporal.test"}}
	ctx := context.Background()
	c, err := base.Dial(ctx, nil, nil)
	if err != nil {
		t.Fatalf("mTLS + API key: %v", err)
	}
	c.Close()
	f.mu.Lock()
	if len(f.auth) == 0 || f.auth[0] != "Bearer right-key" {
		t.Errorf("the server saw authorization %v", f.auth)
	}
	f.mu.Unlock()

	for name, tc := range map[string]struct {
		mod  func(*Temporal)
		want []string
	}{
		"wrong api key":     {func(t *Temporal) { t.APIKey = "wrong" }, []string{"refused dcrflow's credentials", "temporal.api_key (DCRFLOW_TEMPORAL_API_KEY)", base.Address}},
		"unknown namespace": {func(t *Temporal) { t.Namespace = "nope" }, []string{`has no namespace "nope"`, "temporal.namespace (DCRFLOW_TEMPORAL_NAMESPACE)"}},
		"no client cert":    {func(t *Temporal) { t.TLS.CertFile, t.TLS.KeyFile = "", "" }, []string{base.Address, "temporal.tls.*", "cert_file/key_file"}},
		"wrong server name": {func(t *Temporal) { t.TLS.ServerName = "other.test" }, []string{"TLS with Temporal at " + base.Address + " failed", "temporal.tls", "x509"}},
		"plaintext":         {func(t *Temporal) { t.TLS = TLS{}; t.APIKey = "" }, []string{base.Address, "DCRFLOW_TEMPORAL_ADDRESS", "requires TLS (temporal.tls.enabled, temporal.api_key)"}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := base
			tc.mod(&cfg)
			start := time.Now()
			c, err := cfg.Dial(ctx, nil, nil)
			if err == nil {
				c.Close()
				t.Fatal("connected")
			}
			if d := time.Since(start); d > DialTimeout+5*time.Second {
				t.Errorf("took %v", d)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("several lines: %q", err)
			}
		})
	}
}
