package activities_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
)

// The payments portal's seeded developer (sandbox/konnect/default_seed.json).
const paymentsDeveloper = "f87b7fdc-3166-45fa-a7ed-f17e7cc7b0db"

// Konnect registers the client through the provider, dcrflow checks Okta has it, and
// the application and its client are gone afterwards — also when a check fails.
func TestValidateThroughKonnect_KonnectRegistersTheClientAndNothingIsLeft(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	in := h.konnectValidationSetup()

	v, err := call[dcrflow.Validation](h, a.ValidateThroughKonnect, in)
	if err != nil || !v.Passed || v.ClientID == "" || len(v.Problems) != 0 {
		t.Fatalf("validation = %+v %v", v, err)
	}
	// During the run Konnect made the client through the provider's DCR token: the
	// sandbox's request log shows Konnect's DCR call, and nothing is left now.
	st := h.state()
	if len(st.Konnect.Applications) != 0 || len(st.Okta.Clients) != 0 {
		t.Fatalf("left behind: applications %+v, clients %+v", st.Konnect.Applications, st.Okta.Clients)
	}
	if _, err := h.okta.GetClient(ctx, sbokta.DefaultDCRToken, v.ClientID); err == nil {
		t.Fatalf("Okta still has client %s", v.ClientID)
	}

	// An owner that is not the portal's: Konnect refuses with its message, not retried.
	bad := in
	bad.Owner.ID = "00000000-0000-4000-8000-000000000000"
	_, err = call[dcrflow.Validation](h, a.ValidateThroughKonnect, bad)
	if typ, retry := errType(t, err); retry || (typ != dcrflow.ErrTypeInvalid && typ != dcrflow.ErrTypeNotFound) {
		t.Fatalf("unknown owner: %v (type %s, retry %v)", err, typ, retry)
	}

	// Okta refuses Konnect's registration (the DCR endpoint fails): a failed check,
	// with Konnect's words, and nothing left.
	addFaultTo(t, h, faults.Fault{Method: "POST", Path: "/oauth2/v1/clients", Status: 403, Count: 1})
	_, err = call[dcrflow.Validation](h, a.ValidateThroughKonnect, in)
	if err == nil {
		t.Fatal("want Konnect's refusal")
	}
	if st := h.state(); len(st.Konnect.Applications) != 0 || len(st.Okta.Clients) != 0 {
		t.Fatalf("left behind after a refusal: %+v %+v", st.Konnect.Applications, st.Okta.Clients)
	}
}

// A retry finds and deletes what an earlier attempt of the same run created, even one
// whose answer never came, before making its own.
func TestValidateThroughKonnect_ARetryDeletesTheEarlierAttemptsApplication(t *testing.T) {
	h := newHarness(t)
	in := h.konnectValidationSetup()
	// An application under this run's name, as a lost attempt would have left it.
	portal, _ := h.kon.Portals.Resolve(context.Background(), "payments")
	if _, err := h.kon.Applications.Create(context.Background(), portal.ID, konnectApp("dcrflow-validate-p-default-test-run-id", in)); err != nil {
		t.Fatal(err)
	}
	if st := h.state(); len(st.Konnect.Applications) != 1 || len(st.Okta.Clients) != 1 {
		t.Fatalf("setup: %+v %+v", st.Konnect.Applications, st.Okta.Clients)
	}
	v, err := call[dcrflow.Validation](h, a.ValidateThroughKonnect, in)
	if err != nil || !v.Passed {
		t.Fatalf("%+v %v", v, err)
	}
	if st := h.state(); len(st.Konnect.Applications) != 0 || len(st.Okta.Clients) != 0 {
		t.Fatalf("left behind: %+v %+v", st.Konnect.Applications, st.Okta.Clients)
	}
}

// konnectValidationSetup onboards portal p's scope, claim, provider and strategy on
// the payments portal (steps 2–6) and returns the validation input.
func (h *harness) konnectValidationSetup() activities.KonnectValidateInput {
	h.t.Helper()
	t := h.t
	issuer := h.sb.OktaURL + "/oauth2/default"
	if _, err := call[dcrflow.Resource](h, a.EnsureScope, activities.ScopeInput{AuthServerID: "default", Scope: dcrflow.ScopeSpec{Name: "p:read"}, PortalKey: "p"}); err != nil {
		t.Fatal(err)
	}
	prov, err := call[dcrflow.Resource](h, a.EnsureDCRProvider, activities.ProviderInput{Name: "dcrflow-p", Issuer: issuer, TokenName: "default", PortalKey: "p"})
	if err != nil {
		t.Fatal(err)
	}
	strat, err := call[dcrflow.Resource](h, a.EnsureAuthStrategy, activities.StrategyInput{Strategy: dcrflow.StrategySpec{Name: "dcrflow-p", DisplayName: "P", AuthMethods: []string{"client_credentials"}},
		Issuer: issuer, Scopes: []string{"p:read"}, ClaimName: "client_id", ProviderID: prov.ID, PortalKey: "p"})
	if err != nil {
		t.Fatal(err)
	}
	portal, err := h.kon.Portals.Resolve(context.Background(), "payments")
	if err != nil {
		t.Fatal(err)
	}
	return activities.KonnectValidateInput{PortalKey: "p", PortalID: portal.ID, StrategyID: strat.ID,
		Owner: dcrflow.AppOwner{Type: "developer", ID: paymentsDeveloper}, TokenName: "default"}
}

type sandboxState struct {
	Okta    sbokta.State    `json:"okta"`
	Konnect sbkonnect.State `json:"konnect"`
}

func (h *harness) state() sandboxState {
	h.t.Helper()
	var st sandboxState
	if err := h.sb.Control.State(context.Background(), &st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

func addFaultTo(t *testing.T, h *harness, f faults.Fault) {
	t.Helper()
	if _, err := h.sb.Control.AddFault(context.Background(), f); err != nil {
		t.Fatal(err)
	}
}

func konnectApp(name string, in activities.KonnectValidateInput) konnect.CreateApplication {
	return konnect.CreateApplication{Name: name, Owner: konnect.ApplicationOwner{Type: in.Owner.Type, ID: in.Owner.ID}, AuthStrategyID: in.StrategyID}
}

// A validation owner the portal does not have fails step 1, before any write, and
// the plan lists it as missing.
func TestResolveTargets_RefusesAnOwnerThePortalDoesNotHave(t *testing.T) {
	h := newHarness(t)
	spec := dcrflow.PortalSpec{Key: "p", Portal: "payments", AuthServer: "default", DCRTokenName: "default", ClaimName: "client_id",
		Scopes: []dcrflow.ScopeSpec{{Name: "p:read"}}, DCRProvider: "dcrflow-p", Strategy: dcrflow.StrategySpec{Name: "dcrflow-p", AuthMethods: []string{"bearer"}},
		Validate: true, ValidateVia: dcrflow.ValidateViaKonnect,
		ValidationOwner: &dcrflow.AppOwner{Type: "developer", ID: "6fda66b9-c0c1-4a25-b166-02cdc7f1df23"}} // the partners portal's
	_, err := call[activities.Targets](h, a.ResolveTargets, spec)
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeNotFound || retry ||
		!strings.Contains(err.Error(), "validation_owner: portal payments has no developer 6fda66b9-c0c1-4a25-b166-02cdc7f1df23") {
		t.Fatalf("wrong owner: %v", err)
	}
	plan, err := call[dcrflow.PortalPlan](h, a.PlanPortal, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(plan.Items, func(it dcrflow.PlanItem) bool {
		return it.Kind == activities.KindValidationOwner && it.Action == dcrflow.PlanMissing
	}) || len(plan.Problems) != 1 {
		t.Fatalf("plan = %+v", plan)
	}
	// The payments portal's own team will do.
	spec.ValidationOwner = &dcrflow.AppOwner{Type: "team", ID: "86a30d43-84a6-41e2-81c5-4cb3892d981a"}
	if _, err := call[activities.Targets](h, a.ResolveTargets, spec); err != nil {
		t.Fatal(err)
	}
}
