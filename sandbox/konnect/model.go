package konnect

import "time"

// The types below are the resources as the API returns them (and as State shows
// them). Secrets are never part of them.

// DCRProvider is a DCR provider; its dcr_config is always empty because the DCR token
// is write-only.
type DCRProvider struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	DisplayName  string            `json:"display_name,omitempty"`
	ProviderType string            `json:"provider_type"`
	Issuer       string            `json:"issuer"`
	Active       bool              `json:"active"` // a strategy uses it
	DCRConfig    struct{}          `json:"dcr_config"`
	Labels       map[string]string `json:"labels,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// DCRProviderRef is the provider summary nested in an auth strategy.
type DCRProviderRef struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	DisplayName  string `json:"display_name,omitempty"`
	ProviderType string `json:"provider_type"`
}

// Principals is an auth strategy's application-principal setting.
type Principals struct {
	Enabled bool `json:"enabled"`
}

// AuthStrategy is an application auth strategy (openid_connect or key_auth).
type AuthStrategy struct {
	ID                          string            `json:"id"`
	Name                        string            `json:"name"`
	DisplayName                 string            `json:"display_name"`
	StrategyType                string            `json:"strategy_type"`
	Configs                     map[string]any    `json:"configs"`
	Active                      bool              `json:"active"` // a publication uses it
	DCRProvider                 *DCRProviderRef   `json:"dcr_provider"`
	Labels                      map[string]string `json:"labels"`
	CreatedAt                   time.Time         `json:"created_at"`
	UpdatedAt                   time.Time         `json:"updated_at"`
	SupportsMultipleCredentials bool              `json:"supports_multiple_credentials"`
	Principals                  Principals        `json:"principals"`
}

// Portal is a developer portal with every field the list and get answers require.
type Portal struct {
	ID                               string            `json:"id"`
	Name                             string            `json:"name"`
	DisplayName                      string            `json:"display_name"`
	Description                      *string           `json:"description"`
	AuthenticationEnabled            bool              `json:"authentication_enabled"`
	RBACEnabled                      bool              `json:"rbac_enabled"`
	SIPREnabled                      bool              `json:"sipr_enabled"`
	DefaultAPIVisibility             string            `json:"default_api_visibility"`
	DefaultPageVisibility            string            `json:"default_page_visibility"`
	DefaultApplicationAuthStrategyID *string           `json:"default_application_auth_strategy_id"`
	AutoApproveDevelopers            bool              `json:"auto_approve_developers"`
	AutoApproveApplications          bool              `json:"auto_approve_applications"`
	DefaultDomain                    string            `json:"default_domain"`
	CanonicalDomain                  string            `json:"canonical_domain"`
	Labels                           map[string]string `json:"labels"`
	NotificationsPIIVisibility       bool              `json:"notifications_developer_pii_visibility_enabled"`
	CreatedAt                        time.Time         `json:"created_at"`
	UpdatedAt                        time.Time         `json:"updated_at"`
}

// PortalRef is the portal summary nested in an API.
type PortalRef struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// API is an API of the catalog; Portals lists where it is published.
type API struct {
	ID                    string              `json:"id"`
	Name                  string              `json:"name"`
	Description           *string             `json:"description"`
	Version               *string             `json:"version"`
	CurrentVersionSummary *struct{}           `json:"current_version_summary"` // always null: no specs in the sandbox
	Slug                  *string             `json:"slug"`
	APISpecIDs            []string            `json:"api_spec_ids"`
	Portals               []PortalRef         `json:"portals"`
	Labels                map[string]string   `json:"labels"`
	Attributes            map[string][]string `json:"attributes"`
	CreatedAt             time.Time           `json:"created_at"`
	UpdatedAt             time.Time           `json:"updated_at"`
}

// Publication is an API's publication in a portal, in the list-item shape.
type Publication struct {
	APIID                    string    `json:"api_id"`
	PortalID                 string    `json:"portal_id"`
	AutoApproveRegistrations bool      `json:"auto_approve_registrations"`
	EntityType               string    `json:"entity_type"`
	Visibility               string    `json:"visibility"`
	AuthStrategyIDs          []string  `json:"auth_strategy_ids"` // null: no application auth
	Warnings                 []string  `json:"warnings"`
	CreatedAt                time.Time `json:"created_at"`
	UpdatedAt                time.Time `json:"updated_at"`
}

// publicationBody is the single-publication answer (no ids: they are in the path).
type publicationBody struct {
	AutoApproveRegistrations bool      `json:"auto_approve_registrations"`
	AuthStrategyIDs          []string  `json:"auth_strategy_ids"`
	Visibility               string    `json:"visibility"`
	Warnings                 []string  `json:"warnings"`
	CreatedAt                time.Time `json:"created_at"`
	UpdatedAt                time.Time `json:"updated_at"`
}

// State is the snapshot State returns: every resource, no token.
type State struct {
	DCRProviders   []DCRProvider  `json:"dcr_providers"`
	AuthStrategies []AuthStrategy `json:"auth_strategies"`
	Publications   []Publication  `json:"publications"`
	Portals        []Portal       `json:"portals"`
	APIs           []API          `json:"apis"`
}
