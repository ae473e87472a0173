// Package config loads the worker's and the starter's configuration through viper: a
// config file (YAML) and DCRFLOW_* environment variables, the environment winning.
// Okta, Konnect and DCR tokens are read only by LoadWorker; the starter never sees them.
// Both read how to reach Temporal (address, namespace, TLS, API key) and the payload
// encryption keys (codec), since both write and read workflow payloads.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/viper"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/internal/readfile"
	"github.com/dcrflow/dcrflow/internal/textsafe"
)

// Okta is the Okta org and how the management client authenticates (okta_auth.go).
type Okta struct {
	OrgURL string `mapstructure:"org_url"`
	Token  string `mapstructure:"token"`
	// OAuth 2.0 for Okta (auth_mode: private_key); see okta_auth.go.
	AuthMode       string   `mapstructure:"auth_mode"`
	ClientID       string   `mapstructure:"client_id"`
	KeyID          string   `mapstructure:"key_id"`
	PrivateKeyFile string   `mapstructure:"private_key_file"`
	PrivateKey     string   `mapstructure:"private_key"` // a secret: never logged
	Scopes         []string `mapstructure:"scopes"`
}

// Konnect is the Konnect region (or base URL) and its token.
type Konnect struct {
	Region  string `mapstructure:"region"`
	BaseURL string `mapstructure:"base_url"`
	Token   string `mapstructure:"token"`
}

// Worker is everything the worker needs, secrets included.
type Worker struct {
	// Warnings are settings that work but weaken security; the worker logs them.
	Warnings []string `mapstructure:"-"`

	Temporal   Temporal          `mapstructure:"temporal"`
	Okta       Okta              `mapstructure:"okta"`
	Konnect    Konnect           `mapstructure:"konnect"`
	DCRTokens  map[string]string `mapstructure:"dcr_tokens"` // secret name → Okta DCR token
	Codec      CodecServer       `mapstructure:"codec"`
	Metrics    Metrics           `mapstructure:"metrics"`
	RateLimits RateLimits        `mapstructure:"rate_limits"`
	Log        Log               `mapstructure:"log"`
	Rotation   Rotation          `mapstructure:"rotation"`
}

// Starter is what the starter needs: how to reach Temporal and the payload keys; no
// Okta, Konnect or DCR token.
type Starter struct {
	// Warnings are settings that work but weaken security; the starter prints them.
	Warnings []string `mapstructure:"-"`

	Temporal Temporal `mapstructure:"temporal"`
	Codec    Codec    `mapstructure:"codec"`
	Log      Log      `mapstructure:"log"`
	Schedule Schedule `mapstructure:"schedule"` // dcrflow schedule's defaults
	Rotation Rotation `mapstructure:"rotation"`
}

// EnvPrefix prefixes every environment variable, e.g. DCRFLOW_OKTA_TOKEN.
const EnvPrefix = "DCRFLOW"

// dcrTokenEnv prefixes one named DCR token: DCRFLOW_DCR_TOKEN_<NAME>=value.
const dcrTokenEnv = EnvPrefix + "_DCR_TOKEN_"

// newViper layers Temporal's own settings (temporal.toml, TEMPORAL_*), the file at
// path (read through readfile.Config), DCRFLOW_* and the flags, and refuses the file's
// keys that are not among known. A file that cannot be read or parsed is the one
// error; unknown keys are listed with the other problems.
func newViper(path string, known []string, opts ...LoadOption) (*viper.Viper, []error, error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	v := viper.New()
	v.SetDefault("temporal.address", "127.0.0.1:7233")
	v.SetDefault("temporal.namespace", "default")
	v.SetDefault("temporal.task_queue", dcrflow.TaskQueue)
	v.SetDefault("log.format", LogFormatAuto)
	if err := temporalBase(v, o); err != nil {
		return nil, nil, err
	}
	if err := bindFlags(v, o); err != nil {
		return nil, nil, err
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if path == "" {
		return v, nil, nil
	}
	raw, err := readfile.Read(path, readfile.Config)
	if err != nil {
		return nil, nil, fmt.Errorf("config file %w", err)
	}
	v.SetConfigType(configType(path))
	if err := v.ReadConfig(bytes.NewReader(raw)); err != nil {
		return nil, nil, fmt.Errorf("config file %s: %s", path, oneLine(err.Error()))
	}
	// The file's own keys, apart from the layers beneath it.
	file := viper.New()
	file.SetConfigType(configType(path))
	if err := file.ReadConfig(bytes.NewReader(raw)); err != nil {
		return nil, nil, fmt.Errorf("config file %s: %s", path, oneLine(err.Error()))
	}
	return v, unknownKeys(file, known, path), nil
}

// configType is the format viper reads path in, from its extension; YAML without one.
func configType(path string) string {
	switch ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), ".")); ext {
	case "", "yml":
		return "yaml"
	default:
		return ext
	}
}

// Keys must be bound for AutomaticEnv to reach Unmarshal.
var (
	starterKeys = []string{"temporal.address", "temporal.namespace", "temporal.task_queue", "temporal.api_key",
		"temporal.tls.enabled", "temporal.tls.ca_file", "temporal.tls.cert_file", "temporal.tls.key_file",
		"temporal.tls.server_name", "temporal.tls.insecure_skip_verify", "codec.key_id", "log.level", "log.format",
		"schedule.every", "schedule.heal"}
	workerKeys = append(append(slices.Clone(starterKeys), oktaAuthKeys...), "okta.org_url", "okta.token", "konnect.region", "konnect.base_url",
		"konnect.token", "codec.listen", "codec.auth_token", "codec.cors_origin", "metrics.listen", "metrics.pprof",
		"rate_limits.okta_management_rpm", "rate_limits.okta_dcr_rpm", "rate_limits.konnect_rpm", rotationKeys[0])
)

// LoadStarter reads and checks the Temporal, codec and log settings.
func LoadStarter(path string, opts ...LoadOption) (Starter, error) {
	v, keyErrs, err := newViper(path, settings, opts...)
	if err != nil {
		return Starter{}, err
	}
	v.SetDefault("log.level", "warn")
	for _, k := range append(starterKeys, rotationKeys...) {
		_ = v.BindEnv(k)
	}
	var s Starter
	if err := v.Unmarshal(&s); err != nil {
		return Starter{}, fmt.Errorf("config %s: %s", orEnv(path), oneLine(err.Error()))
	}
	src := orEnv(path)
	errs := append(keyErrs, s.Temporal.load(src)...)
	errs = append(errs, s.Codec.load(src)...)
	errs = append(errs, outOfPlace(src, append(s.Temporal.plain(), s.Codec.plain()...)...)...)
	errs = append(errs, s.Log.check(src)...)
	errs = append(errs, s.Schedule.check(src)...)
	errs = append(errs, s.Rotation.check(src)...)
	if len(errs) > 0 {
		return Starter{}, errors.Join(errs...)
	}
	s.Warnings = append(s.Temporal.warnings(), envNearMisses(os.Environ())...)
	return s, nil
}

// LoadWorker reads and checks the whole worker configuration. Every token may also
// come from a file named by the same variable with _FILE appended (mounted secrets).
func LoadWorker(path string, opts ...LoadOption) (Worker, error) {
	v, errs, err := newViper(path, settings, opts...)
	if err != nil {
		return Worker{}, err
	}
	v.SetDefault("log.level", "info")
	for _, k := range workerKeys {
		_ = v.BindEnv(k)
	}
	errs = append(errs, checkRateLimits(v, orEnv(path))...)
	var w Worker
	if err := v.Unmarshal(&w); err != nil {
		return Worker{}, fmt.Errorf("config %s: %s", orEnv(path), oneLine(err.Error()))
	}
	if w.DCRTokens == nil {
		w.DCRTokens = map[string]string{}
	}
	unreadable := map[string]bool{} // a _FILE that failed: say so, not "not set" too
	for _, s := range []struct {
		env string
		dst *string
	}{{"OKTA_TOKEN", &w.Okta.Token}, {"KONNECT_TOKEN", &w.Konnect.Token}} {
		if err := fromFile(EnvPrefix+"_"+s.env+"_FILE", s.dst); err != nil {
			errs = append(errs, err)
			unreadable[s.env] = true
		}
	}
	errs = append(errs, w.Okta.loadAuth(orEnv(path))...)
	tokens, tokErrs := envSecrets(dcrTokenEnv)
	errs = append(errs, tokErrs...)
	src := orEnv(path)
	errs = append(errs, outOfPlace(src, w.tokenNames(tokens)...)...)
	errs = append(errs, normalizeTokens(&w, tokens, src)...)
	errs = append(errs, checkNextTokens(w.DCRTokens, src)...)
	errs = append(errs, w.Rotation.check(src)...)
	errs = append(errs, w.Temporal.load(src)...)
	errs = append(errs, w.Codec.load(src)...)
	errs = append(errs, w.check(src, unreadable)...)
	errs = append(errs, outOfPlace(src, w.plain()...)...)
	errs = append(errs, w.Log.check(src)...)
	if err := w.Metrics.Check(); err != nil {
		errs = append(errs, fmt.Errorf("config %s: %v", src, err))
	}
	if len(errs) > 0 {
		return Worker{}, errors.Join(errs...)
	}
	w.Warnings = append(append(w.Temporal.warnings(), w.Metrics.warnings()...), envNearMisses(os.Environ())...)
	return w, nil
}

// normalizeTokens keys the worker's DCR tokens by their one normal form
// (dcrflow.DCRTokenName), as onboarding files name them: the file's keys, then the
// environment's (which win). Two file keys with one normal form are refused.
func normalizeTokens(w *Worker, fromEnv map[string]string, src string) []error {
	var errs []error
	out := make(map[string]string, len(w.DCRTokens)+len(fromEnv))
	seen := map[string]string{}
	for _, k := range w.DCRTokenNames() {
		n := dcrflow.DCRTokenName(k)
		if other, dup := seen[n]; dup {
			errs = append(errs, fmt.Errorf("config %s: dcr_tokens.%s and dcr_tokens.%s are one token name (%s): keep one", src, other, k, n))
			continue
		}
		seen[n], out[n] = k, w.DCRTokens[k]
	}
	for k, v := range fromEnv {
		out[dcrflow.DCRTokenName(k)] = v
	}
	w.DCRTokens = out
	return errs
}

// envSecrets collects PREFIX<NAME>=value and PREFIX<NAME>_FILE=path variables into
// name → value, the name lowercased with '_' as '-'. Names in skip are left alone.
func envSecrets(prefix string, skip ...string) (map[string]string, []error) {
	out := map[string]string{}
	var errs []error
	for _, kv := range os.Environ() {
		env, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(env, prefix) || slices.Contains(skip, strings.TrimPrefix(env, prefix)) {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(env, prefix))
		if strings.HasSuffix(key, "_file") {
			key = strings.TrimSuffix(key, "_file")
			val = ""
			if err := fromFile(env, &val); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		out[strings.ReplaceAll(key, "_", "-")] = val
	}
	return out, errs
}

// fromFile sets *dst to the trimmed content of the file named by $env, if set: a
// regular file of at most readfile.Secret's limit.
func fromFile(env string, dst *string) error {
	path := os.Getenv(env)
	if path == "" {
		return nil
	}
	b, err := readfile.Read(path, readfile.Secret)
	if err != nil {
		return fmt.Errorf("%s %s", env, oneLine(err.Error()))
	}
	*dst = strings.TrimSpace(string(b))
	return nil
}

// check says, before any client is built, what the Okta and Konnect clients would
// refuse, naming the setting and its variable.
func (w Worker) check(src string, unreadable map[string]bool) []error {
	var errs []error
	need := func(val, key, env string) {
		if val == "" && !unreadable[env] {
			errs = append(errs, fmt.Errorf("config %s: %s is not set; set it in the file or as %s_%s (or %s_%s_FILE)", src, key, EnvPrefix, env, EnvPrefix, env))
		}
	}
	if w.Okta.OrgURL == "" {
		errs = append(errs, fmt.Errorf("config %s: okta.org_url is not set; set it in the file or as %s_OKTA_ORG_URL (e.g. https://acme.okta.com)", src, EnvPrefix))
	}
	if w.Okta.authMode() == "ssws" {
		need(w.Okta.Token, "okta.token", "OKTA_TOKEN")
	}
	errs = append(errs, w.Okta.checkOAuth(src)...)
	need(w.Konnect.Token, "konnect.token", "KONNECT_TOKEN")
	if t := w.Konnect.Token; t != "" && !strings.HasPrefix(t, "kpat_") && !strings.HasPrefix(t, "spat_") {
		errs = append(errs, fmt.Errorf("config %s: konnect.token (%s_KONNECT_TOKEN) must be a personal (kpat_…) or system account (spat_…) access token", src, EnvPrefix))
	}
	if w.Konnect.Region == "" && w.Konnect.BaseURL == "" {
		errs = append(errs, fmt.Errorf("config %s: konnect.region or konnect.base_url is required (e.g. region: us, or %s_KONNECT_REGION=us)", src, EnvPrefix))
	}
	if r := strings.ToLower(strings.TrimSpace(w.Konnect.Region)); r != "" && w.Konnect.BaseURL == "" && !slices.Contains(konnect.Regions, r) {
		errs = append(errs, fmt.Errorf("config %s: konnect.region (%s_KONNECT_REGION) %s is not a Konnect region (one of %s)", src, EnvPrefix, show(w.Konnect.Region), strings.Join(konnect.Regions, ", ")))
	}
	if w.Okta.OrgURL != "" {
		if err := checkURL(w.Okta.OrgURL, "https://acme.okta.com"); err != nil {
			errs = append(errs, fmt.Errorf("config %s: okta.org_url (%s_OKTA_ORG_URL) %v", src, EnvPrefix, err))
		}
	}
	if w.Konnect.BaseURL != "" {
		if err := checkURL(w.Konnect.BaseURL, "https://eu.api.konghq.com"); err != nil {
			errs = append(errs, fmt.Errorf("config %s: konnect.base_url (%s_KONNECT_BASE_URL) %v", src, EnvPrefix, err))
		}
	}
	if len(w.DCRTokens) == 0 {
		errs = append(errs, fmt.Errorf("config %s: dcr_tokens is empty; name at least one Okta DCR token (dcr_tokens: {default: ...} or %sDEFAULT)", src, dcrTokenEnv))
	}
	for _, name := range w.DCRTokenNames() {
		if w.DCRTokens[name] == "" {
			errs = append(errs, fmt.Errorf("config %s: dcr_tokens.%s (%s) is empty", src, textsafe.Clip(name), dcrflow.DCRTokenEnv(name)))
		}
	}
	return errs
}

// checkURL accepts an absolute https URL without user info, query or fragment, and
// plain http only to a loopback host — what the Okta and Konnect clients accept.
func checkURL(raw, example string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%s is not an absolute https URL (e.g. %s)", show(raw), example)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s must not carry user info, a query or a fragment (e.g. %s)", show(raw), example)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("%s: plain http is allowed only to a loopback host; use https", show(raw))
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
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

// oneLine keeps a message of a library on one line, any secret hidden, cut short.
func oneLine(s string) string { return textsafe.OneLine(s) }

// show quotes a value of a setting for a message: clipped, any secret hidden.
func show(s string) string { return textsafe.Quote(s) }
