package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
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

// The worker's config check refuses, naming the setting, every URL the Okta and
// Konnect clients would refuse later — and accepts the ones they accept.
func TestLoadWorker_URLsCheckedAsTheClientsDo(t *testing.T) {
	for _, tc := range []struct {
		env, val, want string // want "" = accepted
	}{
		{"DCRFLOW_OKTA_ORG_URL", "https://acme.okta.com", ""},
		{"DCRFLOW_OKTA_ORG_URL", "http://127.0.0.1:8180", ""},
		{"DCRFLOW_OKTA_ORG_URL", "http://LOCALHOST:8180", ""},
		{"DCRFLOW_OKTA_ORG_URL", "http://acme.okta.com", "okta.org_url (DCRFLOW_OKTA_ORG_URL) \"http://acme.okta.com\": plain http is allowed only to a loopback host; use https"},
		{"DCRFLOW_OKTA_ORG_URL", "acme.okta.com", "okta.org_url (DCRFLOW_OKTA_ORG_URL) \"acme.okta.com\" is not an absolute https URL"},
		{"DCRFLOW_OKTA_ORG_URL", "ftp://acme.okta.com", "is not an absolute https URL"},
		{"DCRFLOW_OKTA_ORG_URL", "https://acme.okta.com/?x=1", "must not carry user info, a query or a fragment"},
		{"DCRFLOW_OKTA_ORG_URL", "https://user:pw@acme.okta.com", "must not carry user info"},
		{"DCRFLOW_KONNECT_BASE_URL", "https://eu.api.konghq.com", ""},
		{"DCRFLOW_KONNECT_BASE_URL", "http://[::1]:8181", ""},
		{"DCRFLOW_KONNECT_BASE_URL", "http://eu.api.konghq.com", "konnect.base_url (DCRFLOW_KONNECT_BASE_URL) \"http://eu.api.konghq.com\": plain http is allowed only to a loopback host"},
		{"DCRFLOW_KONNECT_BASE_URL", "://bad", "konnect.base_url (DCRFLOW_KONNECT_BASE_URL) \"://bad\" is not an absolute https URL"},
		{"DCRFLOW_KONNECT_REGION", "mars", "konnect.region (DCRFLOW_KONNECT_REGION) \"mars\" is not a Konnect region"},
		{"DCRFLOW_KONNECT_TOKEN", "not-a-pat", "konnect.token (DCRFLOW_KONNECT_TOKEN) must be a personal (kpat_…) or system account (spat_…) access token"},
	} {
		t.Run(tc.env+"="+tc.val, func(t *testing.T) {
			workerEnv(t)
			t.Setenv(tc.env, tc.val)
			w, err := LoadWorker("")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if _, err := okta.New(okta.Config{OrgURL: w.Okta.OrgURL, Token: w.Okta.Token}); err != nil {
					t.Errorf("config accepted what the Okta client refuses: %v", err)
				}
				if _, err := konnect.New(konnect.Config{Region: w.Konnect.Region, BaseURL: w.Konnect.BaseURL, Token: w.Konnect.Token}); err != nil {
					t.Errorf("config accepted what the Konnect client refuses: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("one problem, several lines: %q", err)
			}
		})
	}
}
