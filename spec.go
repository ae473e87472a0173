package dcrflow

import "strings"

// PortalSpec is one portal's onboarding, as the onboarding file describes it with its
// defaults applied. It carries names only: DCRTokenName names a secret that only the
// worker can resolve.
type PortalSpec struct {
	Key          string       `json:"key"`         // stable identity of the portal in dcrflow (workflow id)
	Portal       string       `json:"portal"`      // Konnect portal name or id
	AuthServer   string       `json:"auth_server"` // Okta authorization server id or name
	Scopes       []ScopeSpec  `json:"scopes"`
	ClaimName    string       `json:"claim_name"`
	DCRProvider  string       `json:"dcr_provider"`   // Konnect DCR provider name
	DCRTokenName string       `json:"dcr_token_name"` // which of the worker's DCR tokens
	Strategy     StrategySpec `json:"strategy"`
	APIs         []APISpec    `json:"apis"`
	Validate     bool         `json:"validate"`
	// ValidateVia says how step 8 registers its throw-away client: ValidateViaOkta
	// (dcrflow calls Okta DCR itself; the default) or ValidateViaKonnect (a Konnect
	// application is created, so Konnect registers the client through the provider).
	ValidateVia string `json:"validate_via,omitempty"`
	// ValidationOwner owns the throw-away Konnect application (ValidateViaKonnect).
	ValidationOwner *AppOwner `json:"validation_owner,omitempty"`
	// AccessPolicy is AccessPolicyCheck (the default: fail early when no access
	// policy lets client_credentials get the scopes) or AccessPolicyEnsure (create a
	// dcrflow-owned policy and rule when none does).
	AccessPolicy string `json:"access_policy,omitempty"`
	// OnFailure says what a permanent failure does: OnFailureCompensate (undo and
	// fail) or OnFailureHold (keep what was built and wait for an operator's decision).
	OnFailure string `json:"on_failure"`
	// Labels go on the Konnect resources dcrflow creates, beside its ownership labels.
	Labels map[string]string `json:"labels,omitempty"`
	// UpsertSearchAttributes is set by the launcher when the namespace has dcrflow's
	// search attributes registered; upserting unregistered ones stalls a workflow.
	UpsertSearchAttributes bool `json:"upsert_search_attributes,omitempty"`
}

// How step 8 registers its throw-away client.
const (
	ValidateViaOkta    = "okta"
	ValidateViaKonnect = "konnect"
)

// AppOwner is a Konnect portal developer or team that may own applications.
type AppOwner struct {
	Type string `json:"type"` // "developer" or "team"
	ID   string `json:"id"`
}

// Access policy modes (step 4).
const (
	AccessPolicyCheck  = "check"
	AccessPolicyEnsure = "ensure"
)

// What a portal's run does when a step fails for good.
const (
	OnFailureCompensate = "compensate"
	OnFailureHold       = "hold"
)

// ScopeSpec is a custom scope on the authorization server.
type ScopeSpec struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// StrategySpec is the Konnect application auth strategy.
type StrategySpec struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	AuthMethods []string `json:"auth_methods"`
}

// APISpec is an API to publish on the portal with the strategy.
type APISpec struct {
	API         string `json:"api"`        // Konnect API name or id
	Visibility  string `json:"visibility"` // public or private
	AutoApprove bool   `json:"auto_approve"`
}

// DCRAuthMethods are the auth methods a DCR auth strategy may use.
var DCRAuthMethods = []string{"client_credentials", "bearer", "session"}

// DCRTokenName is the one normal form of a DCR token's name, used wherever a name
// is compared: the onboarding file's dcr_token, the worker's dcr_tokens keys and
// its DCRFLOW_DCR_TOKEN_<NAME> variables. Lowercase, '_' as '-': "Partners_EU",
// "partners-eu" and DCRFLOW_DCR_TOKEN_PARTNERS_EU all name "partners-eu".
func DCRTokenName(name string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "_", "-")
}

// DCRTokenEnv is the environment variable that gives a worker the DCR token name.
func DCRTokenEnv(name string) string {
	return "DCRFLOW_DCR_TOKEN_" + strings.ToUpper(strings.ReplaceAll(DCRTokenName(name), "-", "_"))
}
