// Package wiring dials Temporal from the settings, for the worker, the dcrflow command
// and doctor alike: config reads and checks settings, wiring turns them into a live
// client. (The worker's own endpoints, metrics and codec, are served in worker/.)
package wiring

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dcrflow/dcrflow/codec"
	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/internal/textsafe"
)

// DialTimeout bounds connecting to Temporal and checking the namespace at start.
const DialTimeout = 10 * time.Second

// TemporalOptions are the Temporal client options for these settings: TLS, API key and,
// when pc is not nil, the encrypting data converter and a failure converter that
// encrypts error messages and stack traces too.
func TemporalOptions(t config.Temporal, logger tlog.Logger, pc *codec.Codec) (client.Options, error) {
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

// ClientOption adjusts the client options DialTemporal uses.
type ClientOption func(*client.Options)

// WithMetrics sets the client's metrics handler (nil: the SDK records nothing).
func WithMetrics(h client.MetricsHandler) ClientOption {
	return func(o *client.Options) { o.MetricsHandler = h }
}

// DialTemporal connects to Temporal within DialTimeout and checks that the namespace exists.
// Its errors are one line naming the address and the setting to fix.
func DialTemporal(ctx context.Context, t config.Temporal, logger tlog.Logger, pc *codec.Codec, extra ...ClientOption) (client.Client, error) {
	opts, err := TemporalOptions(t, logger, pc)
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
		return nil, dialError(t, err)
	}
	_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: t.Namespace})
	if err != nil {
		c.Close()
		var notFound *serviceerror.NamespaceNotFound
		if errors.As(err, &notFound) || status.Code(err) == codes.NotFound {
			return nil, fmt.Errorf("Temporal at %s has no namespace %q: set temporal.namespace (%s_TEMPORAL_NAMESPACE) to an existing namespace, or create it (temporal operator namespace create -n %s)",
				t.Address, t.Namespace, config.EnvPrefix, t.Namespace)
		}
		return nil, dialError(t, err)
	}
	return c, nil
}

func dialError(t config.Temporal, err error) error {
	msg := textsafe.OneLine(err.Error())
	var denied *serviceerror.PermissionDenied
	switch code := status.Code(err); {
	case code == codes.Unauthenticated || code == codes.PermissionDenied || errors.As(err, &denied):
		return fmt.Errorf("Temporal at %s (namespace %s) refused dcrflow's credentials: %s; check temporal.api_key (%s_TEMPORAL_API_KEY) or temporal.tls.cert_file/key_file, and that they are for namespace %s",
			t.Address, t.Namespace, msg, config.EnvPrefix, t.Namespace)
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:") || strings.Contains(msg, "TLS handshake") || strings.Contains(msg, "authentication handshake"):
		return fmt.Errorf("TLS with Temporal at %s failed: %s; check temporal.tls.* (ca_file, server_name, cert_file/key_file; %s_TEMPORAL_TLS_*) and whether the server speaks TLS", t.Address, msg, config.EnvPrefix)
	case t.TLS.On() || t.APIKey != "":
		return fmt.Errorf("cannot reach Temporal at %s within %v: %s; check temporal.address (%s_TEMPORAL_ADDRESS), that the server is up, and that it accepts these TLS settings (temporal.tls.*, e.g. a client certificate in cert_file/key_file)",
			t.Address, DialTimeout, msg, config.EnvPrefix)
	case strings.Contains(msg, "preface") || strings.Contains(msg, "EOF"):
		return fmt.Errorf("cannot reach Temporal at %s within %v: %s; check temporal.address (%s_TEMPORAL_ADDRESS), and whether the server requires TLS (temporal.tls.enabled, temporal.api_key)",
			t.Address, DialTimeout, msg, config.EnvPrefix)
	default:
		return fmt.Errorf("cannot reach Temporal at %s within %v: %s; check temporal.address (%s_TEMPORAL_ADDRESS) and that the server is up", t.Address, DialTimeout, msg, config.EnvPrefix)
	}
}
