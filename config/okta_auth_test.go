package config

import (
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow/clients/okta"
)

const fakePEM = "-----BEGIN PRIVATE KEY-----\nMIIsecretkeymaterial\n-----END PRIVATE KEY-----\n"

func TestLoadWorker_OktaPrivateKeyModeFromEnvironment(t *testing.T) {
	path := writeFile(t, "w.yaml", "okta: {org_url: \"https://acme.okta.com\", auth_mode: private_key, client_id: 0oaSvc}\nkonnect: {region: eu, token: kpat_x}\ndcr_tokens: {default: d}\n")
	t.Setenv("DCRFLOW_OKTA_KEY_ID", "kid-9")
	t.Setenv("DCRFLOW_OKTA_PRIVATE_KEY_FILE", writeFile(t, "key.pem", fakePEM))
	t.Setenv("DCRFLOW_OKTA_SCOPES", "okta.authorizationServers.read okta.authorizationServers.manage")
	w, err := LoadWorker(path)
	if err != nil {
		t.Fatal(err)
	}
	c := w.Okta.ClientConfig()
	if c.AuthMode != okta.AuthPrivateKey || c.Token != "" || c.OAuth.ClientID != "0oaSvc" || c.OAuth.KeyID != "kid-9" ||
		string(c.OAuth.PrivateKey) != fakePEM || strings.Join(c.OAuth.Scopes, ",") != "okta.authorizationServers.read,okta.authorizationServers.manage" {
		t.Errorf("client config = %+v", c.OAuth.Scopes)
	}
}

func TestLoadWorker_OktaPrivateKeyModeNamesWhatIsMissing(t *testing.T) {
	path := writeFile(t, "w.yaml", "okta: {org_url: \"https://acme.okta.com\", auth_mode: private_key, token: 00ssws, scopes: [users.read]}\nkonnect: {region: eu, token: kpat_x}\ndcr_tokens: {default: d}\n")
	_, err := LoadWorker(path)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"okta.client_id", "DCRFLOW_OKTA_PRIVATE_KEY_FILE", "remove the SSWS token", `"users.read" is not an Okta API scope`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nlacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "okta.token is not set") {
		t.Errorf("private_key mode must not ask for okta.token: %v", err)
	}
	path = writeFile(t, "w2.yaml", "okta: {org_url: \"https://acme.okta.com\", auth_mode: bearer, token: t}\nkonnect: {region: eu, token: kpat_x}\ndcr_tokens: {default: d}\n")
	if _, err := LoadWorker(path); err == nil || !strings.Contains(err.Error(), "okta.auth_mode") {
		t.Errorf("unknown mode: %v", err)
	}
}

func TestLoadWorker_OktaKeyNeverInErrors(t *testing.T) {
	t.Setenv("DCRFLOW_OKTA_PRIVATE_KEY", fakePEM)
	path := writeFile(t, "w.yaml", "okta: {org_url: \"https://acme.okta.com\", auth_mode: private_key}\n")
	_, err := LoadWorker(path)
	if err == nil || strings.Contains(err.Error(), "secretkeymaterial") {
		t.Fatalf("err = %v", err)
	}
}
