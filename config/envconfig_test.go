package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// isolate clears every DCRFLOW_ and TEMPORAL_ variable and points the default
// temporal.toml into the test's directory.
func isolate(t *testing.T) string {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "DCRFLOW_") || strings.HasPrefix(k, "TEMPORAL_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, ".config"))
	return dir
}

func TestLoadStarter_TemporalEnvironmentIsTheBaseLayer(t *testing.T) {
	isolate(t)
	s, err := LoadStarter("")
	if err != nil || s.Temporal.Address != "127.0.0.1:7233" || s.Temporal.Namespace != "default" || s.Log.Level != "warn" || s.Log.Format != "auto" {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	t.Setenv("TEMPORAL_ADDRESS", "temporal.example:7233")
	t.Setenv("TEMPORAL_NAMESPACE", "from-temporal")
	t.Setenv("TEMPORAL_API_KEY", "key-from-temporal")
	s, err = LoadStarter("")
	if err != nil || s.Temporal.Address != "temporal.example:7233" || s.Temporal.Namespace != "from-temporal" || s.Temporal.APIKey != "key-from-temporal" {
		t.Fatalf("TEMPORAL_*: %+v %v", s.Temporal, err)
	}
	// dcrflow's file over TEMPORAL_*, DCRFLOW_* over the file, flags over everything.
	file := writeFile(t, "dcrflow.yaml", "temporal: {namespace: from-file, address: file.example:7233}\n")
	t.Setenv("DCRFLOW_TEMPORAL_ADDRESS", "env.example:7233")
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.String("namespace", "", "")
	fs.String("address", "", "")
	if err := fs.Parse([]string{"--address", "flag.example:7233"}); err != nil {
		t.Fatal(err)
	}
	flags := WithFlags(map[string]*pflag.Flag{"temporal.namespace": fs.Lookup("namespace"), "temporal.address": fs.Lookup("address")})
	s, err = LoadStarter(file, flags)
	if err != nil || s.Temporal.Namespace != "from-file" || s.Temporal.Address != "flag.example:7233" || s.Temporal.APIKey != "key-from-temporal" {
		t.Fatalf("layers: %+v %v", s.Temporal, err)
	}
	s, err = LoadStarter(file)
	if err != nil || s.Temporal.Address != "env.example:7233" {
		t.Fatalf("DCRFLOW_ over the file: %+v %v", s.Temporal, err)
	}
}

func TestLoadStarter_TemporalProfiles(t *testing.T) {
	dir := isolate(t)
	ca := writeFile(t, "ca.pem", "not a certificate")
	toml := filepath.Join(dir, "temporal.toml")
	os.WriteFile(toml, []byte(`[profile.default]
address = "default.example:7233"

[profile.cloud]
address = "ns.acct.tmprl.cloud:7233"
namespace = "ns.acct"
api_key = "cloud-key"

[profile.mtls]
address = "self.example:7233"
[profile.mtls.tls]
server_ca_cert_path = "`+ca+`"
server_name = "temporal.internal"
`), 0o600)
	t.Setenv("TEMPORAL_CONFIG_FILE", toml)
	s, err := LoadStarter("")
	if err != nil || s.Temporal.Address != "default.example:7233" {
		t.Fatalf("the default profile: %+v %v", s.Temporal, err)
	}
	s, err = LoadStarter("", WithTemporalProfile("cloud", ""))
	if err != nil || s.Temporal.Address != "ns.acct.tmprl.cloud:7233" || s.Temporal.Namespace != "ns.acct" || s.Temporal.APIKey != "cloud-key" {
		t.Fatalf("profile cloud: %+v %v", s.Temporal, err)
	}
	t.Setenv("TEMPORAL_PROFILE", "cloud")
	if s, err = LoadStarter(""); err != nil || s.Temporal.Namespace != "ns.acct" {
		t.Fatalf("TEMPORAL_PROFILE: %+v %v", s.Temporal, err)
	}
	// TLS from a profile reaches dcrflow's TLS settings (here: a CA file that is not PEM).
	_, err = LoadStarter("", WithTemporalProfile("mtls", ""))
	if err == nil || !strings.Contains(err.Error(), "temporal.tls.ca_file") || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("profile mtls: %v, want its CA file checked", err)
	}
	if _, err := LoadStarter("", WithTemporalProfile("nope", "")); err == nil || !strings.Contains(err.Error(), "unable to find profile nope") {
		t.Fatalf("missing profile: %v", err)
	}
	bad := writeFile(t, "bad.toml", "[profile.default\n")
	if _, err := LoadStarter("", WithTemporalProfile("", bad)); err == nil || !strings.Contains(err.Error(), "bad.toml") {
		t.Fatalf("broken toml: %v", err)
	}
	// The worker takes the same base layer.
	t.Setenv("TEMPORAL_PROFILE", "")
	w, err := LoadWorker("", WithTemporalProfile("cloud", ""))
	if w.Temporal.Address != "" && w.Temporal.Address != "ns.acct.tmprl.cloud:7233" {
		t.Fatalf("worker: %+v", w.Temporal)
	}
	if err == nil || strings.Contains(err.Error(), "temporal.address") {
		t.Fatalf("worker with profile cloud: want only its Okta/Konnect settings missing: %v", err)
	}
}

func TestLoadStarter_LogSettings(t *testing.T) {
	isolate(t)
	t.Setenv("DCRFLOW_LOG_LEVEL", "DEBUG")
	t.Setenv("DCRFLOW_LOG_FORMAT", "json")
	s, err := LoadStarter("")
	if err != nil || s.Log.Level != "debug" || s.Log.Format != "json" {
		t.Fatalf("%+v %v", s.Log, err)
	}
	t.Setenv("DCRFLOW_LOG_LEVEL", "loud")
	t.Setenv("DCRFLOW_LOG_FORMAT", "yaml")
	_, err = LoadStarter("")
	if err == nil || !strings.Contains(err.Error(), "log.level (DCRFLOW_LOG_LEVEL)") || !strings.Contains(err.Error(), "log.format (DCRFLOW_LOG_FORMAT)") {
		t.Fatalf("bad log settings: %v", err)
	}
}
