package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/dcrflow/dcrflow/internal/readfile"
)

// Temporal is how to reach the Temporal service.
type Temporal struct {
	Address   string `mapstructure:"address"`
	Namespace string `mapstructure:"namespace"`
	TaskQueue string `mapstructure:"task_queue"`
	// APIKey authenticates to Temporal Cloud (TLS is then on, with the system roots,
	// unless tls says otherwise).
	APIKey string `mapstructure:"api_key"`
	TLS    TLS    `mapstructure:"tls"`
}

// TLS secures the connection to Temporal. It is on when any field is set (or Enabled);
// CertFile and KeyFile together make it mutual TLS.
type TLS struct {
	Enabled  bool   `mapstructure:"enabled"`
	CAFile   string `mapstructure:"ca_file"`   // PEM roots to trust instead of the system's
	CertFile string `mapstructure:"cert_file"` // PEM client certificate (mTLS)
	KeyFile  string `mapstructure:"key_file"`  // PEM private key of CertFile
	// CAData, CertData and KeyData are the same as PEM text (TEMPORAL_TLS_*_DATA);
	// each wins over its file.
	CAData             string `mapstructure:"ca_data"`
	CertData           string `mapstructure:"cert_data"`
	KeyData            string `mapstructure:"key_data"`
	ServerName         string `mapstructure:"server_name"`
	InsecureSkipVerify bool   `mapstructure:"insecure_skip_verify"` // testing only
}

// load reads the API key from DCRFLOW_TEMPORAL_API_KEY_FILE and checks the settings,
// TLS files included, so a bad one is a config error before anything connects.
func (t *Temporal) load(src string) []error {
	var errs []error
	if err := fromFile(EnvPrefix+"_TEMPORAL_API_KEY_FILE", &t.APIKey); err != nil {
		errs = append(errs, err)
	}
	t.APIKey = strings.TrimSpace(t.APIKey)
	if _, _, err := net.SplitHostPort(t.Address); err != nil || t.Address == "" {
		errs = append(errs, fmt.Errorf("config %s: temporal.address (%s_TEMPORAL_ADDRESS) %s: want host:port (e.g. 127.0.0.1:7233, or <namespace>.<account>.tmprl.cloud:7233)", src, EnvPrefix, show(t.Address)))
	}
	if strings.TrimSpace(t.Namespace) == "" {
		errs = append(errs, fmt.Errorf("config %s: temporal.namespace (%s_TEMPORAL_NAMESPACE) is empty", src, EnvPrefix))
	}
	if strings.TrimSpace(t.TaskQueue) == "" {
		errs = append(errs, fmt.Errorf("config %s: temporal.task_queue (%s_TEMPORAL_TASK_QUEUE) is empty", src, EnvPrefix))
	}
	if _, err := t.TLS.Config(); err != nil {
		errs = append(errs, fmt.Errorf("config %s: %v", src, err))
	}
	return errs
}

// On says whether TLS is used.
func (t TLS) On() bool {
	return t.Enabled || t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.InsecureSkipVerify ||
		t.CAData != "" || t.CertData != "" || t.KeyData != ""
}

// Config builds the tls.Config for these settings; nil when TLS is off. Errors name the
// setting and its environment variable.
func (t TLS) Config() (*tls.Config, error) {
	if !t.On() {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	t = t.inline()
	if t.CAFile != "" || t.CAData != "" {
		pem, err := []byte(t.CAData), error(nil)
		if t.CAData == "" {
			pem, err = readSetting("temporal.tls.ca_file", "TEMPORAL_TLS_CA_FILE", t.CAFile)
		}
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("temporal.tls.ca_file (%s_TEMPORAL_TLS_CA_FILE) %s: no PEM certificate in it", EnvPrefix, t.CAFile)
		}
		cfg.RootCAs = pool
	}
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		return nil, fmt.Errorf("temporal.tls.cert_file is set but temporal.tls.key_file (%s_TEMPORAL_TLS_KEY_FILE) is not: mTLS needs both", EnvPrefix)
	case t.KeyFile != "" && t.CertFile == "":
		return nil, fmt.Errorf("temporal.tls.key_file is set but temporal.tls.cert_file (%s_TEMPORAL_TLS_CERT_FILE) is not: mTLS needs both", EnvPrefix)
	case t.CertFile != "":
		certPEM, err := []byte(t.CertData), error(nil)
		if t.CertData == "" {
			certPEM, err = readSetting("temporal.tls.cert_file", "TEMPORAL_TLS_CERT_FILE", t.CertFile)
		}
		if err != nil {
			return nil, err
		}
		keyPEM, err := []byte(t.KeyData), error(nil)
		if t.KeyData == "" {
			keyPEM, err = readSetting("temporal.tls.key_file", "TEMPORAL_TLS_KEY_FILE", t.KeyFile)
		}
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("temporal.tls.cert_file %s and temporal.tls.key_file %s: not a matching PEM certificate and private key: %s", t.CertFile, t.KeyFile, oneLine(err.Error()))
		}
		if leaf := pair.Leaf; leaf != nil && time.Now().After(leaf.NotAfter) {
			return nil, fmt.Errorf("temporal.tls.cert_file %s: the certificate expired on %s", t.CertFile, leaf.NotAfter.UTC().Format(time.RFC3339))
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// inline marks PEM given as text in the file fields, so one check covers both.
func (t TLS) inline() TLS {
	if t.CertData != "" && t.CertFile == "" {
		t.CertFile = "(temporal.tls.cert_data)"
	}
	if t.KeyData != "" && t.KeyFile == "" {
		t.KeyFile = "(temporal.tls.key_data)"
	}
	return t
}

// readSetting reads a PEM file a setting names, through readfile.PEM.
func readSetting(key, env, path string) ([]byte, error) {
	b, err := readfile.Read(path, readfile.PEM)
	if err != nil {
		return nil, fmt.Errorf("%s (%s_%s) %s", key, EnvPrefix, env, oneLine(err.Error()))
	}
	return b, nil
}

// warnings are the settings that work but weaken security.
func (t Temporal) warnings() []string {
	if t.TLS.InsecureSkipVerify {
		return []string{"temporal.tls.insecure_skip_verify is on: the Temporal server's certificate is not checked, so whoever sits between the worker and Temporal can read and change everything sent; use it for tests only"}
	}
	return nil
}
