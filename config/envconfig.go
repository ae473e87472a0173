package config

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.temporal.io/sdk/contrib/envconfig"
)

// LoadOption adjusts how LoadStarter and LoadWorker read the configuration.
type LoadOption func(*loadOptions)

type loadOptions struct {
	profile, profileFile string
	flags                map[string]*pflag.Flag
}

// WithTemporalProfile picks the profile (and the file) of the Temporal CLI's
// configuration (temporal.toml) that forms the base layer; empty: TEMPORAL_PROFILE,
// else "default", from TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml.
func WithTemporalProfile(profile, file string) LoadOption {
	return func(o *loadOptions) { o.profile, o.profileFile = profile, file }
}

// WithFlags binds command-line flags to configuration keys (e.g. "temporal.address"
// → --address): a flag given on the command line wins over every other layer.
func WithFlags(flags map[string]*pflag.Flag) LoadOption {
	return func(o *loadOptions) { o.flags = flags }
}

// temporalBase applies the Temporal SDK's own environment configuration
// (go.temporal.io/sdk/contrib/envconfig: a temporal.toml profile, then TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_* over it) as defaults: beneath
// dcrflow's configuration file, DCRFLOW_* variables and flags, above the built-in
// defaults. So a machine set up for the temporal CLI needs nothing more.
//
// Not taken from it: codec settings (dcrflow has its own payload keys), gRPC
// metadata and the authority override.
func temporalBase(v *viper.Viper, o loadOptions) error {
	p, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{
		ConfigFilePath:    o.profileFile,
		ConfigFileProfile: o.profile,
	})
	if err != nil {
		where := o.profileFile
		if where == "" {
			where = "TEMPORAL_CONFIG_FILE or " + envconfig.DefaultConfigFilePath()
		}
		return fmt.Errorf("Temporal CLI configuration (%s): %s", where, oneLine(err.Error()))
	}
	set := func(key, val string) {
		if strings.TrimSpace(val) != "" {
			v.SetDefault(key, val)
		}
	}
	set("temporal.address", p.Address)
	set("temporal.namespace", p.Namespace)
	set("temporal.api_key", p.APIKey)
	if t := p.TLS; t != nil && !t.Disabled {
		v.SetDefault("temporal.tls.enabled", true)
		set("temporal.tls.cert_file", t.ClientCertPath)
		set("temporal.tls.key_file", t.ClientKeyPath)
		set("temporal.tls.ca_file", t.ServerCACertPath)
		set("temporal.tls.cert_data", string(t.ClientCertData))
		set("temporal.tls.key_data", string(t.ClientKeyData))
		set("temporal.tls.ca_data", string(t.ServerCACertData))
		set("temporal.tls.server_name", t.ServerName)
		if t.DisableHostVerification {
			v.SetDefault("temporal.tls.insecure_skip_verify", true)
		}
	}
	return nil
}

// bindFlags binds each flag to its key.
func bindFlags(v *viper.Viper, o loadOptions) error {
	for key, f := range o.flags {
		if f == nil {
			continue
		}
		if err := v.BindPFlag(key, f); err != nil {
			return fmt.Errorf("flag --%s: %w", f.Name, err)
		}
	}
	return nil
}
