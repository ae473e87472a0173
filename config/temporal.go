package config

import (
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
)

// ClientOptions are the Temporal client options for these settings.
func (t Temporal) ClientOptions(logger tlog.Logger) client.Options {
	return client.Options{HostPort: t.Address, Namespace: t.Namespace, Logger: logger}
}
