package okta

import (
	"net/http"
	"strings"
	"testing"
)

func TestDCR_RegisterGetDelete(t *testing.T) {
	t.Parallel()
	h := start(t)
	r := h.call(http.MethodPost, "/oauth2/v1/clients", DefaultDCRToken, map[string]any{
		"client_name": "svc", "application_type": "service", "grant_types": []string{"client_credentials"},
		"response_types": []string{"token"}, "token_endpoint_auth_method": "client_secret_basic"})
	if r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	var c clientJSON
	r.decode(t, &c)
	if !strings.HasPrefix(c.ClientID, "0oa") || len(c.ClientID) != 20 || c.ClientSecret == nil || len(*c.ClientSecret) < 32 ||
		c.ClientSecretExpiresAt == nil || *c.ClientSecretExpiresAt != 0 || c.ClientIDIssuedAt == 0 ||
		c.ApplicationType != "service" || c.GrantTypes[0] != "client_credentials" {
		t.Fatalf("registered: %s", r.body)
	}
	if r.header.Get("X-Rate-Limit-Limit") == "" {
		t.Error("DCR answer without rate-limit headers")
	}
	r = h.call(http.MethodGet, "/oauth2/v1/clients/"+c.ClientID, DefaultDCRToken, nil)
	if r.status != http.StatusOK || strings.Contains(string(r.body), "client_secret\"") {
		t.Errorf("get: %d %s", r.status, r.body)
	}
	if r := h.call(http.MethodDelete, "/oauth2/v1/clients/"+c.ClientID, DefaultDCRToken, nil); r.status != http.StatusNoContent {
		t.Errorf("delete: %d", r.status)
	}
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		r := h.call(method, "/oauth2/v1/clients/"+c.ClientID, DefaultDCRToken, nil)
		if r.status != http.StatusNotFound || r.oktaErr(t).ErrorCode != "E0000007" {
			t.Errorf("%s after delete: %d %s", method, r.status, r.body)
		}
	}
}

func TestDCR_RejectsInvalidMetadata(t *testing.T) {
	t.Parallel()
	h := start(t)
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"no name", map[string]any{"application_type": "service", "grant_types": []string{"client_credentials"}},
			"`client_name`: The field can't be left blank."},
		{"service with code", map[string]any{"client_name": "x", "application_type": "service", "grant_types": []string{"authorization_code"}},
			"`grant_types`"},
		{"web without redirect", map[string]any{"client_name": "x"}, "`redirect_uris`"},
		{"unknown type", map[string]any{"client_name": "x", "application_type": "robot"}, "`application_type`"},
		{"service without auth", map[string]any{"client_name": "x", "application_type": "service",
			"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "none"}, "`token_endpoint_auth_method`"},
	} {
		r := h.offSpec().call(http.MethodPost, "/oauth2/v1/clients", DefaultDCRToken, tc.body)
		if r.status != http.StatusBadRequest {
			t.Fatalf("%s: %d %s", tc.name, r.status, r.body)
		}
		if e := r.oauthErr(t); e.Error != "invalid_client_metadata" || !strings.Contains(e.Description, tc.want) {
			t.Errorf("%s: %+v", tc.name, e)
		}
	}
}

func TestDCR_OnlyDCRTokensAreAccepted(t *testing.T) {
	t.Parallel()
	h := start(t)
	body := map[string]any{"client_name": "x", "application_type": "service", "grant_types": []string{"client_credentials"}}
	for _, token := range []string{"", "00wrong", DefaultManagementToken} {
		r := h.offSpec().call(http.MethodPost, "/oauth2/v1/clients", token, body) // the spec lists no 401
		if r.status != http.StatusUnauthorized || r.oktaErr(t).ErrorCode != "E0000011" {
			t.Errorf("token %.6q: %d %s", token, r.status, r.body)
		}
	}
	if got := len(h.em.Snapshot().Clients); got != 0 {
		t.Errorf("%d clients registered without a DCR token", got)
	}
}
