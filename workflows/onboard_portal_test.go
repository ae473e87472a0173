package workflows

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

var spec = dcrflow.PortalSpec{
	Key: "payments", Portal: "payments", AuthServer: "default",
	Scopes:    []dcrflow.ScopeSpec{{Name: "pay:read"}, {Name: "pay:write"}},
	ClaimName: "client_id", DCRProvider: "dcrflow-payments", DCRTokenName: "default",
	Strategy: dcrflow.StrategySpec{Name: "dcrflow-payments", DisplayName: "Okta", AuthMethods: []string{"client_credentials"}},
	APIs:     []dcrflow.APISpec{{API: "pay-api", Visibility: "public"}, {API: "refunds", Visibility: "private"}},
	Validate: true, AccessPolicy: dcrflow.AccessPolicyEnsure,
}

// fixture mocks every activity: pay:read is created, pay:write adopted, pay-api newly
// published, refunds republished. failAt names an activity that fails for good.
type fixture struct {
	env        *testsuite.TestWorkflowEnvironment
	mu         sync.Mutex
	calls      []string // activity type (and a detail) in call order
	failAt     string
	failUndo   string
	validFail  bool
	claimInUse bool
	// refundsStarted, when set, makes pay-api's publication wait until refunds' has
	// started (or fail after a while).
	refundsStarted chan struct{}
}

func newFixture(t *testing.T) *fixture {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	f := &fixture{env: s.NewTestWorkflowEnvironment()}
	env := f.env
	env.RegisterActivity(&activities.Activities{})
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, info.ActivityType.Name+detail(info.ActivityType.Name, args))
	})
	fail := func(name string) error {
		if f.failAt == name || f.failUndo == name {
			return temporal.NewNonRetryableApplicationError(name+" refused", dcrflow.ErrTypeInvalid, nil)
		}
		return nil
	}
	env.OnActivity(a.ResolveTargets, mock.Anything, mock.Anything).Return(func(context.Context, dcrflow.PortalSpec) (activities.Targets, error) {
		return activities.Targets{AuthServerID: "aus1", Issuer: "https://org/oauth2/aus1", PortalID: "p1",
			APIs: []activities.ResolvedAPI{{ID: "api1", Spec: spec.APIs[0]}, {ID: "api2", Spec: spec.APIs[1]}}}, fail("ResolveTargets")
	})
	env.OnActivity(a.EnsureScope, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ScopeInput) (dcrflow.Resource, error) {
		action := dcrflow.ActionCreated
		if in.Scope.Name == "pay:write" {
			action = dcrflow.ActionAdopted
		}
		return dcrflow.Resource{Kind: dcrflow.KindScope, Name: in.Scope.Name, ID: "scp-" + in.Scope.Name, Action: action}, fail("EnsureScope:" + in.Scope.Name)
	})
	env.OnActivity(a.EnsureScopes, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ScopesInput) ([]dcrflow.Resource, error) {
		var out []dcrflow.Resource
		for _, sc := range in.Scopes {
			action := dcrflow.ActionCreated
			if sc.Name == "pay:write" {
				action = dcrflow.ActionAdopted
			}
			out = append(out, dcrflow.Resource{Kind: dcrflow.KindScope, Name: sc.Name, ID: "scp-" + sc.Name, Action: action})
		}
		return out, fail("EnsureScopes")
	})
	env.OnActivity(a.EnsureClaim, mock.Anything, mock.Anything).Return(func(context.Context, activities.ClaimInput) (dcrflow.Resource, error) {
		return dcrflow.Resource{Kind: dcrflow.KindClaim, Name: "client_id", ID: "ocl1", Action: dcrflow.ActionCreated}, fail("EnsureClaim")
	})
	env.OnActivity(a.EnsureAccessPolicy, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PolicyInput) (activities.PolicyResult, error) {
		if in.AuthServerID != "aus1" || !slices.Equal(in.Scopes, []string{"pay:read", "pay:write"}) || in.PortalKey != "payments" {
			t.Errorf("policy input = %+v", in)
		}
		if !in.Ensure { // check mode: the policy found is adopted
			return activities.PolicyResult{Resource: dcrflow.Resource{Kind: dcrflow.KindAccessPolicy, Name: "Default Policy", ID: "pol0", Action: dcrflow.ActionAdopted}}, fail("EnsureAccessPolicy")
		}
		return activities.PolicyResult{Resource: dcrflow.Resource{Kind: dcrflow.KindAccessPolicy, Name: "dcrflow-payments", ID: "pol1", Action: dcrflow.ActionCreated},
			NeedsRule: true}, fail("EnsureAccessPolicy")
	})
	env.OnActivity(a.EnsureAccessPolicyRule, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PolicyRuleInput) error {
		if in.PolicyID != "pol1" || !slices.Equal(in.Scopes, []string{"pay:read", "pay:write"}) {
			t.Errorf("rule input = %+v", in)
		}
		return fail("EnsureAccessPolicyRule")
	})
	env.OnActivity(a.EnsureDCRProvider, mock.Anything, mock.Anything).Return(func(context.Context, activities.ProviderInput) (dcrflow.Resource, error) {
		return dcrflow.Resource{Kind: dcrflow.KindDCRProvider, Name: "dcrflow-payments", ID: "prov1", Action: dcrflow.ActionCreated}, fail("EnsureDCRProvider")
	})
	env.OnActivity(a.VerifyDCRProvider, mock.Anything, mock.Anything).Return(func(context.Context, activities.KonnectResourceInput) error {
		return fail("VerifyDCRProvider")
	})
	env.OnActivity(a.EnsureAuthStrategy, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StrategyInput) (dcrflow.Resource, error) {
		if in.ProviderID != "prov1" || in.Issuer != "https://org/oauth2/aus1" || !slices.Equal(in.Scopes, []string{"pay:read", "pay:write"}) {
			t.Errorf("strategy input = %+v", in)
		}
		return dcrflow.Resource{Kind: dcrflow.KindAuthStrategy, Name: "dcrflow-payments", ID: "strat1", Action: dcrflow.ActionCreated}, fail("EnsureAuthStrategy")
	})
	env.OnActivity(a.PublishAPI, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PublishInput) (activities.PublishResult, error) {
		if f.refundsStarted != nil && in.APIName == "pay-api" {
			select {
			case <-f.refundsStarted:
			case <-time.After(5 * time.Second):
				return activities.PublishResult{}, temporal.NewNonRetryableApplicationError("refunds never started while pay-api was publishing", dcrflow.ErrTypeInvalid, nil)
			}
		}
		r := activities.PublishResult{Resource: dcrflow.Resource{Kind: dcrflow.KindPublication, Name: in.APIName, Action: dcrflow.ActionPublished}}
		if in.APIID == "api2" {
			r.Resource.Action = dcrflow.ActionUpdated
			r.Previous = &activities.Publication{AuthStrategyIDs: []string{"old"}, Visibility: "public"}
		}
		return r, fail("PublishAPI:" + in.APIName)
	})
	env.OnActivity(a.ValidateDCR, mock.Anything, mock.Anything).Return(func(context.Context, activities.ValidateInput) (dcrflow.Validation, error) {
		if f.validFail {
			return dcrflow.Validation{Passed: false, ClientID: "0oa1", Problems: []string{"scope \"pay:write\" was not granted"}}, nil
		}
		return dcrflow.Validation{Passed: true, ClientID: "0oa1", Scopes: []string{"pay:read", "pay:write"}}, fail("ValidateDCR")
	})
	env.OnActivity(a.ValidateThroughKonnect, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.KonnectValidateInput) (dcrflow.Validation, error) {
		if in.StrategyID != "strat1" || in.PortalID != "p1" || in.Owner.ID != "dev1" || in.TokenName != "default" {
			t.Errorf("konnect validation input = %+v", in)
		}
		if f.failAt == "ValidateThroughKonnect:check" {
			return dcrflow.Validation{Passed: false, ClientID: "0oa2", Problems: []string{"Konnect reports client 0oa2, which Okta does not have"}}, nil
		}
		return dcrflow.Validation{Passed: true, ClientID: "0oa2"}, fail("ValidateThroughKonnect")
	})
	env.OnActivity(a.ReleaseResource, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ReleaseInput) (activities.UndoResult, error) {
		if in.PortalKey != "payments" || in.AuthServerID != "aus1" || in.Issuer != "https://org/oauth2/aus1" {
			t.Errorf("release input = %+v", in)
		}
		if in.Kind == dcrflow.KindPublication && (in.PortalID != "p1" || in.StrategyID != "strat1" || in.APIID == "") {
			t.Errorf("publication release input = %+v", in)
		}
		if in.Kind == dcrflow.KindClaim && f.claimInUse {
			return activities.UndoResult{Kept: true, Reason: "still used by portal(s) other"}, nil
		}
		return activities.UndoResult{}, fail("Release:" + string(in.Kind))
	})
	return f
}

// detail adds the resource an undo or per-item step touches, so order checks are exact.
func detail(name string, args converter.EncodedValues) string {
	switch name {
	case "EnsureScope":
		var in activities.ScopeInput
		_ = args.Get(&in)
		return ":" + in.Scope.Name
	case "EnsureScopes":
		var in activities.ScopesInput
		_ = args.Get(&in)
		return ":" + scopeList(in.Scopes)
	case "ReleaseResource":
		var in activities.ReleaseInput
		_ = args.Get(&in)
		return ":" + string(in.Kind) + ":" + in.Name
	case "PublishAPI":
		var in activities.PublishInput
		_ = args.Get(&in)
		return ":" + in.APIName
	}
	return ""
}

func (f *fixture) run(t *testing.T) (*dcrflow.OnboardResult, error) {
	t.Helper()
	f.env.ExecuteWorkflow(OnboardPortal, spec)
	if !f.env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	err := f.env.GetWorkflowError()
	if err != nil {
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != dcrflow.ErrTypeOnboardFailed {
			return nil, err
		}
		var res dcrflow.OnboardResult
		if derr := app.Details(&res); derr != nil {
			t.Fatalf("failure details: %v", derr)
		}
		return &res, err
	}
	var res dcrflow.OnboardResult
	if err := f.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return &res, nil
}

// publishedInOrder sorts the publications, which run at once, in the order of the
// spec's APIs (pay-api, refunds).
func publishedInOrder(calls []string) []string {
	out := slices.Clone(calls)
	i := slices.IndexFunc(out, func(c string) bool { return strings.HasPrefix(c, "PublishAPI:") })
	if i < 0 {
		return out
	}
	j := i
	for j < len(out) && strings.HasPrefix(out[j], "PublishAPI:") {
		j++
	}
	slices.SortFunc(out[i:j], func(a, b string) int { return strings.Compare(a, b) })
	return out
}

// undos returns the calls after the failing one: the compensation, in order.
func (f *fixture) undos() []string {
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, "ReleaseResource") {
			out = append(out, c)
		}
	}
	return out
}

var forward = []string{"ResolveTargets", "EnsureScopes:pay:read, pay:write", "EnsureClaim", "EnsureAccessPolicy", "EnsureAccessPolicyRule", "EnsureDCRProvider",
	"VerifyDCRProvider", "EnsureAuthStrategy", "PublishAPI:pay-api", "PublishAPI:refunds", "ValidateDCR"}

func TestOnboardPortal_HappyPathRunsEveryStepInOrder(t *testing.T) {
	f := newFixture(t)
	res, err := f.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if got := publishedInOrder(f.calls); !slices.Equal(got, forward) {
		t.Fatalf("calls = %v\nwant    %v", got, forward)
	}
	if res.AuthServerID != "aus1" || res.PortalID != "p1" || res.Validation == nil || !res.Validation.Passed || res.Failure != nil {
		t.Fatalf("result = %+v", res)
	}
	actions := map[string]dcrflow.Action{}
	for _, r := range res.Resources {
		actions[string(r.Kind)+"/"+r.Name] = r.Action
	}
	want := map[string]dcrflow.Action{"scope/pay:read": "created", "scope/pay:write": "adopted", "claim/client_id": "created",
		"access_policy/dcrflow-payments": "created",
		"dcr_provider/dcrflow-payments":  "created", "auth_strategy/dcrflow-payments": "created",
		"publication/pay-api": "published", "publication/refunds": "updated"}
	for k, v := range want {
		if actions[k] != v {
			t.Errorf("%s = %q, want %q", k, actions[k], v)
		}
	}
}

func TestOnboardPortal_FailureAtEachStepUndoesWhatThisRunDidInReverse(t *testing.T) {
	// Each undo is recorded before its step, so the failing step's own resource is
	// released too (a create whose answer was lost is undone); adopted ones are
	// released as well: ReleaseResource only removes what dcrflow made and nobody uses.
	all := []string{"ReleaseResource:publication:refunds", "ReleaseResource:publication:pay-api", "ReleaseResource:auth_strategy:dcrflow-payments",
		"ReleaseResource:dcr_provider:dcrflow-payments", "ReleaseResource:access_policy:dcrflow-payments", "ReleaseResource:claim:client_id",
		"ReleaseResource:scope:pay:write", "ReleaseResource:scope:pay:read"}
	tests := []struct {
		failAt   string
		step     string
		wantUndo []string
	}{
		{"ResolveTargets", StepResolve, nil},
		{"EnsureScopes", StepScopes, all[6:]},
		{"EnsureClaim", StepClaim, all[5:]},
		{"EnsureAccessPolicy", StepPolicy, all[4:]},
		{"EnsureAccessPolicyRule", StepPolicy, all[4:]},
		{"EnsureDCRProvider", StepProvider, all[3:]},
		{"VerifyDCRProvider", StepProvider, all[3:]},
		{"EnsureAuthStrategy", StepStrategy, all[2:]},
		{"PublishAPI:pay-api", StepPublish, all}, // the publications run at once: refunds is published too
		{"PublishAPI:refunds", StepPublish, all},
		{"ValidateDCR", StepValidate, all},
	}
	for _, tt := range tests {
		t.Run(tt.failAt, func(t *testing.T) {
			f := newFixture(t)
			f.failAt = tt.failAt
			res, err := f.run(t)
			if err == nil || res == nil {
				t.Fatalf("err = %v, res = %v; want an OnboardFailed error with the result", err, res)
			}
			if res.Failure == nil || res.Failure.Step != tt.step || !strings.Contains(res.Failure.Message, "refused") {
				t.Errorf("failure = %+v, want step %s with the server's message", res.Failure, tt.step)
			}
			if !strings.Contains(err.Error(), "step "+tt.step) {
				t.Errorf("error %q does not name the step", err)
			}
			if got := f.undos(); !slices.Equal(got, tt.wantUndo) {
				t.Errorf("compensation = %v\nwant           %v", got, tt.wantUndo)
			}
			if len(res.Compensated) != len(tt.wantUndo) || len(res.CompensationErrors) != 0 {
				t.Errorf("reported compensated %v errors %v", res.Compensated, res.CompensationErrors)
			}
		})
	}
}

func TestOnboardPortal_FailedValidationIsCompensated(t *testing.T) {
	f := newFixture(t)
	f.validFail = true
	res, err := f.run(t)
	if err == nil || res.Failure == nil || res.Failure.Step != StepValidate || !strings.Contains(res.Failure.Message, "was not granted") {
		t.Fatalf("err = %v, failure = %+v", err, res.Failure)
	}
	if res.Validation == nil || res.Validation.Passed {
		t.Errorf("validation = %+v", res.Validation)
	}
	if len(f.undos()) != 8 {
		t.Errorf("compensation = %v", f.undos())
	}
}

func TestOnboardPortal_CompensationFailureIsReportedAndTheRestStillRuns(t *testing.T) {
	f := newFixture(t)
	f.failAt, f.failUndo = "ValidateDCR", "Release:claim"
	res, err := f.run(t)
	if err == nil || !strings.Contains(err.Error(), "undo step(s) failed") {
		t.Fatalf("err = %v, want it to say resources may be left behind", err)
	}
	if len(res.CompensationErrors) != 1 || !strings.Contains(res.CompensationErrors[0], "release claim client_id") {
		t.Errorf("compensation errors = %v", res.CompensationErrors)
	}
	if got := f.undos(); len(got) != 8 || got[7] != "ReleaseResource:scope:pay:read" {
		t.Errorf("compensation stopped at the failure: %v", got)
	}
}

func TestOnboardPortal_CancellationStillCompensates(t *testing.T) {
	f := newFixture(t)
	f.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		f.mu.Lock()
		f.calls = append(f.calls, info.ActivityType.Name+detail(info.ActivityType.Name, args))
		f.mu.Unlock()
		if info.ActivityType.Name == "EnsureAuthStrategy" {
			f.env.CancelWorkflow()
		}
	})
	f.env.ExecuteWorkflow(OnboardPortal, spec)
	err := f.env.GetWorkflowError()
	if !temporal.IsCanceledError(err) {
		t.Fatalf("err = %v, want canceled", err)
	}
	got := f.undos()
	if len(got) < 3 || got[len(got)-1] != "ReleaseResource:scope:pay:read" || !slices.Contains(got, "ReleaseResource:dcr_provider:dcrflow-payments") {
		t.Fatalf("compensation after cancel = %v", got)
	}
}

func TestOnboardPortal_ReportsASharedClaimKeptByItsUndo(t *testing.T) {
	f := newFixture(t)
	f.failAt, f.claimInUse = "ValidateDCR", true
	res, err := f.run(t)
	if err == nil {
		t.Fatal("no error")
	}
	if !slices.Contains(res.Compensated, "release claim client_id (kept: still used by portal(s) other)") {
		t.Errorf("compensated = %v", res.Compensated)
	}
}

// holdAndDecide makes the portal hold on failure and, once held, checks the progress
// query, optionally clears the fault, and sends the decisions.
func holdAndDecide(t *testing.T, f *fixture, wantStep string, clear bool, decisions ...dcrflow.Decision) {
	f.env.RegisterDelayedCallback(func() {
		v, err := f.env.QueryWorkflow(dcrflow.QueryProgress)
		if err != nil {
			t.Errorf("query: %v", err)
			return
		}
		var p dcrflow.Progress
		if err := v.Get(&p); err != nil || p.Held == nil || p.Held.Step != wantStep || !strings.Contains(p.Held.Message, "refused") {
			t.Errorf("progress while held = %+v %v", p, err)
		}
		if len(f.undos()) != 0 {
			t.Errorf("a held run compensated: %v", f.undos())
		}
		if clear {
			f.failAt = ""
		}
		for _, d := range decisions {
			f.env.SignalWorkflow(dcrflow.SignalDecision, d)
		}
	}, time.Hour)
}

func TestOnboardPortal_HoldThenRetryRunsTheFailedStepAgain(t *testing.T) {
	f := newFixture(t)
	f.failAt = "EnsureAuthStrategy"
	holdAndDecide(t, f, StepStrategy, true, "later", dcrflow.DecisionRetry) // an unknown decision is ignored
	held := spec
	held.OnFailure = dcrflow.OnFailureHold
	f.env.ExecuteWorkflow(OnboardPortal, held)
	if err := f.env.GetWorkflowError(); err != nil {
		t.Fatalf("after retry: %v", err)
	}
	var res dcrflow.OnboardResult
	if err := f.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	strategies := 0
	for _, c := range f.calls {
		if c == "EnsureAuthStrategy" {
			strategies++
		}
	}
	if strategies != 2 || len(f.undos()) != 0 || res.Validation == nil || !res.Validation.Passed {
		t.Fatalf("calls %v, result %+v", f.calls, res)
	}
	if len(res.Resources) != 8 {
		t.Errorf("resources recorded = %d, want 8 (no duplicates): %+v", len(res.Resources), res.Resources)
	}
}

func TestOnboardPortal_HoldThenAbandonUndoesEverythingOnce(t *testing.T) {
	f := newFixture(t)
	f.failAt = "EnsureScopes"
	// Retry with the fault still there: held again at the same step, then abandon.
	holdAndDecide(t, f, StepScopes, false, dcrflow.DecisionRetry)
	f.env.RegisterDelayedCallback(func() { f.env.SignalWorkflow(dcrflow.SignalDecision, dcrflow.DecisionAbandon) }, 2*time.Hour)
	held := spec
	held.OnFailure = dcrflow.OnFailureHold
	f.env.ExecuteWorkflow(OnboardPortal, held)
	err := f.env.GetWorkflowError()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != dcrflow.ErrTypeOnboardFailed {
		t.Fatalf("after abandon: %v", err)
	}
	// pay:read was ensured twice (once per try) but is released once.
	if got := f.undos(); !slices.Equal(got, []string{"ReleaseResource:scope:pay:write", "ReleaseResource:scope:pay:read"}) {
		t.Fatalf("compensation = %v", got)
	}
}

func TestOnboardPortal_CancelWhileHeldCompensates(t *testing.T) {
	f := newFixture(t)
	f.failAt = "PublishAPI:refunds"
	f.env.RegisterDelayedCallback(func() { f.env.CancelWorkflow() }, time.Hour)
	held := spec
	held.OnFailure = dcrflow.OnFailureHold
	f.env.ExecuteWorkflow(OnboardPortal, held)
	if err := f.env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("err = %v, want canceled; calls %v", err, f.calls)
	}
	if got := f.undos(); len(got) != 8 {
		t.Fatalf("compensation after cancel while held = %v", got)
	}
}

// In check mode (the default) the step only reads: the policy it finds is adopted and
// never undone.
func TestOnboardPortal_AccessPolicyCheckAdoptsAndNeverUndoes(t *testing.T) {
	f := newFixture(t)
	f.failAt = "ValidateDCR"
	check := spec
	check.AccessPolicy = dcrflow.AccessPolicyCheck
	f.env.ExecuteWorkflow(OnboardPortal, check)
	if err := f.env.GetWorkflowError(); err == nil {
		t.Fatal("want the validation failure")
	}
	if slices.Contains(f.calls, "ReleaseResource:access_policy:dcrflow-payments") || slices.Contains(f.calls, "EnsureAccessPolicyRule") || !slices.Contains(f.calls, "EnsureAccessPolicy") {
		t.Fatalf("calls = %v", f.calls)
	}
}

// validate: konnect runs the Konnect-side check after the Okta-side one; its failure
// fails the step and undoes everything.
func TestOnboardPortal_ValidateThroughKonnect(t *testing.T) {
	viaKonnect := spec
	viaKonnect.ValidateVia, viaKonnect.ValidationOwner = dcrflow.ValidateViaKonnect, &dcrflow.AppOwner{Type: "developer", ID: "dev1"}
	f := newFixture(t)
	f.env.ExecuteWorkflow(OnboardPortal, viaKonnect)
	var res dcrflow.OnboardResult
	if err := f.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if i, j := slices.Index(f.calls, "ValidateDCR"), slices.Index(f.calls, "ValidateThroughKonnect"); i < 0 || j != i+1 {
		t.Fatalf("calls = %v", f.calls)
	}
	if res.Validation == nil || res.Validation.Konnect == nil || !res.Validation.Konnect.Passed || res.Validation.Konnect.ClientID != "0oa2" {
		t.Fatalf("validation = %+v", res.Validation)
	}

	f = newFixture(t)
	f.failAt = "ValidateThroughKonnect:check"
	f.env.ExecuteWorkflow(OnboardPortal, viaKonnect)
	err := f.env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "validation through Konnect failed: Konnect reports client 0oa2") {
		t.Fatalf("err = %v", err)
	}
	if len(f.undos()) != 8 {
		t.Errorf("compensation = %v", f.undos())
	}
}

// upserts records the search attributes a run upserts, each as "key=value" pairs.
func (f *fixture) upserts() *[][]string {
	var got [][]string
	f.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		var pairs []string
		for _, k := range []temporal.SearchAttributeKeyKeyword{saPortal, saStep, saOutcome} {
			if v, ok := sa.GetKeyword(k); ok {
				pairs = append(pairs, k.GetName()+"="+v)
			}
		}
		got = append(got, pairs)
	}).Return(nil)
	return &got
}

// Search attributes are upserted when the outcome changes, not at every step: the
// start, a hold and the decision, the end with the step it ended at. The step being
// run is in the current details.
func TestOnboardPortal_SearchAttributesOnlyWhenTheOutcomeChanges(t *testing.T) {
	withSA := spec
	withSA.UpsertSearchAttributes = true
	f := newFixture(t)
	got := f.upserts()
	f.env.ExecuteWorkflow(OnboardPortal, withSA)
	if err := f.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"DcrflowPortal=payments", "DcrflowOutcome=running"}, {"DcrflowStep=validate", "DcrflowOutcome=succeeded"}}
	if !slices.EqualFunc(*got, want, slices.Equal) {
		t.Errorf("upserts = %v\nwant      %v", *got, want)
	}

	f = newFixture(t)
	got = f.upserts()
	f.failAt = "EnsureAuthStrategy"
	holdAndDecide(t, f, StepStrategy, false, dcrflow.DecisionAbandon)
	held := withSA
	held.OnFailure = dcrflow.OnFailureHold
	f.env.ExecuteWorkflow(OnboardPortal, held)
	want = [][]string{{"DcrflowPortal=payments", "DcrflowOutcome=running"}, {"DcrflowStep=auth_strategy", "DcrflowOutcome=held"},
		{"DcrflowStep=auth_strategy", "DcrflowOutcome=running"}, {"DcrflowStep=auth_strategy", "DcrflowOutcome=compensated"}}
	if !slices.EqualFunc(*got, want, slices.Equal) {
		t.Errorf("held then abandoned: upserts = %v\nwant      %v", *got, want)
	}
}

// Runs started before the lean version replay with their commands: a scope per
// activity and the search attributes at every step.
func TestOnboardPortal_RunsBeforeTheLeanVersionKeepTheirCommands(t *testing.T) {
	withSA := spec
	withSA.UpsertSearchAttributes = true
	f := newFixture(t)
	got := f.upserts()
	f.env.OnGetVersion(changeFewerRoundTrips, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	f.env.ExecuteWorkflow(OnboardPortal, withSA)
	if err := f.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	want := slices.Concat(forward[:1], []string{"EnsureScope:pay:read", "EnsureScope:pay:write"}, forward[2:])
	if !slices.Equal(f.calls, want) {
		t.Errorf("calls = %v\nwant    %v", f.calls, want)
	}
	if len(*got) != 9 { // 8 steps and the end
		t.Errorf("upserts = %d, want one per step and one at the end: %v", len(*got), *got)
	}
}

// The APIs are published at once: pay-api's publication is still running when
// refunds' starts.
func TestOnboardPortal_PublishesEveryAPIAtOnce(t *testing.T) {
	f := newFixture(t)
	f.refundsStarted = make(chan struct{})
	f.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		if c := info.ActivityType.Name + detail(info.ActivityType.Name, args); c == "PublishAPI:refunds" {
			close(f.refundsStarted)
		}
	})
	if _, err := f.run(t); err != nil {
		t.Fatalf("pay-api waited for refunds to start: %v", err)
	}
}
