package activities

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
)

// The judgments below decide what a run does about one resource given what exists
// (nil: nothing by that name). They are pure: the Ensure* activities act on them and
// the read-only plan (PlanPortal) reports them, so a plan cannot say other than what
// the run then does.

// Verdict is the judgment of one resource.
type Verdict struct {
	// Action is dcrflow.PlanCreate, PlanAdopt or PlanConflict; for a publication
	// PlanPublish, PlanRepublish or PlanUnchanged.
	Action dcrflow.PlanAction
	// Own marks an adopted resource as this run's own (a retry finds what an earlier
	// attempt created): the run reports it created, and undoes it.
	Own bool
	// Diffs say what differs from the spec (conflict, republish).
	Diffs []string
}

// RunAction is the Resource.Action the run reports ("" for a conflict: it fails).
func (v Verdict) RunAction() dcrflow.Action {
	if v.Action == dcrflow.PlanAdopt && v.Own {
		return dcrflow.ActionCreated
	}
	return dcrflow.RunActionFor(v.Action)
}

// planItem is the verdict as the plan shows it.
func (v Verdict) planItem(kind dcrflow.Kind, name, id string) dcrflow.PlanItem {
	return dcrflow.PlanItem{Kind: kind, Name: name, ID: id, Action: v.Action, Diffs: v.Diffs}
}

func toCreate() Verdict { return Verdict{Action: dcrflow.PlanCreate} }

func adoptOrConflict(diffs []string, own bool) Verdict {
	if len(diffs) > 0 {
		return Verdict{Action: dcrflow.PlanConflict, Diffs: diffs}
	}
	return Verdict{Action: dcrflow.PlanAdopt, Own: own}
}

// judgeScope: a scope is adopted unless its consent is REQUIRED (Okta never grants
// such a scope to client_credentials). marker is this run's scopeMarker ("" in a
// plan): a scope whose description carries it is the run's own.
func judgeScope(s *okta.Scope, marker string) Verdict {
	if s == nil {
		return toCreate()
	}
	var d []string
	if s.Consent == okta.ConsentRequired {
		d = append(d, "consent is REQUIRED, which Okta never grants to client_credentials; want IMPLICIT")
	}
	return adoptOrConflict(d, marker != "" && strings.Contains(s.Description, marker))
}

// judgeClaim: a claim of that name is adopted when it is an ACTIVE expression
// app.clientId for any scope. own: the run noted (in its heartbeat) that it set out
// to create it.
func judgeClaim(c *okta.Claim, own bool) Verdict {
	if c == nil {
		return toCreate()
	}
	var d []string
	if c.ValueType != okta.ValueTypeExpression {
		d = append(d, fmt.Sprintf("value_type is %s, want %s", c.ValueType, okta.ValueTypeExpression))
	}
	if c.Value != ClaimValue {
		d = append(d, fmt.Sprintf("value is %q, want %q", c.Value, ClaimValue))
	}
	if c.Status != okta.StatusActive {
		d = append(d, fmt.Sprintf("status is %s, want %s", c.Status, okta.StatusActive))
	}
	if len(c.Scopes) > 0 {
		d = append(d, fmt.Sprintf("it is included only for scopes %v, want any scope", c.Scopes))
	}
	return adoptOrConflict(d, own)
}

// judgeProvider: a DCR provider of that name is adopted when it is an Okta provider
// for the issuer. runID is the run's ("" in a plan): its label marks the run's own.
func judgeProvider(p *konnect.DCRProvider, issuer, runID string) Verdict {
	if p == nil {
		return toCreate()
	}
	var d []string
	if p.ProviderType != "okta" {
		d = append(d, fmt.Sprintf("provider_type is %s, want okta", p.ProviderType))
	}
	if !sameURL(p.Issuer, issuer) {
		d = append(d, fmt.Sprintf("issuer is %q, want %q", p.Issuer, issuer))
	}
	return adoptOrConflict(d, createdByRun(p.Labels, runID))
}

// judgeStrategy: an auth strategy of that name is adopted when it is an OIDC
// strategy bound to the provider with the same issuer, scopes, claim and auth
// methods. runID as for judgeProvider.
func judgeStrategy(s *konnect.AuthStrategy, in StrategyInput, runID string) Verdict {
	if s == nil {
		return toCreate()
	}
	return adoptOrConflict(strategyDiffs(s, in), createdByRun(s.Labels, runID))
}

func strategyDiffs(s *konnect.AuthStrategy, in StrategyInput) []string {
	if s.StrategyType != "openid_connect" || s.OIDC == nil {
		return []string{fmt.Sprintf("strategy_type is %s, want openid_connect", s.StrategyType)}
	}
	var d []string
	if !sameURL(s.OIDC.Issuer, in.Issuer) {
		d = append(d, fmt.Sprintf("issuer is %q, want %q", s.OIDC.Issuer, in.Issuer))
	}
	if !sameSet(s.OIDC.Scopes, in.Scopes) {
		d = append(d, fmt.Sprintf("scopes are %v, want %v", s.OIDC.Scopes, in.Scopes))
	}
	if !sameSet(s.OIDC.CredentialClaim, []string{in.ClaimName}) {
		d = append(d, fmt.Sprintf("credential_claim is %v, want [%s]", s.OIDC.CredentialClaim, in.ClaimName))
	}
	if !sameSet(s.OIDC.AuthMethods, in.Strategy.AuthMethods) {
		d = append(d, fmt.Sprintf("auth_methods are %v, want %v", s.OIDC.AuthMethods, in.Strategy.AuthMethods))
	}
	if s.DCRProvider == nil || s.DCRProvider.ID != in.ProviderID {
		d = append(d, "it is not bound to the portal's DCR provider")
	}
	return d
}

// judgePublication: an API not on the portal is published, one published with other
// settings is republished (the diffs say which), one already as wanted is unchanged.
func judgePublication(cur *konnect.Publication, want konnect.Publication) Verdict {
	switch {
	case cur == nil:
		return Verdict{Action: dcrflow.PlanPublish}
	case samePublication(cur, want):
		return Verdict{Action: dcrflow.PlanUnchanged}
	}
	var d []string
	if !slices.Equal(cur.AuthStrategyIDs, want.AuthStrategyIDs) {
		d = append(d, fmt.Sprintf("auth_strategy_ids are %v, want %v", cur.AuthStrategyIDs, want.AuthStrategyIDs))
	}
	if cur.Visibility != want.Visibility {
		d = append(d, fmt.Sprintf("visibility is %s, want %s", cur.Visibility, want.Visibility))
	}
	if cur.AutoApproveRegistrations != want.AutoApproveRegistrations {
		d = append(d, fmt.Sprintf("auto_approve_registrations is %v, want %v", cur.AutoApproveRegistrations, want.AutoApproveRegistrations))
	}
	return Verdict{Action: dcrflow.PlanRepublish, Diffs: d}
}

func samePublication(cur *konnect.Publication, want konnect.Publication) bool {
	return slices.Equal(cur.AuthStrategyIDs, want.AuthStrategyIDs) && cur.Visibility == want.Visibility &&
		cur.AutoApproveRegistrations == want.AutoApproveRegistrations
}

// Conflict messages: the run's error and the plan's problem say the same.

func scopeConflict(name string, v Verdict) string {
	return fmt.Sprintf("scope %q exists and differs: %s; set it to IMPLICIT in Okta or use another scope", name, strings.Join(v.Diffs, "; "))
}

func claimConflict(name string, v Verdict) string {
	return fmt.Sprintf("claim %q exists and differs: %s; rename claim in the onboarding file or fix it in Okta", name, strings.Join(v.Diffs, "; "))
}

func providerConflict(name string, v Verdict) string {
	return fmt.Sprintf("DCR provider %q exists and differs: %s; rename dcr_provider in the onboarding file or change it in Konnect", name, strings.Join(v.Diffs, "; "))
}

func strategyConflict(name string, v Verdict) string {
	return fmt.Sprintf("auth strategy %q exists and differs: %s; rename auth_strategy in the onboarding file or change it in Konnect", name, strings.Join(v.Diffs, "; "))
}
