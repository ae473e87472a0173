// Package config loads the worker's and the starter's configuration through viper: a
// config file (YAML) and DCRFLOW_* environment variables, the environment winning.
// Secrets (tokens) are read only by LoadWorker; the starter never sees them.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/spf13/viper"

	"github.com/dcrflow/dcrflow"
)

// Temporal is how to reach the Temporal service.
type Temporal struct {
	Address   string `mapstructure:"address"`
	Namespace string `mapstructure:"namespace"`
	TaskQueue string `mapstructure:"task_queue"`
}

// Okta is the Okta org and its management token.
type Okta struct {
	OrgURL string `mapstructure:"org_url"`
	Token  string `mapstructure:"token"`
}

// Konnect is the Konnect region (or base URL) and its token.
type Konnect struct {
	Region  string `mapstructure:"region"`
	BaseURL string `mapstructure:"base_url"`
	Token   string `mapstructure:"token"`
}

// Worker is everything the worker needs, secrets included.
type Worker struct {
	Temporal  Temporal          `mapstructure:"temporal"`
	Okta      Okta              `mapstructure:"okta"`
	Konnect   Konnect           `mapstructure:"konnect"`
	DCRTokens map[string]string `mapstructure:"dcr_tokens"` // secret name → Okta DCR token
}

// Starter is what the starter needs: no secrets.
type Starter struct {
	Temporal Temporal `mapstructure:"temporal"`
}

// EnvPrefix prefixes every environment variable, e.g. DCRFLOW_OKTA_TOKEN.
const EnvPrefix = "DCRFLOW"

// dcrTokenEnv prefixes one named DCR token: DCRFLOW_DCR_TOKEN_<NAME>=value.
const dcrTokenEnv = EnvPrefix + "_DCR_TOKEN_"

func newViper(path string) (*viper.Viper, error) {
	v := viper.New()
	v.SetDefault("temporal.address", "127.0.0.1:7233")
	v.SetDefault("temporal.namespace", "default")
	v.SetDefault("temporal.task_queue", dcrflow.TaskQueue)
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	return v, nil
}

// keys must be bound for AutomaticEnv to reach Unmarshal.
var workerKeys = []string{"temporal.address", "temporal.namespace", "temporal.task_queue",
	"okta.org_url", "okta.token", "konnect.region", "konnect.base_url", "konnect.token"}

// LoadStarter reads the Temporal settings only.
func LoadStarter(path string) (Starter, error) {
	v, err := newViper(path)
	if err != nil {
		return Starter{}, err
	}
	var s Starter
	if err := v.Unmarshal(&s); err != nil {
		return Starter{}, fmt.Errorf("config %s: %w", orEnv(path), err)
	}
	return s, nil
}

// LoadWorker reads and checks the whole worker configuration. Every token may also
// come from a file named by the same variable with _FILE appended (mounted secrets).
func LoadWorker(path string) (Worker, error) {
	v, err := newViper(path)
	if err != nil {
		return Worker{}, err
	}
	for _, k := range workerKeys {
		_ = v.BindEnv(k)
	}
	var w Worker
	if err := v.Unmarshal(&w); err != nil {
		return Worker{}, fmt.Errorf("config %s: %w", orEnv(path), err)
	}
	if w.DCRTokens == nil {
		w.DCRTokens = map[string]string{}
	}
	var errs []error
	for _, s := range []struct {
		env string
		dst *string
	}{{"OKTA_TOKEN", &w.Okta.Token}, {"KONNECT_TOKEN", &w.Konnect.Token}} {
		if err := fromFile(EnvPrefix+"_"+s.env+"_FILE", s.dst); err != nil {
			errs = append(errs, err)
		}
	}
	for _, kv := range os.Environ() {
		name, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, dcrTokenEnv) {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(name, dcrTokenEnv))
		if strings.HasSuffix(key, "_file") {
			key = strings.TrimSuffix(key, "_file")
			tok := ""
			if err := fromFile(name, &tok); err != nil {
				errs = append(errs, err)
			}
			val = tok
		}
		w.DCRTokens[strings.ReplaceAll(key, "_", "-")] = val
	}
	errs = append(errs, w.check(path)...)
	if len(errs) > 0 {
		return Worker{}, errors.Join(errs...)
	}
	return w, nil
}

func fromFile(env string, dst *string) error {
	path := os.Getenv(env)
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", env, err)
	}
	*dst = strings.TrimSpace(string(b))
	return nil
}

func (w Worker) check(path string) []error {
	src := orEnv(path)
	var errs []error
	need := func(val, key, env string) {
		if val == "" {
			errs = append(errs, fmt.Errorf("config %s: %s is not set; set it in the file or as %s_%s", src, key, EnvPrefix, env))
		}
	}
	need(w.Okta.OrgURL, "okta.org_url", "OKTA_ORG_URL")
	need(w.Okta.Token, "okta.token", "OKTA_TOKEN")
	need(w.Konnect.Token, "konnect.token", "KONNECT_TOKEN")
	if w.Konnect.Region == "" && w.Konnect.BaseURL == "" {
		errs = append(errs, fmt.Errorf("config %s: konnect.region or konnect.base_url is required (e.g. region: us)", src))
	}
	if w.Okta.OrgURL != "" {
		if err := checkURL(w.Okta.OrgURL); err != nil {
			errs = append(errs, fmt.Errorf("config %s: okta.org_url: %v", src, err))
		}
	}
	if w.Konnect.BaseURL != "" {
		if err := checkURL(w.Konnect.BaseURL); err != nil {
			errs = append(errs, fmt.Errorf("config %s: konnect.base_url: %v", src, err))
		}
	}
	if len(w.DCRTokens) == 0 {
		errs = append(errs, fmt.Errorf("config %s: dcr_tokens is empty; name at least one Okta DCR token (dcr_tokens: {default: ...} or %sdefault)", src, dcrTokenEnv))
	}
	for name, tok := range w.DCRTokens {
		if tok == "" {
			errs = append(errs, fmt.Errorf("config %s: dcr_tokens.%s is empty", src, name))
		}
	}
	return errs
}

// checkURL accepts https, and http only to a loopback host.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL (e.g. https://acme.okta.com)", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: plain http is allowed only to a loopback host; use https", raw)
	default:
		return fmt.Errorf("%q: scheme must be https", raw)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DCRTokenNames lists the configured token names, sorted, for messages.
func (w Worker) DCRTokenNames() []string {
	names := make([]string, 0, len(w.DCRTokens))
	for n := range w.DCRTokens {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func orEnv(path string) string {
	if path == "" {
		return "(environment)"
	}
	return path
}
