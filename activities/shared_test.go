package activities_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/usage"
)

// Interleavings of two portals, a and b, on one shared resource of each kind, with
// the real activities against the sandbox and the usage record in memory.

// shared is one kind of resource two portals can share.
type shared struct {
	kind    dcrflow.Kind
	ensure  func(h *harness, portal string) (dcrflow.Resource, error)
	release activities.ReleaseInput // without the portal
	exists  func(h *harness) bool
}

func sharedKinds(h *harness) []shared {
	ctx := context.Background()
	issuer := h.sb.OktaURL + "/oauth2/default"
	// What the strategy and the publication need, made by someone else.
	prov, err := h.kon.DCRProviders.CreateOkta(ctx, konnect.CreateOktaProvider{Name: "their-provider", Issuer: issuer, DCRToken: sbokta.DefaultDCRToken})
	if err != nil {
		h.t.Fatal(err)
	}
	strat, portal, api := h.publishTargets()
	strategyIn := func(portal string) activities.StrategyInput {
		return activities.StrategyInput{Strategy: dcrflow.StrategySpec{Name: "shared-strategy", DisplayName: "Shared", AuthMethods: []string{"client_credentials"}},
			Issuer: issuer, Scopes: []string{"shared:read"}, ClaimName: "client_id", ProviderID: prov.ID, PortalKey: portal}
	}
	return []shared{
		{
			kind: dcrflow.KindScope,
			ensure: func(h *harness, p string) (dcrflow.Resource, error) {
				return call[dcrflow.Resource](h, a.EnsureScope, activities.ScopeInput{AuthServerID: "default", Scope: dcrflow.ScopeSpec{Name: "shared:read"}, PortalKey: p})
			},
			release: activities.ReleaseInput{Kind: dcrflow.KindScope, Name: "shared:read", AuthServerID: "default", Issuer: issuer},
			exists: func(h *harness) bool {
				s, err := h.okta.FindScope(ctx, "default", "shared:read")
				return err == nil && s != nil
			},
		},
		{
			kind: dcrflow.KindClaim,
			ensure: func(h *harness, p string) (dcrflow.Resource, error) {
				return call[dcrflow.Resource](h, a.EnsureClaim, activities.ClaimInput{AuthServerID: "default", Name: "shared_cid", PortalKey: p})
			},
			release: activities.ReleaseInput{Kind: dcrflow.KindClaim, Name: "shared_cid", AuthServerID: "default", Issuer: issuer},
			exists: func(h *harness) bool {
				c, err := h.okta.FindClaim(ctx, "default", "shared_cid", okta.ClaimTypeResource)
				return err == nil && c != nil
			},
		},
		{
			kind: dcrflow.KindDCRProvider,
			ensure: func(h *harness, p string) (dcrflow.Resource, error) {
				return call[dcrflow.Resource](h, a.EnsureDCRProvider, activities.ProviderInput{Name: "shared-provider", Issuer: issuer, TokenName: "default", PortalKey: p})
			},
			release: activities.ReleaseInput{Kind: dcrflow.KindDCRProvider, Name: "shared-provider"},
			exists: func(h *harness) bool {
				p, err := h.kon.DCRProviders.FindByName(ctx, "shared-provider")
				return err == nil && p != nil
			},
		},
		{
			kind: dcrflow.KindAuthStrategy,
			ensure: func(h *harness, p string) (dcrflow.Resource, error) {
				return call[dcrflow.Resource](h, a.EnsureAuthStrategy, strategyIn(p))
			},
			release: activities.ReleaseInput{Kind: dcrflow.KindAuthStrategy, Name: "shared-strategy"},
			exists: func(h *harness) bool {
				s, err := h.kon.AuthStrategies.FindByName(ctx, "shared-strategy")
				return err == nil && s != nil
			},
		},
		{
			kind: dcrflow.KindPublication,
			ensure: func(h *harness, p string) (dcrflow.Resource, error) {
				r, err := call[activities.PublishResult](h, a.PublishAPI, activities.PublishInput{PortalKey: p, APIID: api.ID, APIName: api.Name,
					PortalID: portal.ID, StrategyID: strat.ID, Visibility: "public"})
				return r.Resource, err
			},
			release: activities.ReleaseInput{Kind: dcrflow.KindPublication, Name: api.Name, APIID: api.ID, PortalID: portal.ID, StrategyID: strat.ID},
			exists: func(h *harness) bool {
				_, err := h.kon.Publications.Get(ctx, api.ID, portal.ID)
				return err == nil
			},
		},
	}
}

func releaseFor(h *harness, in activities.ReleaseInput, portal string) activities.UndoResult {
	h.t.Helper()
	in.PortalKey = portal
	r, err := call[activities.UndoResult](h, a.ReleaseResource, in)
	if err != nil {
		h.t.Fatalf("release %s for %s: %v", in.Kind, portal, err)
	}
	return r
}

// a creates, b adopts, a fails and is undone: the resource stays for b (the claim
// and scope no longer vanish under a portal between its steps 3 and 6); b's undo is
// the last and removes it.
func TestShared_CreatorUndoesWhileAnAdopterStillUsesIt(t *testing.T) {
	h := newHarness(t)
	for _, k := range sharedKinds(h) {
		t.Run(string(k.kind), func(t *testing.T) {
			ra, err := k.ensure(h, "a")
			if err != nil || (ra.Action != dcrflow.ActionCreated && ra.Action != dcrflow.ActionPublished) {
				t.Fatalf("a: %+v %v", ra, err)
			}
			// (The test environment gives every call the same run id, so b may take
			// a's Konnect resource for its own run's: created; the id is what counts.)
			rb, err := k.ensure(h, "b")
			if err != nil || rb.ID != ra.ID || (rb.Action == dcrflow.ActionPublished) {
				t.Fatalf("b: %+v %v, want a's %s", rb, err, ra.ID)
			}
			if u := releaseFor(h, k.release, "a"); !u.Kept || !strings.Contains(u.Reason, "still used by portal(s) b") {
				t.Fatalf("a's undo = %+v, want kept for b", u)
			}
			if !k.exists(h) {
				t.Fatal("a's undo removed what b uses")
			}
			if u := releaseFor(h, k.release, "b"); u.Kept {
				t.Fatalf("b's undo = %+v, want removed", u)
			}
			if k.exists(h) {
				t.Fatal("the last user's undo left it behind")
			}
			// Undoing again (a retry) changes nothing and fails nothing.
			releaseFor(h, k.release, "b")
		})
	}
}

// Two portals create the same resource at once: both find none; the second create is
// refused (Konnect 409, Okta 400 E0000001) and adopts what the first made; one exists.
func TestShared_BothCreateAtOnceConverge(t *testing.T) {
	for _, kind := range []dcrflow.Kind{dcrflow.KindScope, dcrflow.KindClaim, dcrflow.KindDCRProvider, dcrflow.KindAuthStrategy} {
		t.Run(string(kind), func(t *testing.T) {
			h := newHarness(t)
			var k shared
			for _, s := range sharedKinds(h) {
				if s.kind == kind {
					k = s
				}
			}
			path := map[dcrflow.Kind]string{dcrflow.KindDCRProvider: "/v2/dcr-providers", dcrflow.KindAuthStrategy: "/v2/application-auth-strategies",
				dcrflow.KindScope: "/api/v1/authorizationServers/default/scopes", dcrflow.KindClaim: "/api/v1/authorizationServers/default/claims"}[kind]
			// b's create waits a second before Konnect sees it; a creates meanwhile.
			slow, err := h.sb.Sandbox.Faults.Add(faults.Fault{Method: "POST", Path: path, LatencyMS: 1000, Count: 1})
			if err != nil {
				t.Fatal(err)
			}
			bEnv := *h
			bEnv.env = newHarnessEnv(h)
			var rb dcrflow.Resource
			var errB error
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				rb, errB = k.ensure(&bEnv, "b")
			}()
			deadline := time.Now().Add(10 * time.Second)
			for hits(h, slow.ID) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("b's create never reached the sandbox")
				}
				time.Sleep(10 * time.Millisecond)
			}
			ra, errA := k.ensure(h, "a")
			wg.Wait()
			if errA != nil || ra.Action != dcrflow.ActionCreated {
				t.Fatalf("a: %+v %v", ra, errA)
			}
			if errB != nil || rb.ID != ra.ID {
				t.Fatalf("b: %+v %v, want it to adopt a's %s", rb, errB, ra.ID)
			}
			refused := 0
			for _, q := range h.sb.Sandbox.Requests(0) {
				if q.Method == "POST" && q.Path == path && (q.Status == 409 || q.Status == 400) {
					refused++
				}
			}
			if refused != 1 {
				t.Errorf("%d creates refused as duplicates, want b's one", refused)
			}
			// Both use it: a's undo keeps it, b's removes it.
			if u := releaseFor(h, k.release, "a"); !u.Kept {
				t.Fatalf("a's undo = %+v", u)
			}
			releaseFor(h, k.release, "b")
			if k.exists(h) {
				t.Fatal("left behind")
			}
		})
	}
}

func hits(h *harness, id string) int {
	for _, f := range h.sb.Sandbox.Faults.List() {
		if f.ID == id {
			return f.Hits
		}
	}
	return -1
}

// The create's answer is lost and the step then fails for good: the undo recorded
// before the step still removes what the create made — the claim too, which carries
// no marker: the record noted the create before it was sent.
func TestShared_ALostCreateAnswerThenAPermanentFailureIsUndone(t *testing.T) {
	h := newHarness(t)
	for _, k := range sharedKinds(h) {
		if k.kind == dcrflow.KindPublication {
			continue
		}
		t.Run(string(k.kind), func(t *testing.T) {
			// The attempt created it; its answer never reached the workflow, and the
			// next attempt failed for good (say a 401): only the undo runs.
			if _, err := k.ensure(h, "a"); err != nil {
				t.Fatal(err)
			}
			if u := releaseFor(h, k.release, "a"); u.Kept {
				t.Fatalf("undo = %+v", u)
			}
			if k.exists(h) {
				t.Fatal("the resource whose create answer was lost is left behind")
			}
		})
	}
}

// A claim that existed before dcrflow (the customer's) is never removed, even by its
// last user.
func TestShared_APreexistingClaimIsKeptByItsLastUser(t *testing.T) {
	h := newHarness(t)
	yes := true
	if _, err := h.okta.CreateClaim(context.Background(), "default", okta.Claim{Name: "shared_cid", Status: okta.StatusActive,
		ClaimType: okta.ClaimTypeResource, ValueType: okta.ValueTypeExpression, Value: activities.ClaimValue, AlwaysIncludeInToken: &yes}); err != nil {
		t.Fatal(err)
	}
	k := sharedKinds(h)[1]
	if r, err := k.ensure(h, "a"); err != nil || r.Action != dcrflow.ActionAdopted {
		t.Fatalf("a: %+v %v", r, err)
	}
	if u := releaseFor(h, k.release, "a"); !u.Kept || !strings.Contains(u.Reason, "no record says dcrflow created it") {
		t.Fatalf("undo = %+v", u)
	}
	if !k.exists(h) {
		t.Fatal("the customer's claim was deleted")
	}
}

// a's worker dies right after a joined the scope, before its create; b creates it.
// b's undo keeps it (a may still rely on it once retried); a's undo, the last, removes
// it: nothing is lost while a could use it, nothing is left once nobody does.
func TestShared_AWorkerKilledBetweenJoinAndCreate(t *testing.T) {
	h := newHarness(t)
	k := sharedKinds(h)[0]
	key := usage.Key{Kind: dcrflow.KindScope, Name: "shared:read"}
	if _, err := h.acts.Usage.Join(context.Background(), usage.Join{Domain: usage.OktaDomain("default"), Key: key, Portal: "a", Run: "default-test-run-id"}); err != nil {
		t.Fatal(err)
	}
	if r, err := k.ensure(h, "b"); err != nil || r.Action != dcrflow.ActionCreated {
		t.Fatalf("b: %+v %v", r, err)
	}
	if u := releaseFor(h, k.release, "b"); !u.Kept || !strings.Contains(u.Reason, "portal(s) a") {
		t.Fatalf("b's undo = %+v, want kept for a", u)
	}
	// a's retry relies on it: still there.
	if r, err := k.ensure(h, "a"); err != nil || r.Action != dcrflow.ActionAdopted {
		t.Fatalf("a's retry: %+v %v", r, err)
	}
	if u := releaseFor(h, k.release, "a"); u.Kept || k.exists(h) {
		t.Fatalf("a's undo = %+v, exists %v; want removed", u, k.exists(h))
	}
}

// Offboarding a while b holds (b joined and waits for a decision): what b uses stays;
// b's later compensation removes it, being the last.
func TestShared_OffboardOneWhileTheOtherHolds(t *testing.T) {
	h := newHarness(t)
	for _, k := range sharedKinds(h) {
		if k.kind == dcrflow.KindPublication {
			continue // offboarding a publication: see the e2e test
		}
		t.Run(string(k.kind), func(t *testing.T) {
			if _, err := k.ensure(h, "a"); err != nil {
				t.Fatal(err)
			}
			if _, err := k.ensure(h, "b"); err != nil { // b is held after this step
				t.Fatal(err)
			}
			fn := map[dcrflow.Kind]any{dcrflow.KindScope: a.OffboardScope, dcrflow.KindClaim: a.OffboardClaim,
				dcrflow.KindDCRProvider: a.OffboardDCRProvider, dcrflow.KindAuthStrategy: a.OffboardAuthStrategy}[k.kind]
			r, err := call[dcrflow.Resource](h, fn, activities.OffboardItemInput{PortalKey: "a", Name: k.release.Name, AuthServerID: k.release.AuthServerID, Issuer: k.release.Issuer})
			if err != nil || r.Action != dcrflow.ActionKept || !strings.Contains(r.Reason, "portal(s) b") {
				t.Fatalf("offboarding a: %+v %v, want kept for b", r, err)
			}
			if !k.exists(h) {
				t.Fatal("offboarding a removed what b holds")
			}
			if u := releaseFor(h, k.release, "b"); u.Kept || k.exists(h) {
				t.Fatalf("b's compensation = %+v, exists %v", u, k.exists(h))
			}
		})
	}
}

// The access policy is a portal's own: another portal never counts it as cover, and
// undoing one portal's removes only that one.
func TestShared_AccessPoliciesArePerPortal(t *testing.T) {
	h := newHarness(t)
	server := sbokta.NoPolicyServerID
	ensure := func(p string, ensure bool) (activities.PolicyResult, error) {
		return call[activities.PolicyResult](h, a.EnsureAccessPolicy, activities.PolicyInput{AuthServerID: server, Scopes: []string{"x:read"}, PortalKey: p, Ensure: ensure})
	}
	if _, err := call[dcrflow.Resource](h, a.EnsureScope, activities.ScopeInput{AuthServerID: server, Scope: dcrflow.ScopeSpec{Name: "x:read"}, PortalKey: "a"}); err != nil {
		t.Fatal(err)
	}
	pa, err := ensure("a", true)
	if err != nil || pa.Resource.Action != dcrflow.ActionCreated {
		t.Fatalf("a: %+v %v", pa, err)
	}
	if _, err := call[any](h, a.EnsureAccessPolicyRule, activities.PolicyRuleInput{AuthServerID: server, PolicyID: pa.Resource.ID, PolicyName: pa.Resource.Name, Scopes: []string{"x:read"}, PortalKey: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ensure("b", false); err == nil || !strings.Contains(err.Error(), "belongs to another portal") {
		t.Fatalf("b in check mode: %v, want a's policy not to count", err)
	}
	pb, err := ensure("b", true)
	if err != nil || pb.Resource.Action != dcrflow.ActionCreated || pb.Resource.ID == pa.Resource.ID {
		t.Fatalf("b: %+v %v", pb, err)
	}
	rel := activities.ReleaseInput{Kind: dcrflow.KindAccessPolicy, Name: pa.Resource.Name, AuthServerID: server}
	if u := releaseFor(h, rel, "a"); u.Kept {
		t.Fatalf("a's undo = %+v", u)
	}
	if got := h.policies(server); len(got) != 1 || got[0].ID != pb.Resource.ID {
		t.Fatalf("policies after a's undo = %+v, want b's alone", got)
	}
}

// newHarnessEnv is a second activity environment on the same activities, for a
// portal that runs at the same time as the harness's.
func newHarnessEnv(h *harness) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(h.acts)
	return env
}

// A last leaver whose removal fails (here for good) gives the resource back: another
// portal can join at once instead of waiting for the lease to expire, and the
// resource's record survives for the next last leaver.
func TestShared_AFailedRemovalReleasesTheResource(t *testing.T) {
	h := newHarness(t)
	k := sharedKinds(h)[2] // the DCR provider
	if _, err := k.ensure(h, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sb.Sandbox.Faults.Add(faults.Fault{Method: "DELETE", Path: "/v2/dcr-providers/*", Status: 403, Count: 1}); err != nil {
		t.Fatal(err)
	}
	in := k.release
	in.PortalKey = "a"
	if _, err := call[activities.UndoResult](h, a.ReleaseResource, in); err == nil {
		t.Fatal("the refused delete did not fail the undo")
	}
	if r, err := k.ensure(h, "b"); err != nil || !k.exists(h) {
		t.Fatalf("b after a's failed undo: %+v %v, want it to join at once", r, err)
	}
	if u := releaseFor(h, k.release, "b"); u.Kept || k.exists(h) {
		t.Fatalf("b's undo = %+v, exists %v", u, k.exists(h))
	}
}

// A publication that its last user left as someone else's (changed meanwhile in
// Konnect) leaves no record behind: the next portal that changes it notes what it
// finds then, and its undo puts that back — not what was there before the first.
func TestShared_APublicationsRecordDoesNotOutliveItsLastUser(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var k shared
	for _, s := range sharedKinds(h) {
		if s.kind == dcrflow.KindPublication {
			k = s
		}
	}
	if r, err := k.ensure(h, "a"); err != nil || r.Action != dcrflow.ActionPublished {
		t.Fatalf("a: %+v %v", r, err)
	}
	// Someone republishes it with their own strategy; a's undo keeps it.
	theirs, err := h.kon.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{Name: "theirs", DisplayName: "Theirs",
		Issuer: "https://elsewhere.example.com", CredentialClaim: []string{"sub"}, Scopes: []string{"x"}, AuthMethods: []string{"bearer"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.kon.Publications.Put(ctx, k.release.APIID, k.release.PortalID, konnect.Publication{AuthStrategyIDs: []string{theirs.ID}, Visibility: "private"}); err != nil {
		t.Fatal(err)
	}
	if u := releaseFor(h, k.release, "a"); !u.Kept {
		t.Fatalf("a's undo = %+v, want kept: not dcrflow's doing any more", u)
	}
	// b republishes it, then is undone: their publication comes back.
	if r, err := k.ensure(h, "b"); err != nil || r.Action != dcrflow.ActionUpdated {
		t.Fatalf("b: %+v %v", r, err)
	}
	releaseFor(h, k.release, "b")
	got, err := h.kon.Publications.Get(ctx, k.release.APIID, k.release.PortalID)
	if err != nil || len(got.AuthStrategyIDs) != 1 || got.AuthStrategyIDs[0] != theirs.ID {
		t.Fatalf("after b's undo: %+v %v, want their publication back", got, err)
	}
}
