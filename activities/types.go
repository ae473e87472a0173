package activities

import "github.com/dcrflow/dcrflow"

// Targets are the resolved ids of what a portal's spec names (step 1).
type Targets struct {
	AuthServerID string        `json:"auth_server_id"`
	Issuer       string        `json:"issuer"`
	PortalID     string        `json:"portal_id"`
	APIs         []ResolvedAPI `json:"apis"`
}

// ResolvedAPI is an API of the spec with its Konnect id.
type ResolvedAPI struct {
	ID   string          `json:"id"`
	Spec dcrflow.APISpec `json:"spec"`
}

// ScopeInput ensures one custom scope.
type ScopeInput struct {
	AuthServerID string            `json:"auth_server_id"`
	Scope        dcrflow.ScopeSpec `json:"scope"`
	PortalKey    string            `json:"portal_key"`
}

// ScopesInput ensures a portal's custom scopes on one server.
type ScopesInput struct {
	AuthServerID string              `json:"auth_server_id"`
	Scopes       []dcrflow.ScopeSpec `json:"scopes"`
	PortalKey    string              `json:"portal_key"`
}

// ClaimInput ensures the client-id claim.
type ClaimInput struct {
	AuthServerID string `json:"auth_server_id"`
	Name         string `json:"name"`
	PortalKey    string `json:"portal_key,omitempty"` // empty from runs that predate the usage record
}

// OktaResourceInput names an Okta resource to delete.
type OktaResourceInput struct {
	AuthServerID string `json:"auth_server_id"`
	ID           string `json:"id"`
	Name         string `json:"name"`
	Issuer       string `json:"issuer,omitempty"` // for claims: whose strategies may still use it
}

// UndoResult says what an undo did when it may rightly keep a resource.
type UndoResult struct {
	Kept   bool   `json:"kept"`
	Reason string `json:"reason,omitempty"`
}

// ProviderInput ensures the Konnect DCR provider. TokenName names a worker secret.
type ProviderInput struct {
	Name      string            `json:"name"`
	Issuer    string            `json:"issuer"`
	TokenName string            `json:"token_name"`
	PortalKey string            `json:"portal_key"`
	Labels    map[string]string `json:"labels,omitempty"` // the portal's, beside dcrflow's ownership labels
}

// StrategyInput ensures the OIDC auth strategy bound to the provider.
type StrategyInput struct {
	Strategy   dcrflow.StrategySpec `json:"strategy"`
	Issuer     string               `json:"issuer"`
	Scopes     []string             `json:"scopes"`
	ClaimName  string               `json:"claim_name"`
	ProviderID string               `json:"provider_id"`
	PortalKey  string               `json:"portal_key"`
	Labels     map[string]string    `json:"labels,omitempty"` // the portal's, beside dcrflow's ownership labels
}

// KonnectResourceInput names a Konnect resource to delete or verify.
type KonnectResourceInput struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Publication is a publication's settings, as saved before a change.
type Publication struct {
	AuthStrategyIDs []string `json:"auth_strategy_ids"`
	Visibility      string   `json:"visibility"`
	AutoApprove     bool     `json:"auto_approve"`
}

// PublishInput publishes one API on the portal with the strategy.
type PublishInput struct {
	PortalKey   string `json:"portal_key,omitempty"` // empty from runs that predate the usage record
	APIID       string `json:"api_id"`
	APIName     string `json:"api_name"`
	PortalID    string `json:"portal_id"`
	StrategyID  string `json:"strategy_id"`
	Visibility  string `json:"visibility"`
	AutoApprove bool   `json:"auto_approve"`
}

// PublishResult says what publishing did and what was there before.
type PublishResult struct {
	Resource dcrflow.Resource `json:"resource"`
	// Previous is the publication before this run changed it; nil when there was none.
	Previous *Publication `json:"previous,omitempty"`
}

// RestoreInput puts a publication back as it was (Previous nil: unpublish).
type RestoreInput struct {
	APIID    string       `json:"api_id"`
	APIName  string       `json:"api_name"`
	PortalID string       `json:"portal_id"`
	Previous *Publication `json:"previous,omitempty"`
}

// ValidateInput checks DCR end to end with the portal's settings.
type ValidateInput struct {
	PortalKey string   `json:"portal_key"`
	Issuer    string   `json:"issuer"`
	Scopes    []string `json:"scopes"`
	ClaimName string   `json:"claim_name"`
	TokenName string   `json:"token_name"`
}
