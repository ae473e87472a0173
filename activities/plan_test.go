package activities_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
)

func planSpec() dcrflow.PortalSpec {
	return dcrflow.PortalSpec{Key: "p", Portal: "payments", AuthServer: "default",
		Scopes: []dcrflow.ScopeSpec{{Name: "pay:read"}, {Name: "pay:write"}}, ClaimName: "client_id",
		DCRProvider: "dcrflow-p", DCRTokenName: "default",
		Strategy: dcrflow.StrategySpec{Name: "dcrflow-p", DisplayName: "P", AuthMethods: []string{"client_credentials"}},
		APIs:     []dcrflow.APISpec{{API: "payments-api", Visibility: "public"}, {API: "refunds-api", Visibility: "private"}}}
}

// actions is "kind name action" per item, in order.
func actions(p dcrflow.PortalPlan) []string {
	out := make([]string, len(p.Items))
	for i, it := range p.Items {
		out[i] = string(it.Kind) + " " + it.Name + " " + string(it.Action)
	}
	return out
}

// planOnly runs PlanPortal and fails the test if it made any call but a GET.
func planOnly(h *harness, spec dcrflow.PortalSpec) dcrflow.PortalPlan {
	h.t.Helper()
	since := 0
	if reqs := h.sb.Sandbox.Requests(0); len(reqs) > 0 {
		since = reqs[len(reqs)-1].Seq
	}
	plan, err := call[dcrflow.PortalPlan](h, a.PlanPortal, spec)
	if err != nil {
		h.t.Fatalf("plan: %v", err)
	}
	reqs := h.sb.Sandbox.Requests(since)
	if len(reqs) == 0 {
		h.t.Fatal("the plan made no call at all")
	}
	for _, r := range reqs {
		if r.Method != "GET" {
			h.t.Errorf("the plan wrote: %s %s", r.Method, r.Path)
		}
	}
	return plan
}

func TestPlanPortal_OnAFreshOrgCreatesEverythingWithOnlyGETs(t *testing.T) {
	h := newHarness(t)
	plan := planOnly(h, planSpec())
	want := []string{"scope pay:read create", "scope pay:write create", "claim client_id create", "access_policy Default Policy adopt",
		"dcr_provider dcrflow-p create", "auth_strategy dcrflow-p create",
		"publication payments-api publish", "publication refunds-api publish"}
	if got := actions(plan); !slices.Equal(got, want) || len(plan.Problems) != 0 {
		t.Fatalf("plan = %v, problems %v; want %v", got, plan.Problems, want)
	}
	if plan.AuthServerID != "default" || !strings.HasSuffix(plan.Issuer, "/oauth2/default") || plan.PortalID == "" {
		t.Errorf("targets = %+v", plan)
	}
}

// TestPlanPortal_SaysWhatTheRunThenDoes runs the Ensure* activities after the plan,
// as the saga does, and compares each plan item with the resource the run reports.
func TestPlanPortal_SaysWhatTheRunThenDoes(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	spec := planSpec()
	// pay:read exists (adopted); payments-api is published with someone else's strategy.
	if _, err := h.okta.CreateScope(ctx, "default", okta.Scope{Name: "pay:read", Consent: okta.ConsentImplicit}); err != nil {
		t.Fatal(err)
	}
	theirs, err := h.kon.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{Name: "theirs", DisplayName: "T",
		Issuer: "https://elsewhere/oauth2/x", CredentialClaim: []string{"sub"}, Scopes: []string{"x"}, AuthMethods: []string{"bearer"}})
	if err != nil {
		t.Fatal(err)
	}
	portal, _ := h.kon.Portals.Resolve(ctx, "payments")
	api, _ := h.kon.APIs.Resolve(ctx, "payments-api")
	if _, err := h.kon.Publications.Put(ctx, api.ID, portal.ID, konnect.Publication{AuthStrategyIDs: []string{theirs.ID}, Visibility: "private"}); err != nil {
		t.Fatal(err)
	}
	plan := planOnly(h, spec)
	want := []string{"scope pay:read adopt", "scope pay:write create", "claim client_id create", "access_policy Default Policy adopt",
		"dcr_provider dcrflow-p create", "auth_strategy dcrflow-p create",
		"publication payments-api republish", "publication refunds-api publish"}
	if got := actions(plan); !slices.Equal(got, want) {
		t.Fatalf("plan = %v, want %v", got, want)
	}
	if d := strings.Join(plan.Items[6].Diffs, "; "); !strings.Contains(d, theirs.ID) || !strings.Contains(d, "visibility is private, want public") {
		t.Errorf("republish diffs = %q", d)
	}

	// The run, step by step.
	var run []dcrflow.Resource
	ensure := func(fn, in any) dcrflow.Resource {
		r, err := call[dcrflow.Resource](h, fn, in)
		if err != nil {
			t.Fatal(err)
		}
		run = append(run, r)
		return r
	}
	for _, sc := range spec.Scopes {
		ensure(a.EnsureScope, activities.ScopeInput{AuthServerID: "default", Scope: sc, PortalKey: spec.Key})
	}
	ensure(a.EnsureClaim, activities.ClaimInput{AuthServerID: "default", Name: spec.ClaimName})
	pol, err := call[activities.PolicyResult](h, a.EnsureAccessPolicy, activities.PolicyInput{AuthServerID: "default", Scopes: []string{"pay:read", "pay:write"}, PortalKey: spec.Key})
	if err != nil {
		t.Fatal(err)
	}
	run = append(run, pol.Resource)
	prov := ensure(a.EnsureDCRProvider, activities.ProviderInput{Name: spec.DCRProvider, Issuer: plan.Issuer, TokenName: "default", PortalKey: spec.Key})
	strat := ensure(a.EnsureAuthStrategy, activities.StrategyInput{Strategy: spec.Strategy, Issuer: plan.Issuer, Scopes: []string{"pay:read", "pay:write"},
		ClaimName: spec.ClaimName, ProviderID: prov.ID, PortalKey: spec.Key})
	for _, x := range spec.APIs {
		found, _ := h.kon.APIs.Resolve(ctx, x.API)
		pub, err := call[activities.PublishResult](h, a.PublishAPI, activities.PublishInput{APIID: found.ID, APIName: x.API, PortalID: portal.ID,
			StrategyID: strat.ID, Visibility: x.Visibility, AutoApprove: x.AutoApprove})
		if err != nil {
			t.Fatal(err)
		}
		run = append(run, pub.Resource)
	}
	if len(run) != len(plan.Items) {
		t.Fatalf("run reported %d resources, plan %d items", len(run), len(plan.Items))
	}
	for i, it := range plan.Items {
		r := run[i]
		if r.Kind != it.Kind || r.Name != it.Name || r.Action != dcrflow.RunActionFor(it.Action) || (it.ID != "" && it.ID != r.ID) {
			t.Errorf("item %d: plan %+v, run %+v", i, it, r)
		}
	}
	// The republished publication records what it replaced, for offboarding.
	if prev := run[6].Previous; prev == nil || !slices.Equal(prev.AuthStrategyIDs, []string{theirs.ID}) || prev.Visibility != "private" {
		t.Errorf("previous of the republished publication = %+v", prev)
	}

	// Planned again, everything is adopted or unchanged.
	for _, it := range planOnly(h, spec).Items {
		if it.Action != dcrflow.PlanAdopt && it.Action != dcrflow.PlanUnchanged {
			t.Errorf("after the run: %+v", it)
		}
	}
}

// TestPlanPortal_AConflictIsTheRunsOwnMessage: the plan's problem is word for word
// the error the run fails with.
func TestPlanPortal_AConflictIsTheRunsOwnMessage(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	spec := planSpec()
	issuer := h.sb.OktaURL + "/oauth2/default"
	prov, err := call[dcrflow.Resource](h, a.EnsureDCRProvider, activities.ProviderInput{Name: spec.DCRProvider, Issuer: issuer, TokenName: "default", PortalKey: "other"})
	if err != nil {
		t.Fatal(err)
	}
	// Another portal's strategy of the same name, with other scopes and methods.
	if _, err := h.kon.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{Name: spec.Strategy.Name, DisplayName: "Other",
		Issuer: issuer, CredentialClaim: []string{"client_id"}, Scopes: []string{"other:read"}, AuthMethods: []string{"bearer"}, DCRProviderID: prov.ID}); err != nil {
		t.Fatal(err)
	}
	plan := planOnly(h, spec)
	i := slices.IndexFunc(plan.Items, func(it dcrflow.PlanItem) bool { return it.Kind == dcrflow.KindAuthStrategy })
	if i < 0 || plan.Items[i].Action != dcrflow.PlanConflict || len(plan.Items[i].Diffs) != 2 {
		t.Fatalf("strategy item = %+v", plan.Items)
	}
	if plan.Items[i-1].Action != dcrflow.PlanAdopt {
		t.Errorf("the provider of the same name and issuer: %+v", plan.Items[i-1])
	}
	_, runErr := call[dcrflow.Resource](h, a.EnsureAuthStrategy, activities.StrategyInput{Strategy: spec.Strategy, Issuer: issuer,
		Scopes: []string{"pay:read", "pay:write"}, ClaimName: spec.ClaimName, ProviderID: prov.ID, PortalKey: spec.Key})
	if typ, _ := errType(t, runErr); typ != dcrflow.ErrTypeConflict {
		t.Fatalf("run: %v", runErr)
	}
	if len(plan.Problems) != 1 || !strings.Contains(runErr.Error(), plan.Problems[0]) {
		t.Errorf("plan problems %q, run error %q", plan.Problems, runErr)
	}
}

func TestPlanPortal_ListsEveryMissingTargetAndPlansTheRest(t *testing.T) {
	h := newHarness(t)
	spec := planSpec()
	spec.DCRTokenName = "nope-token"
	spec.APIs = append(spec.APIs, dcrflow.APISpec{API: "no-such-api", Visibility: "public"})
	plan := planOnly(h, spec)
	got := actions(plan)
	for _, want := range []string{"dcr_token nope-token missing", "api no-such-api missing", "scope pay:read create", "publication payments-api publish"} {
		if !slices.Contains(got, want) {
			t.Errorf("plan %v lacks %q", got, want)
		}
	}
	if len(plan.Problems) != 2 {
		t.Errorf("problems = %q, want the token and the API", plan.Problems)
	}

	// An unknown server and portal: nothing to judge against, two problems.
	spec = planSpec()
	spec.AuthServer, spec.Portal = "nope-server", "nope-portal"
	plan = planOnly(h, spec)
	if got := actions(plan); !slices.Equal(got, []string{"auth_server nope-server missing", "portal nope-portal missing"}) || len(plan.Problems) != 2 {
		t.Errorf("plan = %v, problems %q", got, plan.Problems)
	}
}
