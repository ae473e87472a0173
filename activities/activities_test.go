package activities_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
	"github.com/dcrflow/dcrflow/usage"
)

// harness runs the real activities, with the real clients, against a sandbox.
type harness struct {
	t    *testing.T
	sb   *sandboxtest.Env
	acts *activities.Activities
	okta *okta.Client
	kon  *konnect.Client
	env  *testsuite.TestActivityEnvironment
}

func newHarness(t *testing.T, opts ...sandboxtest.Option) *harness {
	t.Helper()
	sb := sandboxtest.Start(t, opts...)
	oc, err := okta.New(okta.Config{OrgURL: sb.OktaURL, Token: sbokta.DefaultManagementToken, HTTPClient: sb.HTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := konnect.New(konnect.Config{BaseURL: sb.KonnectURL, Token: sbkonnect.DefaultToken, HTTPClient: sb.HTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{Okta: oc, Konnect: activities.KonnectFrom(kc),
		DCRTokens: map[string]string{"default": sbokta.DefaultDCRToken, "wrong": "00sbxNotARealToken"}, Usage: &usage.Memory{}}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return &harness{t: t, sb: sb, acts: acts, okta: oc, kon: kc, env: env}
}

// call runs one activity through Temporal's activity environment and decodes its result.
func call[T any](h *harness, fn any, in any) (T, error) {
	h.t.Helper()
	var out T
	v, err := h.env.ExecuteActivity(fn, in)
	if err == nil && v.HasValue() {
		if derr := v.Get(&out); derr != nil {
			h.t.Fatal(derr)
		}
	}
	return out, err
}

// errType is the Temporal application error type, and whether it may be retried.
func errType(t *testing.T, err error) (string, bool) {
	t.Helper()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		t.Fatalf("err = %v, want an application error", err)
	}
	return app.Type(), !app.NonRetryable()
}

var a *activities.Activities

func TestResolveTargets_FindsByIdOrNameAndRefusesUnknowns(t *testing.T) {
	h := newHarness(t)
	spec := dcrflow.PortalSpec{Key: "p", Portal: "payments", AuthServer: "partners", DCRTokenName: "default",
		APIs: []dcrflow.APISpec{{API: "payments-api"}}}
	got, err := call[activities.Targets](h, a.ResolveTargets, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got.AuthServerID != sbokta.PartnersServerID || !strings.HasSuffix(got.Issuer, "/oauth2/"+sbokta.PartnersServerID) ||
		got.PortalID == "" || len(got.APIs) != 1 || got.APIs[0].ID == "" {
		t.Fatalf("targets = %+v", got)
	}
	for name, mutate := range map[string]func(*dcrflow.PortalSpec){
		"server": func(s *dcrflow.PortalSpec) { s.AuthServer = "nope" },
		"portal": func(s *dcrflow.PortalSpec) { s.Portal = "nope" },
		"api":    func(s *dcrflow.PortalSpec) { s.APIs = []dcrflow.APISpec{{API: "nope"}} },
		"token":  func(s *dcrflow.PortalSpec) { s.DCRTokenName = "nope" },
	} {
		bad := spec
		mutate(&bad)
		_, err := call[activities.Targets](h, a.ResolveTargets, bad)
		typ, retry := errType(t, err)
		want := dcrflow.ErrTypeNotFound
		if name == "token" {
			want = dcrflow.ErrTypeConfig
		}
		if typ != want || retry || !strings.Contains(err.Error(), "nope") {
			t.Errorf("%s: %v (type %s, retryable %v), want non-retryable %s naming it", name, err, typ, retry, want)
		}
	}
}

func TestEnsureScope_CreatesAdoptsAndRefusesConsentRequired(t *testing.T) {
	h := newHarness(t)
	in := activities.ScopeInput{AuthServerID: "default", Scope: dcrflow.ScopeSpec{Name: "pay:read"}, PortalKey: "p"}
	r, err := call[dcrflow.Resource](h, a.EnsureScope, in)
	if err != nil || r.Action != dcrflow.ActionCreated || r.ID == "" {
		t.Fatalf("first: %+v %v", r, err)
	}
	// The same run retrying (a crash after the create) still owns it.
	again, err := call[dcrflow.Resource](h, a.EnsureScope, in)
	if err != nil || again.Action != dcrflow.ActionCreated || again.ID != r.ID {
		t.Fatalf("retry in the same run: %+v %v", again, err)
	}
	// A scope someone else made is adopted.
	if _, err := h.okta.CreateScope(context.Background(), "default", okta.Scope{Name: "theirs", Consent: okta.ConsentImplicit}); err != nil {
		t.Fatal(err)
	}
	in.Scope.Name = "theirs"
	if r, err := call[dcrflow.Resource](h, a.EnsureScope, in); err != nil || r.Action != dcrflow.ActionAdopted {
		t.Fatalf("foreign scope: %+v %v", r, err)
	}
	if _, err := h.okta.CreateScope(context.Background(), "default", okta.Scope{Name: "consent", Consent: okta.ConsentRequired}); err != nil {
		t.Fatal(err)
	}
	in.Scope.Name = "consent"
	_, err = call[dcrflow.Resource](h, a.EnsureScope, in)
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeConflict || retry || !strings.Contains(err.Error(), "REQUIRED") {
		t.Fatalf("consent REQUIRED: %v", err)
	}
	// Deleting twice is fine: already gone counts as done.
	del := activities.OktaResourceInput{AuthServerID: "default", ID: r.ID, Name: "pay:read"}
	for range 2 {
		if _, err := h.env.ExecuteActivity(a.DeleteScope, del); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
}

func TestEnsureClaim_AdoptsOnlyAClientIDExpression(t *testing.T) {
	h := newHarness(t)
	r, err := call[dcrflow.Resource](h, a.EnsureClaim, activities.ClaimInput{AuthServerID: "default", Name: "client_id"})
	if err != nil || r.Action != dcrflow.ActionCreated {
		t.Fatalf("create: %+v %v", r, err)
	}
	if r, err := call[dcrflow.Resource](h, a.EnsureClaim, activities.ClaimInput{AuthServerID: "default", Name: "client_id"}); err != nil || r.Action != dcrflow.ActionAdopted {
		t.Fatalf("again: %+v %v", r, err)
	}
	yes := true
	if _, err := h.okta.CreateClaim(context.Background(), "default", okta.Claim{Name: "team", Status: okta.StatusActive,
		ClaimType: okta.ClaimTypeResource, ValueType: okta.ValueTypeExpression, Value: `"payments"`, AlwaysIncludeInToken: &yes}); err != nil {
		t.Fatal(err)
	}
	_, err = call[dcrflow.Resource](h, a.EnsureClaim, activities.ClaimInput{AuthServerID: "default", Name: "team"})
	if typ, _ := errType(t, err); typ != dcrflow.ErrTypeConflict || !strings.Contains(err.Error(), "app.clientId") {
		t.Fatalf("mismatching claim: %v", err)
	}
}

func TestDeleteClaim_KeepsAClaimAStrategyStillUses(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	issuer := h.sb.OktaURL + "/oauth2/default"
	c, err := call[dcrflow.Resource](h, a.EnsureClaim, activities.ClaimInput{AuthServerID: "default", Name: "client_id"})
	if err != nil {
		t.Fatal(err)
	}
	// Another portal's strategy for the same issuer names the claim.
	other, err := h.kon.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{Name: "other-portal", DisplayName: "Other",
		Issuer: issuer, CredentialClaim: []string{"client_id"}, Scopes: []string{"x"}, AuthMethods: []string{"bearer"}})
	if err != nil {
		t.Fatal(err)
	}
	undo := activities.OktaResourceInput{AuthServerID: "default", ID: c.ID, Name: "client_id", Issuer: issuer}
	kept, err := call[activities.UndoResult](h, a.DeleteClaim, undo)
	if err != nil || !kept.Kept || !strings.Contains(kept.Reason, "other-portal") {
		t.Fatalf("in use: %+v %v", kept, err)
	}
	if got, _ := h.okta.FindClaim(ctx, "default", "client_id", okta.ClaimTypeResource); got == nil {
		t.Fatal("a claim in use was deleted")
	}
	if err := h.kon.AuthStrategies.Delete(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if r, err := call[activities.UndoResult](h, a.DeleteClaim, undo); err != nil || r.Kept {
		t.Fatalf("unused: %+v %v", r, err)
	}
	if got, _ := h.okta.FindClaim(ctx, "default", "client_id", okta.ClaimTypeResource); got != nil {
		t.Fatal("an unused claim was kept")
	}
}

func TestEnsureDCRProvider_CreatesVerifiesAndRefusesMismatches(t *testing.T) {
	h := newHarness(t)
	issuer := h.sb.OktaURL + "/oauth2/default"
	in := activities.ProviderInput{Name: "dcrflow-p", Issuer: issuer, TokenName: "default", PortalKey: "p"}
	r, err := call[dcrflow.Resource](h, a.EnsureDCRProvider, in)
	if err != nil || r.Action != dcrflow.ActionCreated {
		t.Fatalf("create: %+v %v", r, err)
	}
	p, err := h.kon.DCRProviders.Get(context.Background(), r.ID)
	if err != nil || p.Labels[activities.LabelManagedBy] != "dcrflow" || p.Labels[activities.LabelPortal] != "p" {
		t.Fatalf("provider labels: %+v %v", p, err)
	}
	if _, err := h.env.ExecuteActivity(a.VerifyDCRProvider, activities.KonnectResourceInput{ID: r.ID, Name: in.Name}); err != nil {
		t.Fatalf("verify: %v", err)
	}
	// Same name, other issuer: a conflict, never an overwrite.
	other := in
	other.Issuer = h.sb.OktaURL + "/oauth2/" + sbokta.PartnersServerID
	_, err = call[dcrflow.Resource](h, a.EnsureDCRProvider, other)
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeConflict || retry {
		t.Fatalf("issuer mismatch: %v", err)
	}
	// A provider with a token Okta refuses fails verification, naming the provider.
	bad := activities.ProviderInput{Name: "dcrflow-bad", Issuer: issuer, TokenName: "wrong", PortalKey: "p"}
	br, err := call[dcrflow.Resource](h, a.EnsureDCRProvider, bad)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.env.ExecuteActivity(a.VerifyDCRProvider, activities.KonnectResourceInput{ID: br.ID, Name: bad.Name})
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeConflict || retry || !strings.Contains(err.Error(), "dcrflow-bad") {
		t.Fatalf("verify with a refused token: %v", err)
	}
	if strings.Contains(err.Error(), "00sbxNotARealToken") {
		t.Fatal("the error shows the DCR token")
	}
}

func TestEnsureAuthStrategy_NamesEveryDifferingField(t *testing.T) {
	h := newHarness(t)
	issuer := h.sb.OktaURL + "/oauth2/default"
	prov, err := call[dcrflow.Resource](h, a.EnsureDCRProvider, activities.ProviderInput{Name: "prov", Issuer: issuer, TokenName: "default", PortalKey: "p"})
	if err != nil {
		t.Fatal(err)
	}
	in := activities.StrategyInput{Strategy: dcrflow.StrategySpec{Name: "strat", DisplayName: "S", AuthMethods: []string{"client_credentials"}},
		Issuer: issuer, Scopes: []string{"a", "b"}, ClaimName: "client_id", ProviderID: prov.ID, PortalKey: "p"}
	r, err := call[dcrflow.Resource](h, a.EnsureAuthStrategy, in)
	if err != nil || r.Action != dcrflow.ActionCreated {
		t.Fatalf("create: %+v %v", r, err)
	}
	in.Scopes = []string{"b", "a"} // order does not matter
	if r, err := call[dcrflow.Resource](h, a.EnsureAuthStrategy, in); err != nil || r.Action != dcrflow.ActionCreated {
		t.Fatalf("same run again: %+v %v", r, err)
	}
	in.Scopes, in.ClaimName = []string{"a"}, "cid2"
	_, err = call[dcrflow.Resource](h, a.EnsureAuthStrategy, in)
	if typ, _ := errType(t, err); typ != dcrflow.ErrTypeConflict || !strings.Contains(err.Error(), "scopes") || !strings.Contains(err.Error(), "credential_claim") {
		t.Fatalf("mismatch: %v", err)
	}
}

// publishTargets makes a provider and a strategy through the activities and finds the
// payments portal and API: what PublishAPI needs.
func (h *harness) publishTargets() (dcrflow.Resource, *konnect.Portal, *konnect.API) {
	h.t.Helper()
	issuer := h.sb.OktaURL + "/oauth2/default"
	prov, err := call[dcrflow.Resource](h, a.EnsureDCRProvider, activities.ProviderInput{Name: "prov", Issuer: issuer, TokenName: "default", PortalKey: "p"})
	if err != nil {
		h.t.Fatal(err)
	}
	strat, err := call[dcrflow.Resource](h, a.EnsureAuthStrategy, activities.StrategyInput{
		Strategy: dcrflow.StrategySpec{Name: "s", DisplayName: "S", AuthMethods: []string{"bearer"}},
		Issuer:   issuer, Scopes: []string{"x"}, ClaimName: "client_id", ProviderID: prov.ID, PortalKey: "p"})
	if err != nil {
		h.t.Fatal(err)
	}
	portal, err := h.kon.Portals.Resolve(context.Background(), "payments")
	if err != nil {
		h.t.Fatal(err)
	}
	api, err := h.kon.APIs.Resolve(context.Background(), "payments-api")
	if err != nil {
		h.t.Fatal(err)
	}
	return strat, portal, api
}

func TestPublishAPI_RecordsWhatItReplacesAndRestoreUndoesIt(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	strat, portal, api := h.publishTargets()
	in := activities.PublishInput{APIID: api.ID, APIName: api.Name, PortalID: portal.ID, StrategyID: strat.ID, Visibility: "public"}

	first, err := call[activities.PublishResult](h, a.PublishAPI, in)
	if err != nil || first.Resource.Action != dcrflow.ActionPublished || first.Previous != nil {
		t.Fatalf("first publish: %+v %v", first, err)
	}
	same, err := call[activities.PublishResult](h, a.PublishAPI, in)
	if err != nil || same.Resource.Action != dcrflow.ActionUnchanged {
		t.Fatalf("same again: %+v %v", same, err)
	}
	in.Visibility, in.AutoApprove = "private", true
	changed, err := call[activities.PublishResult](h, a.PublishAPI, in)
	if err != nil || changed.Resource.Action != dcrflow.ActionUpdated || changed.Previous == nil || changed.Previous.Visibility != "public" {
		t.Fatalf("change: %+v %v", changed, err)
	}
	// Undo the change, then the publication itself.
	if _, err := h.env.ExecuteActivity(a.RestorePublication, activities.RestoreInput{APIID: api.ID, PortalID: portal.ID, Previous: changed.Previous}); err != nil {
		t.Fatal(err)
	}
	if p, err := h.kon.Publications.Get(ctx, api.ID, portal.ID); err != nil || p.Visibility != "public" || p.AutoApproveRegistrations {
		t.Fatalf("after restore: %+v %v", p, err)
	}
	for range 2 { // unpublishing twice is done twice
		if _, err := h.env.ExecuteActivity(a.RestorePublication, activities.RestoreInput{APIID: api.ID, PortalID: portal.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.kon.Publications.Get(ctx, api.ID, portal.ID); !konnect.IsNotFound(err) {
		t.Fatalf("after unpublish: %v", err)
	}
}

func TestValidateDCR_PassesAndFailsWithOktasReasonAndAlwaysDeletesTheClient(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	setup := func(server string) activities.ValidateInput {
		if _, err := call[dcrflow.Resource](h, a.EnsureScope, activities.ScopeInput{AuthServerID: server, Scope: dcrflow.ScopeSpec{Name: "v:read"}, PortalKey: "p"}); err != nil {
			t.Fatal(err)
		}
		if _, err := call[dcrflow.Resource](h, a.EnsureClaim, activities.ClaimInput{AuthServerID: server, Name: "client_id"}); err != nil {
			t.Fatal(err)
		}
		return activities.ValidateInput{PortalKey: "p", Issuer: h.sb.OktaURL + "/oauth2/" + server, Scopes: []string{"v:read"}, ClaimName: "client_id", TokenName: "default"}
	}
	ok, err := call[dcrflow.Validation](h, a.ValidateDCR, setup("default"))
	if err != nil || !ok.Passed || ok.ClientID == "" || len(ok.Scopes) != 1 {
		t.Fatalf("default server: %+v %v", ok, err)
	}
	bad, err := call[dcrflow.Validation](h, a.ValidateDCR, setup(sbokta.NoPolicyServerID))
	if err != nil || bad.Passed || len(bad.Problems) != 1 || !strings.Contains(bad.Problems[0], "access_denied") {
		t.Fatalf("server without a policy: %+v %v", bad, err)
	}
	var st struct {
		Okta sbokta.State `json:"okta"`
	}
	if err := h.sb.Control.State(ctx, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Okta.Clients) != 0 {
		t.Fatalf("validation left clients behind: %+v", st.Okta.Clients)
	}
}

func TestAPIErrors_TransientRetriesAndRateLimitCarriesTheServersWait(t *testing.T) {
	h := newHarness(t)
	in := activities.ClaimInput{AuthServerID: "default", Name: "client_id"}
	if _, err := h.sb.Sandbox.Faults.Add(faults.Fault{Method: "GET", Path: "/api/v1/authorizationServers/*/claims", Status: 503, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := call[dcrflow.Resource](h, a.EnsureClaim, in)
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeTransient || !retry {
		t.Fatalf("503: %v (%s, retryable %v)", err, typ, retry)
	}
	if _, err := h.sb.Sandbox.Faults.Add(faults.Fault{Method: "GET", Path: "/api/v1/authorizationServers/*/claims", Status: 429, RetryAfterSeconds: 7, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = call[dcrflow.Resource](h, a.EnsureClaim, in)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != dcrflow.ErrTypeRateLimited || app.NonRetryable() ||
		app.NextRetryDelay() < 6*time.Second || app.NextRetryDelay() > 8*time.Second {
		t.Fatalf("429: %v (delay %v)", err, app.NextRetryDelay())
	}
	// A POST, because net/http itself replays an idempotent GET once on a reused connection.
	if _, err := h.sb.Sandbox.Faults.Add(faults.Fault{Method: "POST", Path: "/api/v1/authorizationServers/*/claims", Drop: true, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = call[dcrflow.Resource](h, a.EnsureClaim, in)
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeTransient || !retry {
		t.Fatalf("dropped connection: %v", err)
	}
	// With the faults spent, the step goes through.
	if r, err := call[dcrflow.Resource](h, a.EnsureClaim, in); err != nil || r.Action != dcrflow.ActionCreated {
		t.Fatalf("after the faults: %+v %v", r, err)
	}
}

func TestFreshReferences_AMissingJustCreatedResourceIsRetried(t *testing.T) {
	h := newHarness(t)
	issuer := h.sb.OktaURL + "/oauth2/default"
	p, err := call[dcrflow.Resource](h, a.EnsureDCRProvider, activities.ProviderInput{Name: "prov", Issuer: issuer, TokenName: "default", PortalKey: "p"})
	if err != nil {
		t.Fatal(err)
	}
	// The provider reads as missing once, as an eventually consistent store may answer.
	if _, err := h.sb.Sandbox.Faults.Add(faults.Fault{Method: "POST", Path: "/v2/dcr-providers/*/verify", Status: 404, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = h.env.ExecuteActivity(a.VerifyDCRProvider, activities.KonnectResourceInput{ID: p.ID, Name: "prov"})
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeTransient || !retry || !strings.Contains(err.Error(), "not visible yet") {
		t.Fatalf("404 right after create: %v (%s, retryable %v)", err, typ, retry)
	}
	if _, err := h.env.ExecuteActivity(a.VerifyDCRProvider, activities.KonnectResourceInput{ID: p.ID, Name: "prov"}); err != nil {
		t.Fatalf("next attempt: %v", err)
	}
	// A strategy naming a provider that does not exist (yet) is retried too.
	_, err = call[dcrflow.Resource](h, a.EnsureAuthStrategy, activities.StrategyInput{
		Strategy: dcrflow.StrategySpec{Name: "s", DisplayName: "S", AuthMethods: []string{"bearer"}},
		Issuer:   issuer, Scopes: []string{"x"}, ClaimName: "client_id", ProviderID: "6f2d5e8a-9a43-4c43-9d4e-0d7d3e3a1b10", PortalKey: "p"})
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeTransient || !retry {
		t.Fatalf("unknown provider reference: %v", err)
	}
}

func TestEnsureClaim_ARetryAfterACrashOwnsTheClaimItSetOutToCreate(t *testing.T) {
	h := newHarness(t)
	yes := true
	// The crashed attempt created the claim but never reported it.
	if _, err := h.okta.CreateClaim(context.Background(), "default", okta.Claim{Name: "client_id", Status: okta.StatusActive,
		ClaimType: okta.ClaimTypeResource, ValueType: okta.ValueTypeExpression, Value: activities.ClaimValue, AlwaysIncludeInToken: &yes}); err != nil {
		t.Fatal(err)
	}
	in := activities.ClaimInput{AuthServerID: "default", Name: "client_id"}
	if r, err := call[dcrflow.Resource](h, a.EnsureClaim, in); err != nil || r.Action != dcrflow.ActionAdopted {
		t.Fatalf("without a heartbeat the claim is someone else's: %+v %v", r, err)
	}
	h.env.SetHeartbeatDetails(struct {
		Creating string `json:"creating"`
	}{"client_id"})
	if r, err := call[dcrflow.Resource](h, a.EnsureClaim, in); err != nil || r.Action != dcrflow.ActionCreated {
		t.Fatalf("after a crash mid-create: %+v %v", r, err)
	}
}

func TestPublishAPI_ARetryAfterALateAnswerStillOwnsThePublication(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	strat, portal, api := h.publishTargets()
	// The timed-out attempt's PUT landed: the publication is already as wanted.
	if _, err := h.kon.Publications.Put(ctx, api.ID, portal.ID, konnect.Publication{AuthStrategyIDs: []string{strat.ID}, Visibility: "public"}); err != nil {
		t.Fatal(err)
	}
	h.env.SetHeartbeatDetails(activities.PublishResult{Resource: dcrflow.Resource{Action: dcrflow.ActionPublished}})
	in := activities.PublishInput{APIID: api.ID, APIName: api.Name, PortalID: portal.ID, StrategyID: strat.ID, Visibility: "public"}
	got, err := call[activities.PublishResult](h, a.PublishAPI, in)
	if err != nil || got.Resource.Action != dcrflow.ActionPublished || got.Previous != nil {
		t.Fatalf("retry: %+v %v, want published with nothing before (so it is undone by unpublishing)", got, err)
	}
}

// A server named by name costs one list, one named by id one read: no 404 first.
func TestResolveTargets_OneOktaCallPerServer(t *testing.T) {
	h := newHarness(t)
	for _, server := range []string{"partners", sbokta.PartnersServerID, "default"} {
		since := 0
		if reqs := h.sb.Sandbox.Requests(0); len(reqs) > 0 {
			since = reqs[len(reqs)-1].Seq
		}
		spec := dcrflow.PortalSpec{Key: "p", Portal: "payments", AuthServer: server, DCRTokenName: "default"}
		if _, err := call[activities.Targets](h, a.ResolveTargets, spec); err != nil {
			t.Fatal(err)
		}
		var okta []string
		for _, q := range h.sb.Sandbox.Requests(since) {
			if q.System == "okta" {
				okta = append(okta, q.Method+" "+q.Path)
			}
		}
		if len(okta) != 1 {
			t.Errorf("%s: Okta calls %v, want one", server, okta)
		}
	}
}

// lastSeq is the sequence number of the sandbox's last logged request (0: none).
func (h *harness) lastSeq() int {
	if reqs := h.sb.Sandbox.Requests(0); len(reqs) > 0 {
		return reqs[len(reqs)-1].Seq
	}
	return 0
}

// A portal's scopes take one list, then one create per missing scope; a retry in
// the same run finds its own and creates nothing; one that cannot be adopted is
// refused before anything is created.
func TestEnsureScopes_OneListForAllOfAPortalsScopes(t *testing.T) {
	h := newHarness(t)
	if _, err := h.okta.CreateScope(context.Background(), "default", okta.Scope{Name: "pay:write", Consent: okta.ConsentImplicit}); err != nil {
		t.Fatal(err)
	}
	scopes := []dcrflow.ScopeSpec{{Name: "pay:read", Description: "Read"}, {Name: "pay:write"}, {Name: "pay:admin"}}
	in := activities.ScopesInput{AuthServerID: "default", Scopes: scopes, PortalKey: "p"}
	calls := func(since int) (lists, creates int) {
		for _, q := range h.sb.Sandbox.Requests(since) {
			switch {
			case q.Method == http.MethodGet && strings.HasSuffix(q.Path, "/scopes"):
				lists++
			case q.Method == http.MethodPost && strings.HasSuffix(q.Path, "/scopes"):
				creates++
			}
		}
		return lists, creates
	}
	since := h.lastSeq()
	rs, err := call[[]dcrflow.Resource](h, a.EnsureScopes, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []dcrflow.Action{dcrflow.ActionCreated, dcrflow.ActionAdopted, dcrflow.ActionCreated}
	for i, r := range rs {
		if r.Name != scopes[i].Name || r.Action != want[i] || r.ID == "" || r.Kind != dcrflow.KindScope {
			t.Errorf("scope %d: %+v, want %s %s", i, r, scopes[i].Name, want[i])
		}
	}
	if lists, creates := calls(since); lists != 1 || creates != 2 {
		t.Errorf("%d lists and %d creates, want 1 and 2", lists, creates)
	}
	since = h.lastSeq()
	again, err := call[[]dcrflow.Resource](h, a.EnsureScopes, in)
	if err != nil || again[0].Action != dcrflow.ActionCreated || again[0].ID != rs[0].ID || again[2].ID != rs[2].ID {
		t.Errorf("retry in the same run: %+v %v, want its own scopes, still created", again, err)
	}
	if lists, creates := calls(since); lists != 1 || creates != 0 {
		t.Errorf("retry: %d lists and %d creates, want 1 and 0", lists, creates)
	}
	for _, sc := range scopes {
		if users := h.acts.Usage.(*usage.Memory).Users(usage.OktaDomain("default"), usage.Key{Kind: dcrflow.KindScope, Name: sc.Name}); !slices.Equal(users, []string{"p"}) {
			t.Errorf("%s: users %v, want the portal joined", sc.Name, users)
		}
	}

	if _, err := h.okta.CreateScope(context.Background(), "default", okta.Scope{Name: "bad:consent", Consent: okta.ConsentRequired}); err != nil {
		t.Fatal(err)
	}
	since = h.lastSeq()
	in.Scopes = []dcrflow.ScopeSpec{{Name: "bad:new"}, {Name: "bad:consent"}}
	_, err = call[[]dcrflow.Resource](h, a.EnsureScopes, in)
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeConflict || retry || !strings.Contains(err.Error(), "bad:consent") {
		t.Errorf("consent REQUIRED: %v, want a conflict naming the scope", err)
	}
	if _, creates := calls(since); creates != 0 {
		t.Errorf("%d scopes created before the conflict was refused, want none", creates)
	}
}

// A portal's APIs named by name are found in one filtered list; a missing one is
// refused by name, an id is still read by id.
func TestResolveTargets_OneKonnectListForThePortalsAPIs(t *testing.T) {
	h := newHarness(t)
	spec := dcrflow.PortalSpec{Key: "p", Portal: "payments", AuthServer: "partners", DCRTokenName: "default",
		APIs: []dcrflow.APISpec{{API: "payments-api"}, {API: "refunds-api"}, {API: "invoices-api"}}}
	since := h.lastSeq()
	got, err := call[activities.Targets](h, a.ResolveTargets, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.APIs) != 3 || got.APIs[0].ID == "" || got.APIs[0].ID == got.APIs[1].ID || got.APIs[2].Spec.API != "invoices-api" {
		t.Fatalf("APIs = %+v", got.APIs)
	}
	var lists []string
	for _, q := range h.sb.Sandbox.Requests(since) {
		if q.System == "konnect" && q.Path == "/v3/apis" {
			lists = append(lists, q.Path)
		}
	}
	if len(lists) != 1 {
		t.Errorf("API lists %d, want one for the three", len(lists))
	}
	byID := spec
	byID.APIs = []dcrflow.APISpec{{API: got.APIs[0].ID}, {API: "refunds-api"}, {API: "nope-api"}}
	_, err = call[activities.Targets](h, a.ResolveTargets, byID)
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeNotFound || retry || !strings.Contains(err.Error(), `"nope-api"`) {
		t.Errorf("a missing API among several: %v, want not found naming it", err)
	}
}
