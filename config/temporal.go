package config

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dcrflow/dcrflow/codec"
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

// DialTimeout bounds connecting to Temporal and checking the namespace at start.
const DialTimeout = 10 * time.Second

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

// ClientOptions are the Temporal client options for these settings: TLS, API key and,
// when pc is not nil, the encrypting data converter and a failure converter that
// encrypts error messages and stack traces too.
func (t Temporal) ClientOptions(logger tlog.Logger, pc *codec.Codec) (client.Options, error) {
	o := client.Options{HostPort: t.Address, Namespace: t.Namespace, Logger: logger}
	tc, err := t.TLS.Config()
	if err != nil {
		return client.Options{}, err
	}
	o.ConnectionOptions.TLS = tc
	if t.APIKey != "" {
		o.Credentials = client.NewAPIKeyStaticCredentials(t.APIKey)
	}
	if pc != nil {
		dc := codec.NewDataConverter(pc)
		o.DataConverter = dc
		o.FailureConverter = codec.NewFailureConverter(dc)
	}
	return o, nil
}

// ClientOption adjusts the client options Dial uses.
type ClientOption func(*client.Options)

// WithMetrics sets the client's metrics handler (nil: the SDK records nothing).
func WithMetrics(h client.MetricsHandler) ClientOption {
	return func(o *client.Options) { o.MetricsHandler = h }
}

// Dial connects to Temporal within DialTimeout and checks that the namespace exists.
// Its errors are one line naming the address and the setting to fix.
func (t Temporal) Dial(ctx context.Context, logger tlog.Logger, pc *codec.Codec, extra ...ClientOption) (client.Client, error) {
	opts, err := t.ClientOptions(logger, pc)
	if err != nil {
		return nil, err
	}
	for _, o := range extra {
		o(&opts)
	}
	ctx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, t.dialError(err)
	}
	_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: t.Namespace})
	if err != nil {
		c.Close()
		var notFound *serviceerror.NamespaceNotFound
		if errors.As(err, &notFound) || status.Code(err) == codes.NotFound {
			return nil, fmt.Errorf("Temporal at %s has no namespace %q: set temporal.namespace (%s_TEMPORAL_NAMESPACE) to an existing namespace, or create it (temporal operator namespace create -n %s)",
				t.Address, t.Namespace, EnvPrefix, t.Namespace)
		}
		return nil, t.dialError(err)
	}
	return c, nil
}

func (t Temporal) dialError(err error) error {
	msg := oneLine(err.Error())
	var denied *serviceerror.PermissionDenied
	switch code := status.Code(err); {
	case code == codes.Unauthenticated || code == codes.PermissionDenied || errors.As(err, &denied):
		return fmt.Errorf("Temporal at %s (namespace %s) refused dcrflow's credentials: %s; check temporal.api_key (%s_TEMPORAL_API_KEY) or temporal.tls.cert_file/key_file, and that they are for namespace %s",
			t.Address, t.Namespace, msg, EnvPrefix, t.Namespace)
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:") || strings.Contains(msg, "TLS handshake") || strings.Contains(msg, "authentication handshake"):
		return fmt.Errorf("TLS with Temporal at %s failed: %s; check temporal.tls.* (ca_file, server_name, cert_file/key_file; %s_TEMPORAL_TLS_*) and whether the server speaks TLS", t.Address, msg, EnvPrefix)
	case t.TLS.On() || t.APIKey != "":
		return fmt.Errorf("cannot reach Temporal at %s within %v: %s; check temporal.address (%s_TEMPORAL_ADDRESS), that the server is up, and that it accepts these TLS settings (temporal.tls.*, e.g. a client certificate in cert_file/key_file)",
			t.Address, DialTimeout, msg, EnvPrefix)
	case strings.Contains(msg, "preface") || strings.Contains(msg, "EOF"):
		return fmt.Errorf("cannot reach Temporal at %s within %v: %s; check temporal.address (%s_TEMPORAL_ADDRESS), and whether the server requires TLS (temporal.tls.enabled, temporal.api_key)",
			t.Address, DialTimeout, msg, EnvPrefix)
	default:
		return fmt.Errorf("cannot reach Temporal at %s within %v: %s; check temporal.address (%s_TEMPORAL_ADDRESS) and that the server is up", t.Address, DialTimeout, msg, EnvPrefix)
	}
}
