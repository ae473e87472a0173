package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
)

// Kinds of PlanMissing items: what a run needs and never creates. A plan shows them
// only when they are missing; the run reports no resource of these kinds.
const (
	KindAuthServer = "auth_server"
	KindPortal     = "portal"
	KindAPI        = "api"
	KindDCRToken   = "dcr_token"
)

// PlanPortal is the dry run of one portal: it reads what the portal's run would find
// and judges every resource with the run's own judgments (judge*), in the run's order,
// without a single write (only GETs). Whatever no retry can fix — a missing portal,
// a conflicting strategy — becomes a problem of the plan, and the rest is planned all
// the same; a transient fault (5xx, 429, timeout) fails the attempt for Temporal to
// retry. The plan is judged against today's state, as if this portal ran alone.
func (a *Activities) PlanPortal(ctx context.Context, spec dcrflow.PortalSpec) (dcrflow.PortalPlan, error) {
	p := &planner{a: a, spec: spec, plan: dcrflow.PortalPlan{Portal: spec.Key, Items: []dcrflow.PlanItem{}}}
	for _, step := range []func(context.Context) error{p.resolve, p.scopes, p.claim, p.accessPolicy, p.provider, p.strategy, p.publications} {
		if err := step(ctx); err != nil {
			return p.plan, err
		}
	}
	return p.plan, nil
}

// planner gathers one portal's plan; what an earlier step found feeds later ones.
type planner struct {
	a    *Activities
	spec dcrflow.PortalSpec
	plan dcrflow.PortalPlan

	apis       []ResolvedAPI
	providerID string // of the provider found ("" when the run creates one)
	strategyID string // of the strategy found ("" when the run creates one)
}

// add records an item, and the run's failure message when the run would fail there.
func (p *planner) add(it dcrflow.PlanItem, failure string) {
	p.plan.Items = append(p.plan.Items, it)
	if it.Action == dcrflow.PlanConflict || it.Action == dcrflow.PlanMissing {
		p.plan.Problems = append(p.plan.Problems, failure)
	}
}

// settle turns a lookup's error into a problem when no retry can fix it (it returns
// the message), or returns the error for Temporal to retry the attempt.
func settle(err error) (string, error) {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.NonRetryable() {
		return app.Message(), nil
	}
	return "", err
}

// missing records a lookup that failed for good: a PlanMissing item when the target
// does not exist, else (a refused token, an ambiguous name) a problem only.
func (p *planner) missing(kind, name string, err error) error {
	msg, retry := settle(err)
	if retry != nil {
		return retry
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == dcrflow.ErrTypeNotFound {
		p.add(dcrflow.PlanItem{Kind: dcrflow.Kind(kind), Name: name, Action: dcrflow.PlanMissing}, msg)
		return nil
	}
	p.plan.Problems = append(p.plan.Problems, msg)
	return nil
}

// resolve is step 1 of the run (ResolveTargets), but it lists every missing target
// where the run stops at the first.
func (p *planner) resolve(ctx context.Context) error {
	a, spec := p.a, p.spec
	if _, ok := a.DCRTokens[spec.DCRTokenName]; !ok {
		p.add(dcrflow.PlanItem{Kind: KindDCRToken, Name: spec.DCRTokenName, Action: dcrflow.PlanMissing},
			fmt.Sprintf("the worker has no DCR token named %q (it has: %s); add it to dcr_tokens or DCRFLOW_DCR_TOKEN_%s",
				spec.DCRTokenName, strings.Join(sortedKeys(a.DCRTokens), ", "), envName(spec.DCRTokenName)))
	}
	as, err := a.authServer(ctx, spec.AuthServer)
	switch {
	case err != nil:
		if err := p.missing(KindAuthServer, spec.AuthServer, err); err != nil {
			return err
		}
	case as.Status != "" && as.Status != okta.StatusActive:
		p.add(dcrflow.PlanItem{Kind: KindAuthServer, Name: spec.AuthServer, ID: as.ID, Action: dcrflow.PlanConflict,
			Diffs: []string{fmt.Sprintf("status is %s, want %s", as.Status, okta.StatusActive)}},
			fmt.Sprintf("authorization server %q is %s; activate it in Okta", spec.AuthServer, as.Status))
	default:
		p.plan.AuthServerID, p.plan.Issuer = as.ID, as.Issuer
	}
	portal, err := a.Konnect.Portals.Resolve(ctx, spec.Portal)
	if err != nil {
		if err := p.missing(KindPortal, spec.Portal, lookupError("portal", spec.Portal, err)); err != nil {
			return err
		}
	} else {
		p.plan.PortalID = portal.ID
		if err := a.checkOwner(ctx, portal.ID, spec); err != nil {
			if err := p.missing(KindValidationOwner, spec.ValidationOwner.Type+" "+spec.ValidationOwner.ID, err); err != nil {
				return err
			}
		}
	}
	for _, api := range spec.APIs {
		found, err := a.Konnect.APIs.Resolve(ctx, api.API)
		if err != nil {
			if err := p.missing(KindAPI, api.API, lookupError("API", api.API, err)); err != nil {
				return err
			}
			continue
		}
		p.apis = append(p.apis, ResolvedAPI{ID: found.ID, Spec: api})
	}
	return nil
}

func (p *planner) scopes(ctx context.Context) error {
	if p.plan.AuthServerID == "" {
		return nil // nothing to judge the scopes against
	}
	for _, sc := range p.spec.Scopes {
		s, err := p.a.Okta.FindScope(ctx, p.plan.AuthServerID, sc.Name)
		if err != nil {
			return apiError("find scope "+sc.Name, err)
		}
		v := judgeScope(s, "")
		p.add(v.planItem(dcrflow.KindScope, sc.Name, idOf(s, func(s *okta.Scope) string { return s.ID })), scopeConflict(sc.Name, v))
	}
	return nil
}

func (p *planner) claim(ctx context.Context) error {
	if p.plan.AuthServerID == "" {
		return nil
	}
	name := p.spec.ClaimName
	c, err := p.a.Okta.FindClaim(ctx, p.plan.AuthServerID, name, okta.ClaimTypeResource)
	if err != nil {
		return apiError("find claim "+name, err)
	}
	v := judgeClaim(c, false)
	p.add(v.planItem(dcrflow.KindClaim, name, idOf(c, func(c *okta.Claim) string { return c.ID })), claimConflict(name, v))
	return nil
}

// accessPolicy is the plan of step 4 (dcrflow.KindAccessPolicy).
func (p *planner) accessPolicy(ctx context.Context) error {
	if p.plan.AuthServerID == "" {
		return nil
	}
	items, problems, err := p.a.planAccessPolicy(ctx, p.spec, p.plan.AuthServerID, specScopeNames(p.spec))
	if err != nil {
		return err
	}
	p.plan.Items = append(p.plan.Items, items...)
	p.plan.Problems = append(p.plan.Problems, problems...)
	return nil
}

// planAccessPolicy plans step 4 with its own judgment (inspectPolicies): the items
// the run's access-policy step would report and the problems that would fail it.
func (a *Activities) planAccessPolicy(ctx context.Context, spec dcrflow.PortalSpec, asID string, scopes []string) ([]dcrflow.PlanItem, []string, error) {
	return a.planPolicy(ctx, spec, asID, scopes)
}

func (p *planner) provider(ctx context.Context) error {
	if p.plan.Issuer == "" {
		return nil // the provider is judged against the issuer
	}
	name := p.spec.DCRProvider
	prov, err := p.a.Konnect.DCRProviders.FindByName(ctx, name)
	if err != nil {
		return p.findError("DCR provider", name, err)
	}
	v := judgeProvider(prov, p.plan.Issuer, "")
	if prov != nil {
		p.providerID = prov.ID
	}
	p.add(v.planItem(dcrflow.KindDCRProvider, name, p.providerID), providerConflict(name, v))
	return nil
}

func (p *planner) strategy(ctx context.Context) error {
	if p.plan.Issuer == "" {
		return nil
	}
	name := p.spec.Strategy.Name
	s, err := p.a.Konnect.AuthStrategies.FindByName(ctx, name)
	if err != nil {
		return p.findError("auth strategy", name, err)
	}
	// As the run asks for it; a provider the run creates has no id yet, so an
	// existing strategy cannot be bound to it (a conflict, as in the run).
	in := StrategyInput{Strategy: p.spec.Strategy, Issuer: p.plan.Issuer, Scopes: specScopeNames(p.spec),
		ClaimName: p.spec.ClaimName, ProviderID: p.providerID}
	v := judgeStrategy(s, in, "")
	if s != nil {
		p.strategyID = s.ID
	}
	p.add(v.planItem(dcrflow.KindAuthStrategy, name, p.strategyID), strategyConflict(name, v))
	return nil
}

// findError: several Konnect resources of one name is a problem (the run cannot
// tell which is meant); anything else is the lookup's own error.
func (p *planner) findError(kind, name string, err error) error {
	if errors.Is(err, konnect.ErrAmbiguous) {
		p.plan.Problems = append(p.plan.Problems, fmt.Sprintf("several Konnect %ss are named %q; rename one in Konnect or choose another name", kind, name))
		return nil
	}
	return apiError("find "+kind+" "+name, err)
}

func (p *planner) publications(ctx context.Context) error {
	if p.plan.PortalID == "" {
		return nil
	}
	strategy := p.strategyID
	if strategy == "" {
		strategy = "(new " + p.spec.Strategy.Name + ")"
	}
	for _, api := range p.apis {
		cur, err := p.a.Konnect.Publications.Get(ctx, api.ID, p.plan.PortalID)
		if konnect.IsNotFound(err) {
			cur, err = nil, nil
		}
		if err != nil {
			return apiError("read publication of "+api.Spec.API, err)
		}
		want := konnect.Publication{AuthStrategyIDs: []string{strategy}, Visibility: api.Spec.Visibility, AutoApproveRegistrations: api.Spec.AutoApprove}
		v := judgePublication(cur, want)
		id := ""
		if cur != nil {
			id = api.ID + "/" + p.plan.PortalID // as the run reports it
		}
		p.add(v.planItem(dcrflow.KindPublication, api.Spec.API, id), "")
	}
	return nil
}

func idOf[T any](v *T, id func(*T) string) string {
	if v == nil {
		return ""
	}
	return id(v)
}

func specScopeNames(spec dcrflow.PortalSpec) []string {
	out := make([]string, len(spec.Scopes))
	for i, s := range spec.Scopes {
		out[i] = s.Name
	}
	return out
}
