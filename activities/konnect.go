package activities

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/usage"
)

// vanished: a create was refused because the name exists, yet a second look finds
// nothing (deleted meanwhile): the step is retried.
func vanished() error {
	return temporal.NewApplicationErrorWithOptions("the name is taken, yet no resource of that name is found (deleted meanwhile); retrying",
		dcrflow.ErrTypeTransient, temporal.ApplicationErrorOptions{})
}

func runID(ctx context.Context) string { return activity.GetInfo(ctx).WorkflowExecution.RunID }

// EnsureDCRProvider adopts the named Okta DCR provider when its issuer matches,
// creates it with the named DCR token when missing, and fails on a mismatch.
func (a *Activities) EnsureDCRProvider(ctx context.Context, in ProviderInput) (dcrflow.Resource, error) {
	res := dcrflow.Resource{Kind: dcrflow.KindDCRProvider, Name: in.Name}
	if err := a.join(ctx, usage.KonnectDomain, usage.KeyOf(res), in.PortalKey); err != nil {
		return res, err
	}
	adopt := func(p *konnect.DCRProvider) (dcrflow.Resource, error) {
		v := judgeProvider(p, in.Issuer, runID(ctx))
		if v.Action == dcrflow.PlanConflict {
			return res, conflict("%s", providerConflict(in.Name, v))
		}
		res.ID, res.Action = p.ID, v.RunAction()
		return res, nil
	}
	p, err := a.Konnect.DCRProviders.FindByName(ctx, in.Name)
	if err != nil {
		return res, apiError("find DCR provider "+in.Name, err)
	}
	if p != nil {
		return adopt(p)
	}
	token, ok := a.DCRTokens[in.TokenName]
	if !ok {
		return res, configError("the worker has no DCR token named %q; add it to dcr_tokens (or DCRFLOW_DCR_TOKEN_%s)", in.TokenName, envName(in.TokenName))
	}
	p, err = a.Konnect.DCRProviders.CreateOkta(ctx, konnect.CreateOktaProvider{
		Name: in.Name, Issuer: in.Issuer, DCRToken: token, Labels: ownerLabels(in.Labels, in.PortalKey, runID(ctx)),
	})
	if konnect.IsConflict(err) {
		// Created meanwhile (another portal sharing it): look again and judge it.
		if p, err = a.Konnect.DCRProviders.FindByName(ctx, in.Name); err == nil && p != nil {
			return adopt(p)
		}
		if err == nil {
			return res, vanished()
		}
	}
	if err != nil {
		return res, apiError("create DCR provider "+in.Name, err)
	}
	res.ID, res.Action = p.ID, dcrflow.ActionCreated
	return res, nil
}

// VerifyDCRProvider asks Konnect to check the provider against Okta (it registers and
// deletes a client with the stored token). It waits its turn in the Okta DCR budget,
// heartbeating: that budget binds first on a real org.
func (a *Activities) VerifyDCRProvider(ctx context.Context, in KonnectResourceInput) error {
	ctx = patient(ctx)
	v, err := a.Konnect.DCRProviders.Verify(ctx, in.ID)
	if err != nil {
		return verifyError(ctx, a, in, err)
	}
	if !v.OK() {
		if err := verifyUnavailable(in.Name, v.Errors...); err != nil {
			return err
		}
		return conflict("Konnect could not register a client in Okta with DCR provider %q: %s; check its DCR token and issuer",
			in.Name, strings.Join(v.Errors, "; "))
	}
	return nil
}

// verifyError reads a failed verify. Konnect's spec says verify "returns 200 for
// success, 4xx for failure" and also models 200 with status "failed": a 4xx other
// than 429 may be Okta's refusal as well as a problem with the call. Reading the
// provider tells them apart: when Konnect shows it (so the token and the id are
// fine), the 4xx was the verdict, the same failure as status "failed"; when it is
// missing, it is the provider created a moment ago and not visible yet.
//
// A 404 that only says "not found" is, for the first attempts, taken as the
// provider not visible yet (eventual consistency) and retried; one that carries
// Konnect's account of the failure, or that persists, is the verdict.
func verifyError(ctx context.Context, a *Activities, in KonnectResourceInput, err error) error {
	var ke *konnect.Error
	if !errors.As(err, &ke) || ke.StatusCode < 400 || ke.StatusCode > 499 || ke.StatusCode == http.StatusTooManyRequests {
		return freshRefError(ctx, "verify DCR provider "+in.Name, err)
	}
	if ke.StatusCode == http.StatusNotFound && bareNotFound(ke) && activity.GetInfo(ctx).Attempt <= maxInvisibleAttempts {
		return freshRefError(ctx, "verify DCR provider "+in.Name, err)
	}
	if _, gerr := a.Konnect.DCRProviders.Get(ctx, in.ID); gerr != nil {
		if konnect.IsNotFound(gerr) {
			return freshRefError(ctx, "verify DCR provider "+in.Name, gerr)
		}
		return apiError("verify DCR provider "+in.Name, err)
	}
	detail := ke.Detail
	if detail == "" {
		detail = ke.Title
	}
	if err := verifyUnavailable(in.Name, detail); err != nil {
		return err
	}
	return conflict("Konnect could not register a client in Okta with DCR provider %q: HTTP %d from verify: %s; check its DCR token and issuer",
		in.Name, ke.StatusCode, detail)
}

// bareNotFound reports a 404 whose problem says no more than that something was
// not found.
func bareNotFound(e *konnect.Error) bool {
	d := strings.ToLower(strings.TrimSpace(e.Detail))
	return d == "" || d == strings.ToLower(e.Title) || d == "not found" || (strings.Contains(d, "not found") && !strings.Contains(d, "unable"))
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
	if err := a.join(ctx, usage.KonnectDomain, usage.KeyOf(res), in.PortalKey); err != nil {
		return res, err
	}
	adopt := func(s *konnect.AuthStrategy) (dcrflow.Resource, error) {
		v := judgeStrategy(s, in, runID(ctx))
		if v.Action == dcrflow.PlanConflict {
			return res, conflict("%s", strategyConflict(in.Strategy.Name, v))
		}
		res.ID, res.Action = s.ID, v.RunAction()
		return res, nil
	}
	s, err := a.Konnect.AuthStrategies.FindByName(ctx, in.Strategy.Name)
	if err != nil {
		return res, apiError("find auth strategy "+in.Strategy.Name, err)
	}
	if s != nil {
		return adopt(s)
	}
	s, err = a.Konnect.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{
		Name: in.Strategy.Name, DisplayName: in.Strategy.DisplayName, Issuer: in.Issuer,
		CredentialClaim: []string{in.ClaimName}, Scopes: in.Scopes, AuthMethods: in.Strategy.AuthMethods,
		DCRProviderID: in.ProviderID, Labels: ownerLabels(in.Labels, in.PortalKey, runID(ctx)),
	})
	if konnect.IsConflict(err) {
		if s, err = a.Konnect.AuthStrategies.FindByName(ctx, in.Strategy.Name); err == nil && s != nil {
			return adopt(s)
		}
		if err == nil {
			return res, vanished()
		}
	}
	if err != nil {
		return res, freshRefError(ctx, "create auth strategy "+in.Strategy.Name, err)
	}
	res.ID, res.Action = s.ID, dcrflow.ActionCreated
	return res, nil
}

// DeleteAuthStrategy undoes EnsureAuthStrategy; already gone counts as done.
func (a *Activities) DeleteAuthStrategy(ctx context.Context, in KonnectResourceInput) error {
	if err := a.Konnect.AuthStrategies.Delete(ctx, in.ID); err != nil && !konnect.IsNotFound(err) {
		return apiError("delete auth strategy "+in.Name, err)
	}
	return nil
}

// PublishAPI publishes the API on the portal with the strategy, remembering the
// publication it replaces so that compensation (and offboarding) can put it back.
func (a *Activities) PublishAPI(ctx context.Context, in PublishInput) (PublishResult, error) {
	out := PublishResult{Resource: dcrflow.Resource{Kind: dcrflow.KindPublication, Name: in.APIName, ID: in.APIID + "/" + in.PortalID}}
	key := usage.KeyOf(out.Resource)
	if err := a.join(ctx, usage.KonnectDomain, key, in.PortalKey); err != nil {
		return out, err
	}
	want := konnect.Publication{AuthStrategyIDs: []string{in.StrategyID}, Visibility: in.Visibility, AutoApproveRegistrations: in.AutoApprove}
	// An earlier attempt that reached its PUT noted what the publication was before;
	// its answer may never have come, so what is there now may be its own doing.
	var earlier PublishResult
	if activity.HasHeartbeatDetails(ctx) && activity.GetHeartbeatDetails(ctx, &earlier) == nil && earlier.Resource.Action != "" {
		out.Resource.Action, out.Previous = earlier.Resource.Action, earlier.Previous
	}
	cur, err := a.Konnect.Publications.Get(ctx, in.APIID, in.PortalID)
	if konnect.IsNotFound(err) {
		cur, err = nil, nil
	}
	if err != nil {
		return out, apiError("read publication of "+in.APIName, err)
	}
	if out.Resource.Action == "" { // else keep what the earlier attempt found
		v := judgePublication(cur, want)
		out.Resource.Action = v.RunAction()
		switch v.Action {
		case dcrflow.PlanUnchanged:
			return out, nil
		case dcrflow.PlanRepublish:
			out.Previous = &Publication{AuthStrategyIDs: cur.AuthStrategyIDs, Visibility: cur.Visibility, AutoApprove: cur.AutoApproveRegistrations}
		}
	}
	out.Resource.Previous = out.Previous.settings()
	if cur != nil && samePublication(cur, want) {
		return out, nil // the earlier attempt's PUT landed
	}
	// What it was before goes on record first: the PUT's answer may be lost.
	if err := a.note(ctx, usage.Note{Domain: usage.KonnectDomain, Key: key, Portal: in.PortalKey, Changing: true, Before: out.Previous.settings()}); err != nil {
		return out, err
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

// settings is the publication as the contract records it (nil stays nil).
func (p *Publication) settings() *dcrflow.PublicationSettings {
	if p == nil {
		return nil
	}
	return &dcrflow.PublicationSettings{AuthStrategyIDs: p.AuthStrategyIDs, Visibility: p.Visibility, AutoApprove: p.AutoApprove}
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
