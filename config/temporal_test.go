package config

import (
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow/internal/testpki"
)

func TestTLS_ConfigFromFiles(t *testing.T) {
	p := testpki.New(t)
	if cfg, err := (TLS{}).Config(); cfg != nil || err != nil {
		t.Fatalf("no TLS settings: %v, %v", cfg, err)
	}
	cfg, err := TLS{Enabled: true}.Config()
	if err != nil || cfg == nil || cfg.RootCAs != nil || len(cfg.Certificates) != 0 {
		t.Fatalf("enabled alone (system roots): %+v, %v", cfg, err)
	}
	cfg, err = TLS{CAFile: p.CAFile, CertFile: p.CertFile, KeyFile: p.KeyFile, ServerName: "temporal.test"}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootCAs == nil || len(cfg.Certificates) != 1 || cfg.ServerName != "temporal.test" || cfg.InsecureSkipVerify {
		t.Fatalf("mTLS config = %+v", cfg)
	}

	// The config really completes a mutual handshake with a server of that CA.
	srvLn, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{p.Server}, ClientCAs: p.CAPool, ClientAuth: tls.RequireAndVerifyClientCert})
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
	p := testpki.New(t)
	notPEM := p.Write(t, "not.pem", []byte("hello"))
	for name, tc := range map[string]struct {
		tls  TLS
		want []string
	}{
		"missing ca":       {TLS{CAFile: filepath.Join(p.Dir, "nope.pem")}, []string{"temporal.tls.ca_file", "DCRFLOW_TEMPORAL_TLS_CA_FILE", "nope.pem", "no such file"}},
		"ca not pem":       {TLS{CAFile: notPEM}, []string{"temporal.tls.ca_file", "no PEM certificate"}},
		"cert without key": {TLS{CertFile: p.CertFile}, []string{"temporal.tls.cert_file is set but temporal.tls.key_file", "DCRFLOW_TEMPORAL_TLS_KEY_FILE"}},
		"key without cert": {TLS{KeyFile: p.KeyFile}, []string{"temporal.tls.key_file is set but temporal.tls.cert_file", "DCRFLOW_TEMPORAL_TLS_CERT_FILE"}},
		"unreadable key":   {TLS{CertFile: p.CertFile, KeyFile: p.Dir}, []string{"temporal.tls.key_file (DCRFLOW_TEMPORAL_TLS_KEY_FILE)", "a directory, not a regular file; a PEM file must be a regular file (of at most 1 MiB)"}},
		"missing cert":     {TLS{CertFile: filepath.Join(p.Dir, "gone.pem"), KeyFile: p.KeyFile}, []string{"temporal.tls.cert_file (DCRFLOW_TEMPORAL_TLS_CERT_FILE)", "gone.pem"}},
		"mismatched pair":  {TLS{CertFile: p.CertFile, KeyFile: p.OtherKeyFile}, []string{"temporal.tls.cert_file", "temporal.tls.key_file", "not a matching", "private key does not match public key"}},
		"cert not pem":     {TLS{CertFile: notPEM, KeyFile: p.KeyFile}, []string{"temporal.tls.cert_file", "not.pem", "not a matching PEM"}},
		"expired cert":     {TLS{CertFile: p.ExpiredFile, KeyFile: p.ExpiredKeyFile}, []string{"temporal.tls.cert_file", "expired on"}},
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
	p := testpki.New(t)
	t.Setenv("DCRFLOW_TEMPORAL_ADDRESS", "prod.acct.tmprl.cloud:7233")
	t.Setenv("DCRFLOW_TEMPORAL_NAMESPACE", "prod.acct")
	t.Setenv("DCRFLOW_TEMPORAL_API_KEY_FILE", writeFile(t, "api-key", "key-from-file\n"))
	t.Setenv("DCRFLOW_TEMPORAL_TLS_CA_FILE", p.CAFile)
	t.Setenv("DCRFLOW_TEMPORAL_TLS_SERVER_NAME", "temporal.test")
	s, err := LoadStarter("")
	if err != nil {
		t.Fatal(err)
	}
	if s.Temporal.APIKey != "key-from-file" || s.Temporal.TLS.CAFile != p.CAFile || s.Temporal.TLS.ServerName != "temporal.test" {
		t.Fatalf("temporal = %+v", s.Temporal)
	}
	// The same settings in a file; a broken one is a config error naming it.
	path := writeFile(t, "starter.yaml", "temporal:\n  tls: {cert_file: "+p.CertFile+"}\n")
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
