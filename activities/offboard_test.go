package activities_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
)

// onboarded is a portal onboarded through the activities, as the saga does: one
// scope, the claim, a provider, a strategy and payments-api published with it.
type onboarded struct {
	issuer                  string
	scope, claim, prov, str dcrflow.Resource
	pub                     activities.PublishResult
	portal                  *konnect.Portal
	api                     *konnect.API
}

func (h *harness) onboardOne(apiPublishedBefore *konnect.Publication) onboarded {
	h.t.Helper()
	ctx := context.Background()
	var o onboarded
	o.issuer = h.sb.OktaURL + "/oauth2/default"
	must := func(r dcrflow.Resource, err error) dcrflow.Resource {
		h.t.Helper()
		if err != nil {
			h.t.Fatal(err)
		}
		return r
	}
	o.scope = must(call[dcrflow.Resource](h, a.EnsureScope, activities.ScopeInput{AuthServerID: "default", Scope: dcrflow.ScopeSpec{Name: "pay:read"}, PortalKey: "p"}))
	o.claim = must(call[dcrflow.Resource](h, a.EnsureClaim, activities.ClaimInput{AuthServerID: "default", Name: "client_id"}))
	o.prov = must(call[dcrflow.Resource](h, a.EnsureDCRProvider, activities.ProviderInput{Name: "dcrflow-p", Issuer: o.issuer, TokenName: "default", PortalKey: "p"}))
	o.str = must(call[dcrflow.Resource](h, a.EnsureAuthStrategy, activities.StrategyInput{Strategy: dcrflow.StrategySpec{Name: "dcrflow-p", DisplayName: "P", AuthMethods: []string{"bearer"}},
		Issuer: o.issuer, Scopes: []string{"pay:read"}, ClaimName: "client_id", ProviderID: o.prov.ID, PortalKey: "p"}))
	o.portal, _ = h.kon.Portals.Resolve(ctx, "payments")
	o.api, _ = h.kon.APIs.Resolve(ctx, "payments-api")
	if apiPublishedBefore != nil {
		if _, err := h.kon.Publications.Put(ctx, o.api.ID, o.portal.ID, *apiPublishedBefore); err != nil {
			h.t.Fatal(err)
		}
	}
	pub, err := call[activities.PublishResult](h, a.PublishAPI, activities.PublishInput{APIID: o.api.ID, APIName: "payments-api", PortalID: o.portal.ID,
		StrategyID: o.str.ID, Visibility: "public"})
	if err != nil {
		h.t.Fatal(err)
	}
	o.pub = pub
	return o
}

func (o onboarded) item(name string) activities.OffboardItemInput {
	return activities.OffboardItemInput{PortalKey: "p", Name: name, AuthServerID: "default", Issuer: o.issuer}
}

func (o onboarded) publication(before *dcrflow.PublicationSettings, known bool) activities.OffboardPublicationInput {
	return activities.OffboardPublicationInput{APIID: o.api.ID, APIName: "payments-api", PortalID: o.portal.ID,
		Strategies: []activities.OwnedResource{{ID: o.str.ID, Name: "dcrflow-p", Owned: true}}, Before: before, BeforeKnown: known}
}

// offboard runs one offboarding activity and checks the action (and a word of the reason).
func offboard(h *harness, fn any, in any, action dcrflow.Action, reason string) dcrflow.Resource {
	h.t.Helper()
	r, err := call[dcrflow.Resource](h, fn, in)
	if err != nil {
		h.t.Fatalf("%s: %v", action, err)
	}
	if r.Action != action || !strings.Contains(r.Reason, reason) {
		h.t.Fatalf("%s %s: %s (%s), want %s (%q)", r.Kind, r.Name, r.Action, r.Reason, action, reason)
	}
	return r
}

func TestOffboard_DeletesWhatDcrflowMadeInReverseOrderThenFindsItAbsent(t *testing.T) {
	h := newHarness(t)
	o := h.onboardOne(nil)
	if _, err := h.okta.CreateScope(context.Background(), "default", okta.Scope{Name: "theirs", Consent: okta.ConsentImplicit}); err != nil {
		t.Fatal(err)
	}
	targets, err := call[activities.OffboardTargets](h, a.FindOffboardTargets, activities.OffboardLookupInput{AuthServer: "default", Portal: "payments",
		APIs: []string{"payments-api", "no-such-api"}, Strategies: []string{"dcrflow-p", "no-such-strategy"}})
	if err != nil {
		t.Fatal(err)
	}
	if targets.AuthServerID != "default" || targets.PortalID != o.portal.ID || len(targets.APIs) != 2 || targets.APIs[1].ID != "" ||
		len(targets.Strategies) != 1 || !targets.Strategies[0].Owned {
		t.Fatalf("targets = %+v", targets)
	}
	for round, want := range []map[string]dcrflow.Action{
		{"pub": dcrflow.ActionUnpublished, "other": dcrflow.ActionDeleted},
		{"pub": dcrflow.ActionAbsent, "other": dcrflow.ActionAbsent}, // again: nothing to do, nothing written
	} {
		offboard(h, a.OffboardPublication, o.publication(nil, true), want["pub"], "")
		offboard(h, a.OffboardAuthStrategy, o.item("dcrflow-p"), want["other"], "")
		offboard(h, a.OffboardDCRProvider, o.item("dcrflow-p"), want["other"], "")
		reason := "recognised as dcrflow's by its name and value"
		if round == 1 {
			reason = ""
		}
		offboard(h, a.OffboardClaim, o.item("client_id"), want["other"], reason)
		offboard(h, a.OffboardScope, o.item("pay:read"), want["other"], "")
		offboard(h, a.OffboardScope, o.item("theirs"), dcrflow.ActionKept, "not created by dcrflow")
	}
}

func TestOffboard_KeepsWhatSomethingElseStillUses(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	o := h.onboardOne(nil)
	// Another team binds its own strategy to dcrflow's provider, with the same
	// issuer, claim and scope; and publishes refunds-api on another portal with
	// dcrflow's strategy.
	other, err := h.kon.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{Name: "other-team", DisplayName: "O", Issuer: o.issuer,
		CredentialClaim: []string{"client_id"}, Scopes: []string{"pay:read"}, AuthMethods: []string{"bearer"}, DCRProviderID: o.prov.ID})
	if err != nil {
		t.Fatal(err)
	}
	partners, _ := h.kon.Portals.Resolve(ctx, "partners")
	refunds, _ := h.kon.APIs.Resolve(ctx, "refunds-api")
	if _, err := h.kon.Publications.Put(ctx, refunds.ID, partners.ID, konnect.Publication{AuthStrategyIDs: []string{o.str.ID}, Visibility: "public"}); err != nil {
		t.Fatal(err)
	}
	offboard(h, a.OffboardPublication, o.publication(nil, true), dcrflow.ActionUnpublished, "")
	offboard(h, a.OffboardAuthStrategy, o.item("dcrflow-p"), dcrflow.ActionKept, "still used by a publication")
	offboard(h, a.OffboardDCRProvider, o.item("dcrflow-p"), dcrflow.ActionKept, "other-team")
	offboard(h, a.OffboardClaim, o.item("client_id"), dcrflow.ActionKept, "other-team")
	offboard(h, a.OffboardScope, o.item("pay:read"), dcrflow.ActionKept, "other-team")

	// Once they are gone, offboarding again removes the rest.
	if err := h.kon.Publications.Delete(ctx, refunds.ID, partners.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.kon.AuthStrategies.Delete(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	offboard(h, a.OffboardAuthStrategy, o.item("dcrflow-p"), dcrflow.ActionDeleted, "")
	offboard(h, a.OffboardDCRProvider, o.item("dcrflow-p"), dcrflow.ActionDeleted, "")
	// The claim existed before this portal was onboarded: it stays.
	adopted := o.item("client_id")
	adopted.Known = activities.Known{Adopted: []string{o.claim.ID}}
	offboard(h, a.OffboardClaim, adopted, dcrflow.ActionKept, "existed before")
	adopted.Known = activities.Known{Created: []string{o.claim.ID}, Adopted: []string{o.claim.ID}} // a later run adopted what an earlier created
	offboard(h, a.OffboardClaim, adopted, dcrflow.ActionDeleted, "")
}

func TestOffboardPublication_RestoresWhatItReplacedOrKeepsWhatIsNotDcrflows(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	legacy, err := h.kon.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{Name: "legacy", DisplayName: "L",
		Issuer: "https://legacy/oauth2/x", CredentialClaim: []string{"sub"}, Scopes: []string{"x"}, AuthMethods: []string{"bearer"}})
	if err != nil {
		t.Fatal(err)
	}
	o := h.onboardOne(&konnect.Publication{AuthStrategyIDs: []string{legacy.ID}, Visibility: "private", AutoApproveRegistrations: true})
	before := o.pub.Resource.Previous
	if o.pub.Resource.Action != dcrflow.ActionUpdated || before == nil {
		t.Fatalf("publish over legacy: %+v", o.pub)
	}
	// Without a record, a publication with an adopted strategy is not touched.
	foreign := o.publication(nil, false)
	foreign.Strategies[0].Owned = false
	offboard(h, a.OffboardPublication, foreign, dcrflow.ActionKept, "no onboarding record")

	offboard(h, a.OffboardPublication, o.publication(before, true), dcrflow.ActionRestored, "")
	p, err := h.kon.Publications.Get(ctx, o.api.ID, o.portal.ID)
	if err != nil || p.AuthStrategyIDs[0] != legacy.ID || p.Visibility != "private" || !p.AutoApproveRegistrations {
		t.Fatalf("after restore: %+v %v", p, err)
	}
	// Again: it is someone else's publication now.
	offboard(h, a.OffboardPublication, o.publication(before, true), dcrflow.ActionKept, "not the portal's")
	// A retry whose earlier attempt's restore landed reports it restored.
	h.env.SetHeartbeatDetails(struct {
		Doing dcrflow.Action `json:"doing"`
	}{dcrflow.ActionRestored})
	offboard(h, a.OffboardPublication, o.publication(before, true), dcrflow.ActionRestored, "")
}

func TestOffboard_ARetryOwnsTheDeleteItsEarlierAttemptMade(t *testing.T) {
	h := newHarness(t)
	o := h.onboardOne(nil)
	// The first attempt deleted the scope but never reported it.
	if err := h.okta.DeleteScope(context.Background(), "default", o.scope.ID); err != nil {
		t.Fatal(err)
	}
	offboard(h, a.OffboardScope, o.item("pay:read"), dcrflow.ActionAbsent, "")
	h.env.SetHeartbeatDetails(struct {
		Doing dcrflow.Action `json:"doing"`
	}{dcrflow.ActionDeleted})
	offboard(h, a.OffboardScope, o.item("pay:read"), dcrflow.ActionDeleted, "")
}
