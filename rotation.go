package dcrflow

import (
	"slices"
	"strings"
)

// DCR token rotation and liveness: the contract of the RotateDCRToken workflow and
// of the ProveDCRTokens activity. Like the rest of the contract it carries token
// names only; the worker resolves a name (and "<name>-next") to its secret.

// NextTokenSuffix marks the token a worker holds beside a DCR token during its
// rotation: dcr_tokens.<name>_next, or DCRFLOW_DCR_TOKEN_<NAME>_NEXT, both of which
// DCRTokenName brings to "<name>-next".
const NextTokenSuffix = "-next"

// NextDCRTokenName is the name of the token that replaces name's.
func NextDCRTokenName(name string) string { return DCRTokenName(name) + NextTokenSuffix }

// IsNextDCRTokenName tells a rotation's new token's name ("partners-next") and the
// name it replaces.
func IsNextDCRTokenName(name string) (base string, ok bool) {
	base, ok = strings.CutSuffix(DCRTokenName(name), NextTokenSuffix)
	return base, ok && base != ""
}

// RotateWorkflowPrefix begins the id of every rotation's workflow; RotateWorkflowID
// adds the token's name. One id per name: a second rotation of the name while one
// runs is refused (the starter attaches to the running one).
const RotateWorkflowPrefix = "dcrflow-rotate/"

// RotateWorkflowID is the stable id of the rotation of a DCR token name.
func RotateWorkflowID(name string) string { return RotateWorkflowPrefix + DCRTokenName(name) }

// DefaultTokenMaxAgeDays is how many days a DCR token may go without a rotation
// through dcrflow before doctor and check warn (config dcr_token_max_age_days).
const DefaultTokenMaxAgeDays = 90

// RotateInput is one rotation of a DCR token name across the providers that use it.
type RotateInput struct {
	Name      string           `json:"name"` // the token's name, as DCRTokenName gives it
	Providers []RotateProvider `json:"providers"`
	// ContinueOnError goes on with the other providers after one fails with the new
	// token (it is put back on the old one either way); false stops starting others.
	ContinueOnError bool `json:"continue_on_error,omitempty"`
	// MaxConcurrent bounds the providers rotated at once (default 4).
	MaxConcurrent int `json:"max_concurrent,omitempty"`
	// UpsertSearchAttributes: the namespace has dcrflow's search attributes.
	UpsertSearchAttributes bool `json:"upsert_search_attributes,omitempty"`
}

// RotateProvider is a DCR provider holding the token and the portals using it;
// the first portal is the one validated end to end.
type RotateProvider struct {
	Name    string         `json:"name"`
	ID      string         `json:"id,omitempty"` // as onboarding recorded it; "" looks it up by name
	Portals []RotatePortal `json:"portals"`
}

// RotatePortal is a portal behind a provider, as its last onboarding recorded it:
// what validating it end to end needs.
type RotatePortal struct {
	Spec       PortalSpec `json:"spec"`
	Issuer     string     `json:"issuer"`
	PortalID   string     `json:"portal_id,omitempty"`
	StrategyID string     `json:"strategy_id,omitempty"`
}

// Where each provider ends up.
const (
	RotationRotated  = "rotated"  // on the new token, verified and validated
	RotationReverted = "reverted" // failed with the new token; back on the old one
	RotationSkipped  = "skipped"  // not tried (the rotation stopped first): still on the old token
	RotationGone     = "gone"     // no such provider in Konnect any more
	RotationFailed   = "failed"   // could not be put back on the old token: see Reason
)

// ProviderRotation is what happened to one provider.
type ProviderRotation struct {
	Provider  string   `json:"provider"`
	ID        string   `json:"id,omitempty"`
	Outcome   string   `json:"outcome"`
	Validated string   `json:"validated,omitempty"` // the portal validated end to end
	Step      string   `json:"step,omitempty"`      // where it failed
	Reason    string   `json:"reason,omitempty"`    // why it is not on the new token
	Portals   []string `json:"portals,omitempty"`
}

// RotateResult is how a rotation ended. SafeToRevoke: no provider holds the old
// token any more (every one was rotated, or is gone).
type RotateResult struct {
	Name         string             `json:"name"`
	Providers    []ProviderRotation `json:"providers"`
	SafeToRevoke bool               `json:"safe_to_revoke"`
}

// OnOldToken lists the providers still on the old token.
func (r RotateResult) OnOldToken() []string {
	var out []string
	for _, p := range r.Providers {
		if p.Outcome != RotationRotated && p.Outcome != RotationGone {
			out = append(out, p.Provider)
		}
	}
	return out
}

// RotateProgress is a rotation's `progress` query (QueryProgress).
type RotateProgress struct {
	Name    string             `json:"name"`
	Total   int                `json:"total"`
	Running map[string]string  `json:"running"` // provider → step
	Done    []ProviderRotation `json:"done"`
	Stopped bool               `json:"stopped,omitempty"` // a failure stopped the rotation (no --continue-on-error)
}

// ErrTypeRotateFailed is the rotation's own failure (a provider failed and was put
// back on the old token, or could not be); details hold the RotateResult.
const ErrTypeRotateFailed = "RotateFailed"

// DCRTokenUse names what depends on one DCR token: its providers and their portals.
type DCRTokenUse struct {
	Name      string   `json:"name"`
	Providers []string `json:"providers,omitempty"`
	Portals   []string `json:"portals,omitempty"`
}

// ProveDCRTokensInput asks a worker to prove every DCR token it holds (each name and
// "<name>-next") with a cheap read against Okta, which also keeps it from expiring.
// Uses names what depends on each token, for the report.
type ProveDCRTokensInput struct {
	Uses []DCRTokenUse `json:"uses,omitempty"`
}

// DCRTokenProof is one token's answer: alive, or dead with the reason (never the
// token), and what a dead one breaks.
type DCRTokenProof struct {
	Name      string   `json:"name"`
	Next      bool     `json:"next,omitempty"` // the new token of a rotation
	OK        bool     `json:"ok"`
	Reason    string   `json:"reason,omitempty"`
	Providers []string `json:"providers,omitempty"`
	Portals   []string `json:"portals,omitempty"`
}

// ProveDCRTokensResult is every token's proof, by name.
type ProveDCRTokensResult struct {
	Tokens []DCRTokenProof `json:"tokens"`
}

// Dead lists the tokens that failed their proof.
func (r ProveDCRTokensResult) Dead() []DCRTokenProof {
	var out []DCRTokenProof
	for _, t := range r.Tokens {
		if !t.OK {
			out = append(out, t)
		}
	}
	return out
}

// TokenUsesOf names, per DCR token, the providers and portals of specs that use it
// (what ProveDCRTokensInput.Uses wants), token names and providers sorted.
func TokenUsesOf(specs []PortalSpec) []DCRTokenUse {
	by := map[string]*DCRTokenUse{}
	var names []string
	for _, s := range specs {
		n := DCRTokenName(s.DCRTokenName)
		u := by[n]
		if u == nil {
			u = &DCRTokenUse{Name: n}
			by[n] = u
			names = append(names, n)
		}
		if !slices.Contains(u.Providers, s.DCRProvider) {
			u.Providers = append(u.Providers, s.DCRProvider)
		}
		u.Portals = append(u.Portals, s.Key)
	}
	slices.Sort(names)
	out := make([]DCRTokenUse, 0, len(names))
	for _, n := range names {
		slices.Sort(by[n].Providers)
		out = append(out, *by[n])
	}
	return out
}
