package konnect

import (
	"context"
	"encoding/json"
	"net/url"
	"time"
)

// AuthStrategy is an application auth strategy. OIDC is set for openid_connect
// strategies.
type AuthStrategy struct {
	ID           string                     `json:"id"`
	Name         string                     `json:"name"`
	DisplayName  string                     `json:"display_name"`
	StrategyType string                     `json:"strategy_type"`
	Configs      map[string]json.RawMessage `json:"configs"`
	OIDC         *OIDCConfig                `json:"-"`
	DCRProvider  *DCRProviderRef            `json:"dcr_provider"`
	Active       bool                       `json:"active"` // a publication uses it
	Labels       map[string]string          `json:"labels"`
	CreatedAt    time.Time                  `json:"created_at"`
	UpdatedAt    time.Time                  `json:"updated_at"`
}

// OIDCConfig is configs["openid-connect"] (its other properties stay in Configs).
type OIDCConfig struct {
	Issuer          string   `json:"issuer"`
	CredentialClaim []string `json:"credential_claim"`
	Scopes          []string `json:"scopes"`
	AuthMethods     []string `json:"auth_methods"`
}

// DCRProviderRef is the provider an auth strategy is bound to.
type DCRProviderRef struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	DisplayName  string `json:"display_name,omitempty"`
	ProviderType string `json:"provider_type"`
}

// UnmarshalJSON decodes the strategy and its openid-connect configuration.
func (s *AuthStrategy) UnmarshalJSON(b []byte) error {
	type plain AuthStrategy
	if err := json.Unmarshal(b, (*plain)(s)); err != nil {
		return err
	}
	s.OIDC = nil
	if raw, ok := s.Configs["openid-connect"]; ok {
		var c OIDCConfig
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		s.OIDC = &c
	}
	return nil
}

// CreateOIDCStrategy is what CreateOIDC needs.
type CreateOIDCStrategy struct {
	Name            string
	DisplayName     string
	Issuer          string
	CredentialClaim []string
	Scopes          []string
	AuthMethods     []string
	DCRProviderID   string // optional: without it, no DCR
	Labels          map[string]string
}

// AuthStrategiesService handles /v2/application-auth-strategies.
type AuthStrategiesService service

const strategiesPath = "/v2/application-auth-strategies"

// FindByName returns the strategy with exactly this name, nil when there is none,
// or an error wrapping ErrAmbiguous when several share it.
func (s *AuthStrategiesService) FindByName(ctx context.Context, name string) (*AuthStrategy, error) {
	return findOne(ctx, s.client, "list-app-auth-strategies", strategiesPath, "auth strategy", name,
		func(a AuthStrategy) string { return a.Name })
}

// ListOIDC returns every openid_connect strategy (the API filters by type but not by
// issuer or claim, so callers filter those themselves). Its cost grows with the org:
// prefer ListByProvider, or EachOIDC to heartbeat between pages.
func (s *AuthStrategiesService) ListOIDC(ctx context.Context) ([]AuthStrategy, error) {
	var all []AuthStrategy
	err := s.EachOIDC(ctx, func(page []AuthStrategy) error {
		all = append(all, page...)
		return nil
	})
	return all, err
}

// EachOIDC hands fn every openid_connect strategy, a page (up to 100) at a time, as
// the pages arrive: a long listing can heartbeat between pages, and fn may stop it
// early by returning an error (which EachOIDC returns).
func (s *AuthStrategiesService) EachOIDC(ctx context.Context, fn func([]AuthStrategy) error) error {
	return eachPage(ctx, s.client, "list-app-auth-strategies", strategiesPath,
		url.Values{"filter[strategy_type][eq]": {"openid_connect"}}, fn)
}

// ListByProvider returns the strategies bound to one DCR provider, filtered by the
// server (filter[dcr_provider_id]): its cost does not grow with the org.
func (s *AuthStrategiesService) ListByProvider(ctx context.Context, providerID string) ([]AuthStrategy, error) {
	const op = "list-app-auth-strategies"
	if err := requireID(op, "DCR provider id", providerID); err != nil {
		return nil, err
	}
	return listAll[AuthStrategy](ctx, s.client, op, strategiesPath, url.Values{"filter[dcr_provider_id][eq]": {providerID}})
}

// Get returns one strategy; a missing one is an *Error with IsNotFound.
func (s *AuthStrategiesService) Get(ctx context.Context, id string) (*AuthStrategy, error) {
	const op = "get-app-auth-strategy"
	if err := requireID(op, "id", id); err != nil {
		return nil, err
	}
	var a AuthStrategy
	if err := s.client.do(ctx, call{op: op, method: "GET", path: strategiesPath + "/" + escape(id), out: &a}); err != nil {
		return nil, err
	}
	return &a, nil
}

// CreateOIDC creates an openid_connect strategy. A taken name answers 409
// (IsConflict).
func (s *AuthStrategiesService) CreateOIDC(ctx context.Context, in CreateOIDCStrategy) (*AuthStrategy, error) {
	orEmpty := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	body := struct {
		Name          string                `json:"name"`
		DisplayName   string                `json:"display_name"`
		StrategyType  string                `json:"strategy_type"`
		Configs       map[string]OIDCConfig `json:"configs"`
		DCRProviderID string                `json:"dcr_provider_id,omitempty"`
		Labels        map[string]string     `json:"labels,omitempty"`
	}{
		Name: in.Name, DisplayName: in.DisplayName, StrategyType: "openid_connect",
		Configs: map[string]OIDCConfig{"openid-connect": {
			Issuer: in.Issuer, CredentialClaim: orEmpty(in.CredentialClaim), Scopes: orEmpty(in.Scopes), AuthMethods: orEmpty(in.AuthMethods),
		}},
		DCRProviderID: in.DCRProviderID, Labels: in.Labels,
	}
	var a AuthStrategy
	if err := s.client.do(ctx, call{op: "create-app-auth-strategy", method: "POST", path: strategiesPath, in: body, out: &a}); err != nil {
		return nil, err
	}
	return &a, nil
}

// Delete removes a strategy; one still in use answers 409 (IsConflict).
func (s *AuthStrategiesService) Delete(ctx context.Context, id string) error {
	const op = "delete-app-auth-strategy"
	if err := requireID(op, "id", id); err != nil {
		return err
	}
	return s.client.do(ctx, call{op: op, method: "DELETE", path: strategiesPath + "/" + escape(id)})
}
