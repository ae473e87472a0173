package konnect

import (
	"context"
	"time"
)

// DCRProvider is a Konnect DCR provider. Its DCR token is write-only: Konnect never
// returns it.
type DCRProvider struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	DisplayName  string            `json:"display_name,omitempty"`
	ProviderType string            `json:"provider_type"`
	Issuer       string            `json:"issuer"`
	Active       bool              `json:"active"` // an auth strategy uses it
	Labels       map[string]string `json:"labels,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// CreateOktaProvider is what CreateOkta needs.
type CreateOktaProvider struct {
	Name        string
	DisplayName string // optional
	Issuer      string // the authorization server's issuer, e.g. https://org.okta.com/oauth2/default
	DCRToken    string // an Okta SSWS API token allowed to register clients
	Labels      map[string]string
}

// VerifyResult is Konnect's verdict on a provider's configuration.
type VerifyResult struct {
	Status string   `json:"status"` // "success" or "failed"
	Errors []string `json:"errors"`
}

// OK reports a successful verification.
func (v *VerifyResult) OK() bool { return v != nil && v.Status == "success" }

// DCRProvidersService handles /v2/dcr-providers.
type DCRProvidersService service

const providersPath = "/v2/dcr-providers"

// FindByName returns the provider with exactly this name, nil when there is none,
// or an error wrapping ErrAmbiguous when several share it.
func (s *DCRProvidersService) FindByName(ctx context.Context, name string) (*DCRProvider, error) {
	return findOne(ctx, s.client, "list-dcr-providers", providersPath, "DCR provider", name,
		func(p DCRProvider) string { return p.Name })
}

// Get returns one provider; a missing one is an *Error with IsNotFound.
func (s *DCRProvidersService) Get(ctx context.Context, id string) (*DCRProvider, error) {
	const op = "get-dcr-provider"
	if err := requireID(op, "id", id); err != nil {
		return nil, err
	}
	var p DCRProvider
	if err := s.client.do(ctx, call{op: op, method: "GET", path: providersPath + "/" + escape(id), out: &p}); err != nil {
		return nil, err
	}
	return &p, nil
}

// CreateOkta creates an Okta DCR provider.
func (s *DCRProvidersService) CreateOkta(ctx context.Context, in CreateOktaProvider) (*DCRProvider, error) {
	body := struct {
		Name         string            `json:"name"`
		DisplayName  string            `json:"display_name,omitempty"`
		ProviderType string            `json:"provider_type"`
		Issuer       string            `json:"issuer"`
		DCRConfig    dcrConfig         `json:"dcr_config"`
		Labels       map[string]string `json:"labels,omitempty"`
	}{in.Name, in.DisplayName, "okta", in.Issuer, dcrConfig{in.DCRToken}, in.Labels}
	var p DCRProvider
	err := s.client.do(ctx, call{op: "create-dcr-provider", method: "POST", path: providersPath, in: body, out: &p, secrets: []string{in.DCRToken}})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

type dcrConfig struct {
	DCRToken string `json:"dcr_token"`
}

// UpdateToken replaces the provider's DCR token (rotation); nothing else changes.
func (s *DCRProvidersService) UpdateToken(ctx context.Context, id, token string) (*DCRProvider, error) {
	const op = "update-dcr-provider"
	if err := requireID(op, "id", id); err != nil {
		return nil, err
	}
	body := struct {
		DCRConfig dcrConfig `json:"dcr_config"`
	}{dcrConfig{token}}
	var p DCRProvider
	err := s.client.do(ctx, call{op: op, method: "PATCH", path: providersPath + "/" + escape(id), in: body, out: &p, secrets: []string{token}})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// Delete removes a provider.
func (s *DCRProvidersService) Delete(ctx context.Context, id string) error {
	const op = "delete-dcr-provider"
	if err := requireID(op, "id", id); err != nil {
		return err
	}
	return s.client.do(ctx, call{op: op, method: "DELETE", path: providersPath + "/" + escape(id)})
}

// Verify asks Konnect to check the provider against the identity provider. A
// failed check is a result (Status "failed" with Errors), not an error.
func (s *DCRProvidersService) Verify(ctx context.Context, id string) (*VerifyResult, error) {
	const op = "verify-dcr-provider"
	if err := requireID(op, "id", id); err != nil {
		return nil, err
	}
	var v VerifyResult
	if err := s.client.do(ctx, call{op: op, method: "POST", path: providersPath + "/" + escape(id) + "/verify", out: &v}); err != nil {
		return nil, err
	}
	return &v, nil
}
