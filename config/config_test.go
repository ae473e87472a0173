package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadWorker_FileThenEnvironment(t *testing.T) {
	path := writeFile(t, "worker.yaml", `
temporal: {address: "10.0.0.1:7233", namespace: prod}
okta: {org_url: "https://acme.okta.com", token: from-file}
konnect: {region: eu, token: kpat_file}
dcr_tokens: {default: dcr-file}
`)
	t.Setenv("DCRFLOW_OKTA_TOKEN", "from-env")
	t.Setenv("DCRFLOW_DCR_TOKEN_PARTNERS", "dcr-env")
	secret := writeFile(t, "konnect-token", "kpat_from_secret_file\n")
	t.Setenv("DCRFLOW_KONNECT_TOKEN_FILE", secret)

	w, err := LoadWorker(path)
	if err != nil {
		t.Fatal(err)
	}
	if w.Temporal.Address != "10.0.0.1:7233" || w.Temporal.Namespace != "prod" || w.Temporal.TaskQueue != "dcrflow" {
		t.Errorf("temporal = %+v", w.Temporal)
	}
	if w.Okta.Token != "from-env" {
		t.Errorf("env did not win over the file: okta.token = %q", w.Okta.Token)
	}
	if w.Konnect.Token != "kpat_from_secret_file" || w.Konnect.Region != "eu" {
		t.Errorf("konnect = %+v", w.Konnect)
	}
	if w.DCRTokens["default"] != "dcr-file" || w.DCRTokens["partners"] != "dcr-env" {
		t.Errorf("dcr tokens = %v", w.DCRTokenNames())
	}
}

func TestLoadWorker_NamesEveryMissingSetting(t *testing.T) {
	path := writeFile(t, "w.yaml", "okta: {org_url: \"http://okta.example.com\"}\n")
	_, err := LoadWorker(path)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"okta.token", "DCRFLOW_OKTA_TOKEN", "konnect.token", "konnect.region or konnect.base_url",
		"dcr_tokens is empty", "plain http is allowed only to a loopback host", "w.yaml"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

func TestLoadStarter_ReadsNoSecrets(t *testing.T) {
	t.Setenv("DCRFLOW_TEMPORAL_ADDRESS", "127.0.0.1:9999")
	s, err := LoadStarter("")
	if err != nil {
		t.Fatal(err)
	}
	if s.Temporal.Address != "127.0.0.1:9999" || s.Temporal.Namespace != "default" {
		t.Fatalf("starter = %+v", s)
	}
}
