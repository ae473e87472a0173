package okta

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// Tokens and server ids of the default seed. The tokens only look like Okta API
// tokens; they open nothing but this emulator.
const (
	DefaultManagementToken = "00sbxMgmtQ1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJ"
	DefaultDCRToken        = "00sbxDcrZ9x8C7v6B5n4M3l2K1j0HhGgFfDdSsAaQw"

	DefaultServerID  = "default"             // the org's built-in custom server
	PartnersServerID = "aus1partners0000000" // a second server with explicit rule scopes
	NoPolicyServerID = "aus1freeplan0000000" // no access policy, as on free-plan orgs
)

//go:embed default_seed.json
var defaultSeedJSON []byte

// Seed is the initial state of the org, loaded from a fixture file.
type Seed struct {
	// ManagementTokens are the SSWS tokens accepted on /api/v1.
	ManagementTokens []string `json:"management_tokens"`
	// ManagementTokenRoles are the admin role types (SUPER_ADMIN,
	// API_ACCESS_MANAGEMENT_ADMIN, …) of each management token's admin; a token not
	// named here is a super admin's.
	ManagementTokenRoles map[string][]string `json:"management_token_roles,omitempty"`
	// DCRTokens are the SSWS tokens accepted only on /oauth2/v1/clients.
	DCRTokens            []string     `json:"dcr_tokens"`
	AuthorizationServers []SeedServer `json:"authorization_servers"`
	// ServiceApps are API service apps for OAuth 2.0 for Okta (private_key_jwt):
	// their access tokens open /api/v1 as far as their scopes go.
	ServiceApps []SeedServiceApp `json:"service_apps,omitempty"`
}

// SeedServer is a custom authorization server.
type SeedServer struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Audiences   []string     `json:"audiences"`
	Scopes      []SeedScope  `json:"scopes,omitempty"`
	Claims      []SeedClaim  `json:"claims,omitempty"`
	Policies    []SeedPolicy `json:"policies,omitempty"`
}

// SeedScope is a custom scope; empty fields take the API defaults.
type SeedScope struct {
	Name            string `json:"name"`
	DisplayName     string `json:"display_name,omitempty"`
	Description     string `json:"description,omitempty"`
	Consent         string `json:"consent,omitempty"`
	MetadataPublish string `json:"metadata_publish,omitempty"`
	Default         bool   `json:"default,omitempty"`
}

// SeedClaim is a custom claim; Scopes empty means any scope.
type SeedClaim struct {
	Name            string   `json:"name"`
	Status          string   `json:"status,omitempty"`
	ClaimType       string   `json:"claim_type"`
	ValueType       string   `json:"value_type"`
	Value           string   `json:"value"`
	GroupFilterType string   `json:"group_filter_type,omitempty"`
	AlwaysInclude   bool     `json:"always_include_in_token,omitempty"`
	Scopes          []string `json:"scopes,omitempty"`
}

// SeedPolicy is an access policy with its rules.
type SeedPolicy struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Status      string     `json:"status,omitempty"`
	Priority    int        `json:"priority,omitempty"`
	System      bool       `json:"system,omitempty"` // Okta-created: cannot be deleted
	Clients     []string   `json:"clients"`
	Rules       []SeedRule `json:"rules,omitempty"`
}

// SeedRule is a policy rule.
type SeedRule struct {
	Name                       string   `json:"name"`
	Status                     string   `json:"status,omitempty"`
	Priority                   int      `json:"priority,omitempty"`
	System                     bool     `json:"system,omitempty"` // Okta-created: cannot be deleted
	GrantTypes                 []string `json:"grant_types"`
	Scopes                     []string `json:"scopes"`
	Groups                     []string `json:"groups,omitempty"`
	AccessTokenLifetimeMinutes int      `json:"access_token_lifetime_minutes,omitempty"`
}

// DefaultSeed is the embedded default org: the "default" server with an
// allow-everything client_credentials policy, a "partners" server whose rule names
// its scopes, and a server without any policy.
func DefaultSeed() Seed {
	var s Seed
	if err := json.Unmarshal(defaultSeedJSON, &s); err != nil {
		panic(fmt.Sprintf("okta: embedded default_seed.json: %v", err)) // a build defect, caught by tests
	}
	return s
}
