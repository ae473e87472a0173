package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
)

func runID(ctx context.Context) string { return activity.GetInfo(ctx).WorkflowExecution.RunID }

// EnsureDCRProvider adopts the named Okta DCR provider when its issuer matches,
// creates it with the named DCR token when missing, and fails on a mismatch.
func (a *Activities) EnsureDCRProvider(ctx context.Context, in ProviderInput) (dcrflow.Resource, error) {
	res := dcrflow.Resource{Kind: dcrflow.KindDCRProvider, Name: in.Name}
	p, err := a.Konnect.DCRProviders.FindByName(ctx, in.Name)
	if err != nil {
		return res, apiError("find DCR provider "+in.Name, err)
	}
	if p != nil {
		if p.ProviderType != "okta" || !sameURL(p.Issuer, in.Issuer) {
			return res, conflict("DCR provider %q exists as %s provider for issuer %q, want okta for %q; rename dcr_provider in the onboarding file or change it in Konnect",
				in.Name, p.ProviderType, p.Issuer, in.Issuer)
		}
		res.ID, res.Action = p.ID, actionFor(p.Labels, runID(ctx))
		return res, nil
	}
	token, ok := a.DCRTokens[in.TokenName]
	if !ok {
		return res, configError("the worker has no DCR token named %q; add it to dcr_tokens (or DCRFLOW_DCR_TOKEN_%s)", in.TokenName, envName(in.TokenName))
	}
	p, err = a.Konnect.DCRProviders.CreateOkta(ctx, konnect.CreateOktaProvider{
		Name: in.Name, Issuer: in.Issuer, DCRToken: token, Labels: ownerLabels(in.Labels, in.PortalKey, runID(ctx)),
	})
	if err != nil {
		return res, apiError("create DCR provider "+in.Name, err)
	}
	res.ID, res.Action = p.ID, dcrflow.ActionCreated
	return res, nil
}

// VerifyDCRProvider asks Konnect to check the provider against Okta (it registers and
// deletes a client with the stored token).
func (a *Activities) VerifyDCRProvider(ctx context.Context, in KonnectResourceInput) error {
	v, err := a.Konnect.DCRProviders.Verify(ctx, in.ID)
	if err != nil {
		return freshRefError(ctx, "verify DCR provider "+in.Name, err)
	}
	if !v.OK() {
		return conflict("Konnect could not register a client in Okta with DCR provider %q: %s; check its DCR token and issuer",
			in.Name, strings.Join(v.Errors, "; "))
	}
	return nil
}

// DeleteDCRProvider undoes EnsureDCRProvider; already gone counts as done.
func (a *Activities) DeleteDCRProvider(ctx context.Context, in KonnectResourceInput) error {
	if err := a.Konnect.DCRProviders.Delete(ctx, in.ID); err != nil && !konnect.IsNotFound(err) {
		return apiError("delete DCR provider "+in.Name, err)
	}
	return nil
}

// EnsureAuthStrategy adopts the named OIDC strategy when it is bound to the provider
// with the same issuer, scopes, claim and auth methods, creates it when missing, and
// fails naming the differing fields otherwise.
func (a *Activities) EnsureAuthStrategy(ctx context.Context, in StrategyInput) (dcrflow.Resource, error) {
	res := dcrflow.Resource{Kind: dcrflow.KindAuthStrategy, Name: in.Strategy.Name}
	s, err := a.Konnect.AuthStrategies.FindByName(ctx, in.Strategy.Name)
	if err != nil {
		return res, apiError("find auth strategy "+in.Strategy.Name, err)
	}
	if s != nil {
		if diffs := strategyDiffs(s, in); len(diffs) > 0 {
			return res, conflict("auth strategy %q exists and differs: %s; rename auth_strategy in the onboarding file or change it in Konnect",
				in.Strategy.Name, strings.Join(diffs, "; "))
		}
		res.ID, res.Action = s.ID, actionFor(s.Labels, runID(ctx))
		return res, nil
	}
	s, err = a.Konnect.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{
		Name: in.Strategy.Name, DisplayName: in.Strategy.DisplayName, Issuer: in.Issuer,
		CredentialClaim: []string{in.ClaimName}, Scopes: in.Scopes, AuthMethods: in.Strategy.AuthMethods,
		DCRProviderID: in.ProviderID, Labels: ownerLabels(in.Labels, in.PortalKey, runID(ctx)),
	})
	if err != nil {
		return res, freshRefError(ctx, "create auth strategy "+in.Strategy.Name, err)
	}
	res.ID, res.Action = s.ID, dcrflow.ActionCreated
	return res, nil
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

// DeleteAuthStrategy undoes EnsureAuthStrategy; already gone counts as done.
func (a *Activities) DeleteAuthStrategy(ctx context.Context, in KonnectResourceInput) error {
	if err := a.Konnect.AuthStrategies.Delete(ctx, in.ID); err != nil && !konnect.IsNotFound(err) {
		return apiError("delete auth strategy "+in.Name, err)
	}
	return nil
}

// PublishAPI publishes the API on the portal with the strategy, remembering the
// publication it replaces so that compensation can put it back.
func (a *Activities) PublishAPI(ctx context.Context, in PublishInput) (PublishResult, error) {
	out := PublishResult{Resource: dcrflow.Resource{Kind: dcrflow.KindPublication, Name: in.APIName, ID: in.APIID + "/" + in.PortalID}}
	want := konnect.Publication{AuthStrategyIDs: []string{in.StrategyID}, Visibility: in.Visibility, AutoApproveRegistrations: in.AutoApprove}
	// An earlier attempt that reached its PUT noted what the publication was before;
	// its answer may never have come, so what is there now may be its own doing.
	var earlier PublishResult
	if activity.HasHeartbeatDetails(ctx) && activity.GetHeartbeatDetails(ctx, &earlier) == nil && earlier.Resource.Action != "" {
		out.Resource.Action, out.Previous = earlier.Resource.Action, earlier.Previous
	}
	cur, err := a.Konnect.Publications.Get(ctx, in.APIID, in.PortalID)
	switch {
	case err != nil && !konnect.IsNotFound(err):
		return out, apiError("read publication of "+in.APIName, err)
	case out.Resource.Action != "":
		// keep what the earlier attempt found
	case konnect.IsNotFound(err):
		out.Resource.Action = dcrflow.ActionPublished
	case samePublication(cur, want):
		out.Resource.Action = dcrflow.ActionUnchanged
		return out, nil
	default:
		out.Resource.Action = dcrflow.ActionUpdated
		out.Previous = &Publication{AuthStrategyIDs: cur.AuthStrategyIDs, Visibility: cur.Visibility, AutoApprove: cur.AutoApproveRegistrations}
	}
	if err == nil && samePublication(cur, want) {
		return out, nil // the earlier attempt's PUT landed
	}
	activity.RecordHeartbeat(ctx, out)
	if _, err := a.Konnect.Publications.Put(ctx, in.APIID, in.PortalID, want); err != nil {
		return out, freshRefError(ctx, "publish "+in.APIName, err)
	}
	return out, nil
}

// RestorePublication puts a publication back as it was, or unpublishes the API when
// it was not published before.
func (a *Activities) RestorePublication(ctx context.Context, in RestoreInput) error {
	if in.Previous == nil {
		if err := a.Konnect.Publications.Delete(ctx, in.APIID, in.PortalID); err != nil && !konnect.IsNotFound(err) {
			return apiError("unpublish "+in.APIName, err)
		}
		return nil
	}
	prev := konnect.Publication{AuthStrategyIDs: in.Previous.AuthStrategyIDs, Visibility: in.Previous.Visibility, AutoApproveRegistrations: in.Previous.AutoApprove}
	if _, err := a.Konnect.Publications.Put(ctx, in.APIID, in.PortalID, prev); err != nil {
		return apiError("restore publication of "+in.APIName, err)
	}
	return nil
}

func samePublication(cur *konnect.Publication, want konnect.Publication) bool {
	return slices.Equal(cur.AuthStrategyIDs, want.AuthStrategyIDs) && cur.Visibility == want.Visibility &&
		cur.AutoApproveRegistrations == want.AutoApproveRegistrations
}

func actionFor(labels map[string]string, runID string) string {
	if createdByRun(labels, runID) {
		return dcrflow.ActionCreated
	}
	return dcrflow.ActionAdopted
}

func sameURL(a, b string) bool {
	return strings.TrimSuffix(strings.TrimSpace(a), "/") == strings.TrimSuffix(strings.TrimSpace(b), "/")
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func envName(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}
