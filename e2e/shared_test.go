package e2e

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/usage"
	"github.com/dcrflow/dcrflow/workflows"
)

// sharedAPIs are the sandbox's APIs: the first six are published by one group of
// portals each (a publication shared by the group), the last four by one failing
// portal each.
var sharedAPIs = []string{"payments-api", "refunds-api", "invoices-api", "customers-api", "accounts-api", "orders-api",
	"inventory-api", "shipping-api", "notifications-api", "reporting-api"}

// sharedPortal is a portal of the heavy-sharing fleet: on server srv ("default" in
// check mode, "partners" with its own access policy), in group g; every portal of a
// server shares the claim, the scope <srv>-all:read and the DCR provider; every portal
// of a group also shares the scope <srv>-g<g>:read, the auth strategy and the
// publication of its API.
func sharedPortal(srv string, g, i int) dcrflow.PortalSpec {
	short := srv[:3]
	s := dcrflow.PortalSpec{Key: fmt.Sprintf("%s-g%d-p%d", short, g, i), Portal: "payments", AuthServer: srv, ClaimName: "client_id",
		Scopes:      []dcrflow.ScopeSpec{{Name: short + "-all:read"}, {Name: fmt.Sprintf("%s-g%d:read", short, g)}},
		DCRProvider: "dcrflow-" + short, DCRTokenName: "default",
		Strategy: dcrflow.StrategySpec{Name: fmt.Sprintf("dcrflow-%s-g%d", short, g), DisplayName: fmt.Sprintf("Okta DCR %s %d", short, g), AuthMethods: []string{"client_credentials"}},
		APIs:     []dcrflow.APISpec{{API: sharedAPIs[g], Visibility: "public"}},
		Validate: true, OnFailure: dcrflow.OnFailureCompensate, AccessPolicy: dcrflow.AccessPolicyCheck, UpsertSearchAttributes: true}
	if srv == "partners" {
		s.AccessPolicy = dcrflow.AccessPolicyEnsure
	}
	return s
}

// failure is how a failing portal of the fleet is made to fail, after it joined
// what it shares with the others.
type failure struct {
	step  string
	setup func(t *testing.T, r *rig, s *dcrflow.PortalSpec, st state, n int)
}

// failureKinds is len(sharedFailures).
const failureKinds = 5

var sharedFailures = []failure{
	{workflows.StepResolve, func(t *testing.T, r *rig, s *dcrflow.PortalSpec, _ state, _ int) {
		s.APIs = append(s.APIs, dcrflow.APISpec{API: "no-such-api-" + s.Key, Visibility: "public"})
	}},
	{workflows.StepScopes, func(t *testing.T, r *rig, s *dcrflow.PortalSpec, st state, n int) {
		// Its own last scope exists with consent REQUIRED: a conflict after the
		// shared scopes were joined.
		name := "taken-" + s.Key + ":read"
		no := false
		if _, err := r.okta.CreateScope(context.Background(), server(st, s.AuthServer).ID, okta.Scope{Name: name, Description: "theirs",
			Consent: okta.ConsentRequired, MetadataPublish: okta.PublishAllClients, Default: &no}); err != nil {
			t.Fatal(err)
		}
		s.Scopes = append(s.Scopes, dcrflow.ScopeSpec{Name: name})
	}},
	{workflows.StepProvider, func(t *testing.T, r *rig, s *dcrflow.PortalSpec, _ state, _ int) {
		// Its own provider name is someone else's, for another issuer.
		s.DCRProvider = "taken-prov-" + s.Key
		if _, err := r.konnect.DCRProviders.CreateOkta(context.Background(), konnect.CreateOktaProvider{Name: s.DCRProvider,
			Issuer: "https://elsewhere.example.com/oauth2/x", DCRToken: sbokta.DefaultDCRToken}); err != nil {
			t.Fatal(err)
		}
	}},
	{workflows.StepStrategy, func(t *testing.T, r *rig, s *dcrflow.PortalSpec, _ state, _ int) {
		// Shares the provider, but its own strategy name is someone else's.
		s.Strategy.Name = "taken-strat-" + s.Key
		if _, err := r.konnect.AuthStrategies.CreateOIDC(context.Background(), konnect.CreateOIDCStrategy{Name: s.Strategy.Name, DisplayName: "Theirs",
			Issuer: "https://elsewhere.example.com", CredentialClaim: []string{"sub"}, Scopes: []string{"x"}, AuthMethods: []string{"bearer"}}); err != nil {
			t.Fatal(err)
		}
	}},
	{workflows.StepPublish, func(t *testing.T, r *rig, s *dcrflow.PortalSpec, st state, n int) {
		// After the group's publication, its own API's publication is refused.
		api := sharedAPIs[6+n/failureKinds] // the n-th failing portal is the (n/5+1)-th to fail here
		for _, a := range s.APIs {
			if a.API == api {
				t.Fatalf("API %s used twice", api)
			}
		}
		s.APIs = append(s.APIs, dcrflow.APISpec{API: api, Visibility: "public"})
		addFault(t, r.sb, faults.Fault{Method: "PUT", Path: "/v3/apis/" + apiID(st, api) + "/publications/*", Status: 403})
	}},
}

// A fleet of 30 portals on two authorization servers sharing scopes, the claim, DCR
// providers, auth strategies and publications, all at once, ten of them made to fail
// at five different steps (after joining what they share) while transient faults,
// 429s and lost create answers hit the rest: every portal that succeeded passes the
// audit (a plan of it right after shows nothing to change), the failed ones left
// nothing that only they used, and nothing exists twice.
func TestShared_FleetWithHeavySharingAndFailures(t *testing.T) {
	r := startRig(t, devserver.Start(t))
	ctx := context.Background()
	st := r.state(t)
	var specs, ok, bad []dcrflow.PortalSpec
	wantStep := map[string]string{}
	failing := 0
	for _, srv := range []string{"default", "partners"} {
		for g := range 3 {
			for i := range 5 {
				s := sharedPortal(srv, g+3*btoi(srv == "partners"), i)
				// Portals 3 and 4 of each group fail (10 of 30: two per group but
				// two groups with one), each way in turn.
				if i >= 3 && !(i == 4 && g == 2) {
					f := sharedFailures[failing%len(sharedFailures)]
					f.setup(t, r, &s, st, failing)
					wantStep[s.Key] = f.step
					failing++
					bad = append(bad, s)
				} else {
					ok = append(ok, s)
				}
				specs = append(specs, s)
			}
		}
	}
	if len(specs) != 30 || len(bad) != 10 {
		t.Fatalf("fleet of %d with %d failing", len(specs), len(bad))
	}
	before := r.state(t)
	// Transient trouble for everyone: none of it may fail a portal.
	for _, f := range []faults.Fault{
		{Method: "POST", Path: "/api/v1/authorizationServers/*/scopes", Status: 503, Count: 4},
		{Method: "POST", Path: "/v2/application-auth-strategies", Status: 502, Count: 3},
		{Method: "PUT", Path: "/v3/apis/*/publications/*", Status: 429, RetryAfterSeconds: 1, Count: 3},
		// Creates that land but whose answers come after the step's timeout.
		{Method: "POST", Path: "/v2/dcr-providers", LatencyMS: 12000, DelayResponse: true, Count: 1},
		{Method: "POST", Path: "/api/v1/authorizationServers/*/claims", LatencyMS: 12000, DelayResponse: true, Count: 1},
	} {
		addFault(t, r.sb, f)
	}

	f, err := launcher.StartFleet(ctx, r.temporal, r.taskQueue, dcrflow.FleetInput{Name: "shared", Portals: specs, MaxConcurrent: len(specs)})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	sum, err := f.Wait(wctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Succeeded != len(ok) || sum.Failed != len(bad) {
		t.Errorf("%d succeeded, %d failed; want %d and %d: %+v", sum.Succeeded, sum.Failed, len(ok), len(bad), sum.Failures)
	}
	failed := map[string]bool{}
	for _, fl := range sum.Failures {
		failed[fl.Portal] = true
		if fl.Step != wantStep[fl.Portal] || !fl.Compensated {
			t.Errorf("failure %+v, want step %q, compensated", fl, wantStep[fl.Portal])
		}
	}
	for _, s := range bad {
		if !failed[s.Key] {
			t.Errorf("%s did not fail", s.Key)
		}
	}

	// The audit: right after, a plan of every portal that succeeded changes nothing.
	audit(t, r, ok)
	after := r.state(t)
	assertOnboarded(t, after, ok)
	assertNothingLeftBehind(t, before, after, ok)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// audit plans the portals: each must have nothing to create, publish or republish,
// and no problem.
func audit(t *testing.T, r *rig, specs []dcrflow.PortalSpec) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	plans, err := launcher.Plan(ctx, r.temporal, r.taskQueue, "audit", specs, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != len(specs) {
		t.Fatalf("%d plans for %d portals", len(plans), len(specs))
	}
	for _, p := range plans {
		if ch := launcher.PortalChanges(p); len(ch) > 0 || len(p.Problems) > 0 {
			t.Errorf("audit of %s: would change %+v; problems %v", p.Portal, ch, p.Problems)
		}
	}
}

// assertNothingLeftBehind: what exists now is what existed before plus exactly what
// the portals that succeeded use — each once.
func assertNothingLeftBehind(t *testing.T, before, after state, ok []dcrflow.PortalSpec) {
	t.Helper()
	want := map[string][]string{}
	add := func(kind, name string) {
		if !slices.Contains(want[kind], name) {
			want[kind] = append(want[kind], name)
		}
	}
	names := func(st state) map[string][]string {
		out := map[string][]string{}
		for _, s := range st.Okta.AuthorizationServers {
			for _, sc := range s.Scopes {
				out["scope"] = append(out["scope"], s.Name+"/"+sc.Name)
			}
			for _, c := range s.Claims {
				out["claim"] = append(out["claim"], s.Name+"/"+c.Name)
			}
			for _, p := range s.Policies {
				out["policy"] = append(out["policy"], s.Name+"/"+p.Name)
			}
		}
		for _, p := range st.Konnect.DCRProviders {
			out["provider"] = append(out["provider"], p.Name)
		}
		for _, s := range st.Konnect.AuthStrategies {
			out["strategy"] = append(out["strategy"], s.Name)
		}
		for _, p := range st.Konnect.Publications {
			out["publication"] = append(out["publication"], p.APIID+"/"+p.PortalID)
		}
		out["dcr_client"] = make([]string, len(st.Okta.Clients))
		return out
	}
	for kind, ns := range names(before) {
		for _, n := range ns {
			add(kind, n)
		}
	}
	for _, s := range ok {
		srv := server(after, s.AuthServer).Name
		for _, sc := range s.Scopes {
			add("scope", srv+"/"+sc.Name)
		}
		add("claim", srv+"/"+s.ClaimName)
		if s.AccessPolicy == dcrflow.AccessPolicyEnsure {
			add("policy", srv+"/dcrflow-"+s.Key)
		}
		add("provider", s.DCRProvider)
		add("strategy", s.Strategy.Name)
		for _, api := range s.APIs {
			add("publication", apiID(after, api.API)+"/"+portalID(after, s.Portal))
		}
	}
	got := names(after)
	for _, kind := range []string{"scope", "claim", "policy", "provider", "strategy", "publication", "dcr_client"} {
		g, w := slices.Clone(got[kind]), slices.Clone(want[kind])
		sort.Strings(g)
		sort.Strings(w)
		if kind == "dcr_client" {
			if len(g) != len(w) {
				t.Errorf("%d DCR clients left, %d before", len(g), len(w))
			}
			continue
		}
		if !slices.Equal(g, w) {
			t.Errorf("%ss:\n got  %v\n want %v", kind, g, w)
		}
	}
}

// Offboarding a while b, which shares everything with it, is held; then b is
// abandoned: a's offboarding keeps all that b uses; b's compensation, the last user's,
// removes what dcrflow made, and both orgs are as before.
func TestShared_OffboardWhileAnotherIsHeld(t *testing.T) {
	r := startRig(t, devserver.Start(t))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st := r.state(t)
	a, b := sharedPortal("default", 0, 0), sharedPortal("default", 0, 1)
	b.OnFailure = dcrflow.OnFailureHold
	b.APIs = append(b.APIs, dcrflow.APISpec{API: "reporting-api", Visibility: "public"})
	before := r.state(t)
	if o := r.onboard(t, []dcrflow.PortalSpec{a})[0]; !o.Succeeded {
		t.Fatal(o.Err)
	}
	addFault(t, r.sb, faults.Fault{Method: "PUT", Path: "/v3/apis/" + apiID(st, "reporting-api") + "/publications/*", Status: 403})
	runs, err := launcher.Start(ctx, r.temporal, r.taskQueue, []dcrflow.PortalSpec{b})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "b to hold at publish", func() bool {
		p, err := launcher.PortalProgress(ctx, r.temporal, b.Key)
		return err == nil && p.Held != nil && p.Held.Step == "publish"
	})
	inputs, err := launcher.PrepareOffboard(ctx, r.temporal, "", []dcrflow.PortalSpec{a})
	if err != nil {
		t.Fatal(err)
	}
	off, err := launcher.StartOffboard(ctx, r.temporal, r.taskQueue, inputs[0])
	if err != nil {
		t.Fatal(err)
	}
	o := launcher.WaitOffboard(ctx, off)
	if o.Err != nil {
		t.Fatal(o.Err)
	}
	for _, res := range o.Result.Resources {
		if res.Kind == dcrflow.KindAccessPolicy {
			continue // check mode: a made none
		}
		if res.Action != dcrflow.ActionKept || !strings.Contains(res.Reason, b.Key) {
			t.Errorf("offboarding a: %+v, want kept for %s", res, b.Key)
		}
	}
	assertOnboarded(t, r.state(t), []dcrflow.PortalSpec{a}) // all of it, as b uses it all
	// b gives up: its compensation is the last user's.
	if err := launcher.Decide(ctx, r.temporal, b.Key, dcrflow.DecisionAbandon); err != nil {
		t.Fatal(err)
	}
	if out := launcher.Wait(ctx, runs)[0]; out.Succeeded || out.Result == nil || len(out.Result.CompensationErrors) != 0 {
		t.Fatalf("b after abandon: %+v", out)
	}
	r.sb.Sandbox.Faults.Clear()
	assertUnchanged(t, before, r.state(t))
}

// The upgrade: portals onboarded before the usage record existed have none. Here a
// portal is onboarded, then the record is removed, as if the namespace came from the
// previous version. A second portal that shares everything with it starts the record
// anew with its first join — the record rebuilds itself from the onboarding records
// before it answers — then fails for good: its undo removes nothing the first uses,
// and the first passes the audit.
func TestShared_UpgradeRebuildsTheRecordBeforeAnythingIsDeleted(t *testing.T) {
	r := startRig(t, devserver.Start(t))
	st := r.state(t)
	a, b := sharedPortal("partners", 0, 0), sharedPortal("partners", 0, 1)
	b.APIs = append(b.APIs, dcrflow.APISpec{API: "reporting-api", Visibility: "public"})
	if o := r.onboard(t, []dcrflow.PortalSpec{a})[0]; !o.Succeeded {
		t.Fatal(o.Err)
	}
	if n := terminateUsageRecords(t, r, a); n < 2 {
		t.Fatalf("terminated %d usage records, want at least the server's and Konnect's", n)
	}
	addFault(t, r.sb, faults.Fault{Method: "PUT", Path: "/v3/apis/" + apiID(st, "reporting-api") + "/publications/*", Status: 403})
	out := r.onboard(t, []dcrflow.PortalSpec{b})[0]
	if out.Succeeded || out.Result == nil || out.Result.Failure == nil || out.Result.Failure.Step != "publish" {
		t.Fatalf("b: %+v", out)
	}
	kept := 0
	for _, c := range out.Result.Compensated {
		if strings.Contains(c, "kept: still used by portal(s) "+a.Key) {
			kept++
		}
	}
	// scopes (2), claim, provider, strategy, the group's publication: kept for a.
	if kept != 6 {
		t.Errorf("b's compensation kept %d for a, want 6: %v", kept, out.Result.Compensated)
	}
	r.sb.Sandbox.Faults.Clear()
	audit(t, r, []dcrflow.PortalSpec{a})
	assertOnboarded(t, r.state(t), []dcrflow.PortalSpec{a})
}

// terminateUsageRecords ends the UsageRecord workflows that hold the portal's
// resources and returns how many there were.
func terminateUsageRecords(t *testing.T, r *rig, spec dcrflow.PortalSpec) int {
	t.Helper()
	ctx := context.Background()
	st := r.state(t)
	rec := usage.Temporal{TaskQueue: r.taskQueue, OktaOrg: usage.OrgOf(r.sb.OktaURL), KonnectOrg: usage.OrgOf(r.sb.KonnectURL)}
	okta, konnect := usage.OktaDomain(server(st, spec.AuthServer).ID), usage.KonnectDomain
	ids := map[string]bool{}
	add := func(domain string, kind dcrflow.Kind, name string) {
		ids[rec.WorkflowID(domain, usage.ShardOf(usage.Key{Kind: kind, Name: name}))] = true
	}
	for _, sc := range spec.Scopes {
		add(okta, dcrflow.KindScope, sc.Name)
	}
	add(okta, dcrflow.KindClaim, spec.ClaimName)
	add(okta, dcrflow.KindAccessPolicy, "dcrflow-"+spec.Key)
	add(konnect, dcrflow.KindDCRProvider, spec.DCRProvider)
	add(konnect, dcrflow.KindAuthStrategy, spec.Strategy.Name)
	for _, api := range spec.APIs {
		add(konnect, dcrflow.KindPublication, apiID(st, api.API)+"/"+portalID(st, spec.Portal))
	}
	for id := range ids {
		if err := r.temporal.TerminateWorkflow(ctx, id, "", "simulate a namespace from before the usage record"); err != nil {
			t.Fatalf("terminate %s: %v", id, err)
		}
	}
	return len(ids)
}
