package konnect

import (
	"encoding/json"
	"time"
)

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

// Developer is a portal developer (spec PortalDeveloper).
type Developer struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	FullName  string    `json:"full_name"`
	Status    string    `json:"status"` // approved, pending, revoked or rejected
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Team is a portal developer team (spec PortalTeamResponse).
type Team struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	Description        string    `json:"description"`
	CanOwnApplications bool      `json:"can_own_applications"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// Credential types of an application's auth strategy (spec
// AuthStrategyClientCredentials, AuthStrategyKeyAuth).
const (
	CredentialClientCredentials   = "client_credentials"              // openid_connect with a DCR provider
	CredentialSelfManagedClientID = "self_managed_client_credentials" // openid_connect without one
	CredentialKeyAuth             = "key_auth"
)

// AppAuthStrategy is the strategy summary in an application.
type AppAuthStrategy struct {
	ID             string
	Name           string
	CredentialType string
	AuthMethods    []string // client credentials kinds
	KeyNames       []string // key_auth
}

// AppOwner is who owns an application: a developer or a team of its portal.
type AppOwner struct {
	Type string `json:"type"` // developer or team
	ID   string `json:"id"`
}

// Application is a portal application. It is written as the spec's
// ClientCredentialsApplication (openid_connect strategies) or KeyAuthApplication.
// No client secret is ever part of it.
type Application struct {
	ID                string
	Name              string
	Description       *string
	Labels            map[string]string
	ClientID          string // the IdP client (DCR) or the correlation id (self-managed)
	RegistrationCount int
	DCRProviderID     string // "" when not DCR
	PortalID          string
	AuthStrategy      AppAuthStrategy
	GrantedScopes     []string // nil: unknown (null)
	Owner             AppOwner
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

type idOnly struct {
	ID string `json:"id"`
}

// MarshalJSON writes the application in the shape its credential type has.
func (a Application) MarshalJSON() ([]byte, error) {
	labels := a.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	if a.AuthStrategy.CredentialType == CredentialKeyAuth {
		type strategy struct {
			ID             string   `json:"id"`
			Name           string   `json:"name"`
			CredentialType string   `json:"credential_type"`
			KeyNames       []string `json:"key_names"`
		}
		return json.Marshal(struct {
			ID                string            `json:"id"`
			Name              string            `json:"name"`
			Description       *string           `json:"description"`
			Labels            map[string]string `json:"labels"`
			RegistrationCount int               `json:"registration_count"`
			Portal            idOnly            `json:"portal"`
			AuthStrategy      strategy          `json:"auth_strategy"`
			Owner             AppOwner          `json:"owner"`
			CreatedAt         time.Time         `json:"created_at"`
			UpdatedAt         time.Time         `json:"updated_at"`
		}{ID: a.ID, Name: a.Name, Description: a.Description, Labels: labels, RegistrationCount: a.RegistrationCount,
			Portal: idOnly{a.PortalID}, AuthStrategy: strategy{a.AuthStrategy.ID, a.AuthStrategy.Name, CredentialKeyAuth,
				nonNil(a.AuthStrategy.KeyNames)}, Owner: a.Owner, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt})
	}
	var provider *idOnly
	if a.DCRProviderID != "" {
		provider = &idOnly{a.DCRProviderID}
	}
	type strategy struct {
		ID             string   `json:"id"`
		Name           string   `json:"name"`
		CredentialType string   `json:"credential_type"`
		AuthMethods    []string `json:"auth_methods"`
	}
	return json.Marshal(struct {
		ID                string            `json:"id"`
		Name              string            `json:"name"`
		Description       *string           `json:"description"`
		Labels            map[string]string `json:"labels"`
		ClientID          string            `json:"client_id"`
		RegistrationCount int               `json:"registration_count"`
		DCRProvider       *idOnly           `json:"dcr_provider"`
		Portal            idOnly            `json:"portal"`
		AuthStrategy      strategy          `json:"auth_strategy"`
		GrantedScopes     []string          `json:"granted_scopes"`
		Owner             AppOwner          `json:"owner"`
		CreatedAt         time.Time         `json:"created_at"`
		UpdatedAt         time.Time         `json:"updated_at"`
	}{ID: a.ID, Name: a.Name, Description: a.Description, Labels: labels, ClientID: a.ClientID,
		RegistrationCount: a.RegistrationCount, DCRProvider: provider, Portal: idOnly{a.PortalID},
		AuthStrategy:  strategy{a.AuthStrategy.ID, a.AuthStrategy.Name, a.AuthStrategy.CredentialType, nonNil(a.AuthStrategy.AuthMethods)},
		GrantedScopes: a.GrantedScopes, Owner: a.Owner, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt})
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// State is the snapshot State returns: every resource, no token and no secret.
type State struct {
	DCRProviders   []DCRProvider  `json:"dcr_providers"`
	AuthStrategies []AuthStrategy `json:"auth_strategies"`
	Publications   []Publication  `json:"publications"`
	Portals        []Portal       `json:"portals"`
	APIs           []API          `json:"apis"`
	Developers     []Developer    `json:"developers"`
	Teams          []Team         `json:"teams"`
	Applications   []Application  `json:"applications"`
	// DCRTokenFingerprints names, by provider id, the DCR token each provider holds
	// (okta.Fingerprint: a hash, never the token), so tests can tell which it is on.
	DCRTokenFingerprints map[string]string `json:"dcr_token_fingerprints"`
}
