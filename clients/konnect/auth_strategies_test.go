package konnect

import (
	"errors"
	"fmt"
	"testing"
)

func createDCRStrategy(t *testing.T, c *Client, name, providerID string) *AuthStrategy {
	t.Helper()
	s, err := c.AuthStrategies.CreateOIDC(ctx(t), CreateOIDCStrategy{
		Name: name, DisplayName: "Client credentials", Issuer: "https://example.okta.com/oauth2/default",
		CredentialClaim: []string{"client_id"}, Scopes: []string{"payments:read"}, AuthMethods: []string{"client_credentials", "bearer"},
		DCRProviderID: providerID, Labels: map[string]string{"managed-by": "tests"},
	})
	if err != nil {
		t.Fatalf("CreateOIDC %q: %v", name, err)
	}
	return s
}

func TestAuthStrategiesService_Lifecycle(t *testing.T) {
	t.Parallel()
	c, env := setup(t)
	ctx := ctx(t)
	p, err := c.DCRProviders.CreateOkta(ctx, oktaProvider(env, "okta-dcr"))
	if err != nil {
		t.Fatal(err)
	}
	s := createDCRStrategy(t, c, "dcr-strategy", p.ID)
	if s.ID == "" || s.StrategyType != "openid_connect" || s.DCRProvider == nil || s.DCRProvider.ID != p.ID || s.Labels["managed-by"] != "tests" {
		t.Fatalf("created %+v", s)
	}
	if s.OIDC == nil || s.OIDC.Issuer != "https://example.okta.com/oauth2/default" || len(s.OIDC.AuthMethods) != 2 || s.OIDC.CredentialClaim[0] != "client_id" {
		t.Fatalf("oidc config %+v", s.OIDC)
	}
	got, err := c.AuthStrategies.Get(ctx, s.ID)
	if err != nil || got.ID != s.ID || got.OIDC == nil || got.OIDC.Scopes[0] != "payments:read" || got.DCRProvider.Name != "okta-dcr" {
		t.Fatalf("Get: %+v, %v", got, err)
	}
	if err := c.AuthStrategies.Delete(ctx, s.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := c.AuthStrategies.Get(ctx, s.ID); !IsNotFound(err) {
		t.Fatalf("Get after delete: %v", err)
	}
}

func TestAuthStrategiesService_FindByName(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	for _, n := range []string{"dcr", "dcr-strategy", "dcr-strategy-2", "DCR-STRATEGY"} {
		createDCRStrategy(t, c, n, "")
	}
	s, err := c.AuthStrategies.FindByName(ctx(t), "dcr-strategy")
	if err != nil || s == nil || s.Name != "dcr-strategy" {
		t.Fatalf("FindByName: %+v, %v", s, err)
	}
	s, err = c.AuthStrategies.FindByName(ctx(t), "missing")
	if err != nil || s != nil {
		t.Fatalf("FindByName of a missing name: %+v, %v", s, err)
	}
}

func TestAuthStrategiesService_DeleteInUseConflicts(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	ctx := ctx(t)
	s := createDCRStrategy(t, c, "in-use", "")
	api, portal := "7ca41f1f-6617-4008-9106-c557082c1085", "0bc10ef8-9aa8-4f5d-8809-725879776653"
	if _, err := c.Publications.Put(ctx, api, portal, Publication{AuthStrategyIDs: []string{s.ID}}); err != nil {
		t.Fatal(err)
	}
	err := c.AuthStrategies.Delete(ctx, s.ID)
	var e *Error
	if !IsConflict(err) || !errors.As(err, &e) || e.Title != "Conflict" || e.Temporary() {
		t.Fatalf("Delete in use: %v", err)
	}
	got, err := c.AuthStrategies.Get(ctx, s.ID)
	if err != nil || !got.Active {
		t.Fatalf("strategy after refused delete: %+v, %v", got, err)
	}
}

func TestAuthStrategiesService_ListOIDCFollowsPages(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	const n = 105 // more than one page of 100
	for i := range n {
		createDCRStrategy(t, c, fmt.Sprintf("oidc-%03d", i), "")
	}
	got, err := c.AuthStrategies.ListOIDC(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range got {
		if s.StrategyType != "openid_connect" || s.OIDC == nil || s.OIDC.CredentialClaim[0] != "client_id" {
			t.Fatalf("listed %+v", s)
		}
		names[s.Name] = true
	}
	if len(names) < n || !names["oidc-000"] || !names["oidc-104"] {
		t.Fatalf("listed %d distinct strategies, want at least %d", len(names), n)
	}
}
