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

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

// world is a fake of the two orgs for offboarding: the names of what exists. Each
// offboarding activity deletes what exists (or keeps what is in keep) and finds
// absent what does not, as the real ones do, so two runs show idempotency.
type world struct {
	mu     sync.Mutex
	exists map[string]bool   // kind/name
	keep   map[string]string // kind/name → reason
	calls  []string          // activity:name in call order
	inputs map[string]any    // activity:name → its input
	failAt string            // activity:name that fails for good
}

func newWorld(names ...string) *world {
	w := &world{exists: map[string]bool{}, keep: map[string]string{}, inputs: map[string]any{}}
	for _, n := range names {
		w.exists[n] = true
	}
	return w
}

func (w *world) act(call string, kind dcrflow.Kind, name string, goal dcrflow.Action, in any) (dcrflow.Resource, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, call+":"+name)
	w.inputs[call+":"+name] = in
	r := dcrflow.Resource{Kind: kind, Name: name, ID: "id-" + name}
	if w.failAt == call+":"+name {
		return r, temporal.NewNonRetryableApplicationError(name+": 403 forbidden", dcrflow.ErrTypeUnauthorized, nil)
	}
	key := string(kind) + "/" + name
	switch {
	case !w.exists[key]:
		r.Action = dcrflow.ActionAbsent
	case w.keep[key] != "":
		r.Action, r.Reason = dcrflow.ActionKept, w.keep[key]
	default:
		delete(w.exists, key)
		r.Action = goal
	}
	return r, nil
}

func (w *world) env(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(a.FindOffboardTargets, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.OffboardLookupInput) (activities.OffboardTargets, error) {
		w.mu.Lock()
		w.calls = append(w.calls, "FindOffboardTargets")
		w.inputs["FindOffboardTargets"] = in
		w.mu.Unlock()
		t := activities.OffboardTargets{AuthServerID: "aus1", Issuer: "https://org/oauth2/aus1", PortalID: "p1"}
		for _, api := range in.APIs {
			t.APIs = append(t.APIs, activities.NamedID{Name: api, ID: "api-" + api})
		}
		if w.exists[string(dcrflow.KindAuthStrategy)+"/dcrflow-payments"] {
			t.Strategies = []activities.OwnedResource{{ID: "strat1", Name: "dcrflow-payments", Owned: true}}
		}
		return t, nil
	})
	env.OnActivity(a.OffboardPublication, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.OffboardPublicationInput) (dcrflow.Resource, error) {
		goal := dcrflow.ActionUnpublished
		if in.Before != nil {
			goal = dcrflow.ActionRestored
		}
		return w.act("OffboardPublication", dcrflow.KindPublication, in.APIName, goal, in)
	})
	for name, fn := range map[string]any{"OffboardAuthStrategy": a.OffboardAuthStrategy, "OffboardDCRProvider": a.OffboardDCRProvider,
		"OffboardClaim": a.OffboardClaim, "OffboardScope": a.OffboardScope, "OffboardAccessPolicy": a.OffboardAccessPolicy} {
		kind := map[string]dcrflow.Kind{"OffboardAuthStrategy": dcrflow.KindAuthStrategy, "OffboardDCRProvider": dcrflow.KindDCRProvider,
			"OffboardClaim": dcrflow.KindClaim, "OffboardScope": dcrflow.KindScope, "OffboardAccessPolicy": dcrflow.KindAccessPolicy}[name]
		env.OnActivity(fn, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.OffboardItemInput) (dcrflow.Resource, error) {
			return w.act(name, kind, in.Name, dcrflow.ActionDeleted, in)
		})
	}
	return env
}

func (w *world) offboard(t *testing.T, in dcrflow.OffboardInput) (*dcrflow.OffboardResult, error) {
	t.Helper()
	w.calls = nil
	env := w.env(t)
	env.ExecuteWorkflow(OffboardPortal, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("offboarding did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		return nil, err
	}
	var res dcrflow.OffboardResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return &res, nil
}

// onboardedWorld has everything the onboarding of spec made, and a scope of an
// earlier version of the file.
func onboardedWorld() *world {
	return newWorld("publication/pay-api", "publication/refunds", "auth_strategy/dcrflow-payments", "dcr_provider/dcrflow-payments",
		"access_policy/dcrflow-payments", "claim/client_id", "scope/pay:read", "scope/pay:write", "scope/pay:old")
}

// records are two completed onboarding runs of spec, newest first: the first
// published pay-api, republished refunds and created the claim; the second (run
// again) found everything in place.
var records = []dcrflow.OnboardResult{
	{Portal: "payments", Resources: []dcrflow.Resource{
		{Kind: dcrflow.KindScope, Name: "pay:read", ID: "scp1", Action: dcrflow.ActionAdopted},
		{Kind: dcrflow.KindClaim, Name: "client_id", ID: "ocl1", Action: dcrflow.ActionAdopted},
		{Kind: dcrflow.KindPublication, Name: "pay-api", ID: "api-pay-api/p1", Action: dcrflow.ActionUnchanged},
		{Kind: dcrflow.KindPublication, Name: "refunds", ID: "api-refunds/p1", Action: dcrflow.ActionUnchanged},
	}},
	{Portal: "payments", Resources: []dcrflow.Resource{
		{Kind: dcrflow.KindScope, Name: "pay:read", ID: "scp1", Action: dcrflow.ActionCreated},
		{Kind: dcrflow.KindScope, Name: "pay:old", ID: "scp0", Action: dcrflow.ActionCreated},
		{Kind: dcrflow.KindClaim, Name: "client_id", ID: "ocl1", Action: dcrflow.ActionCreated},
		{Kind: dcrflow.KindPublication, Name: "pay-api", ID: "api-pay-api/p1", Action: dcrflow.ActionPublished},
		{Kind: dcrflow.KindPublication, Name: "refunds", ID: "api-refunds/p1", Action: dcrflow.ActionUpdated,
			Previous: &dcrflow.PublicationSettings{AuthStrategyIDs: []string{"old"}, Visibility: "public"}},
	}},
	{Portal: "another-portal", Resources: []dcrflow.Resource{ // not this portal's: ignored
		{Kind: dcrflow.KindPublication, Name: "pay-api", ID: "api-pay-api/p1", Action: dcrflow.ActionUpdated,
			Previous: &dcrflow.PublicationSettings{AuthStrategyIDs: []string{"x"}}},
	}},
}

func TestOffboardPortal_ReversesTheSagaWithWhatTheRecordsSay(t *testing.T) {
	w := onboardedWorld()
	w.keep["dcr_provider/dcrflow-payments"] = "still used by auth strategies other"
	res, err := w.offboard(t, dcrflow.OffboardInput{Spec: spec, Onboarded: records})
	if err != nil {
		t.Fatal(err)
	}
	wantCalls := []string{"FindOffboardTargets",
		"OffboardPublication:pay-api", "OffboardPublication:refunds", "OffboardAuthStrategy:dcrflow-payments",
		"OffboardDCRProvider:dcrflow-payments", "OffboardAccessPolicy:dcrflow-payments", "OffboardClaim:client_id",
		"OffboardScope:pay:read", "OffboardScope:pay:write", "OffboardScope:pay:old"}
	if !slices.Equal(w.calls, wantCalls) {
		t.Fatalf("calls:\n %v\nwant\n %v", w.calls, wantCalls)
	}
	var got []string
	for _, r := range res.Resources {
		got = append(got, string(r.Kind)+" "+r.Name+" "+string(r.Action))
	}
	want := []string{"publication pay-api unpublished", "publication refunds restored", "auth_strategy dcrflow-payments deleted",
		"dcr_provider dcrflow-payments kept", "access_policy dcrflow-payments deleted", "claim client_id deleted", "scope pay:read deleted", "scope pay:write deleted", "scope pay:old deleted"}
	if !slices.Equal(got, want) {
		t.Fatalf("result:\n %v\nwant\n %v", got, want)
	}
	if res.Resources[3].Reason == "" {
		t.Error("a kept resource without its reason")
	}

	// What each activity was told: the publication before each change (the newest
	// record that changed it), the claim created by this portal's first run.
	pay := w.inputs["OffboardPublication:pay-api"].(activities.OffboardPublicationInput)
	refunds := w.inputs["OffboardPublication:refunds"].(activities.OffboardPublicationInput)
	if !pay.BeforeKnown || pay.Before != nil || !refunds.BeforeKnown || refunds.Before == nil || refunds.Before.AuthStrategyIDs[0] != "old" {
		t.Errorf("before: pay-api %+v, refunds %+v", pay, refunds)
	}
	if len(pay.Strategies) != 1 || pay.Strategies[0].ID != "strat1" {
		t.Errorf("publication input without the portal's strategy: %+v", pay)
	}
	claim := w.inputs["OffboardClaim:client_id"].(activities.OffboardItemInput)
	// The run that adopted it came after the one that created it: created wins (in the activity).
	if !slices.Equal(claim.Known.Created, []string{"ocl1"}) || !slices.Equal(claim.Known.Adopted, []string{"ocl1"}) || claim.AuthServerID != "aus1" || claim.Issuer == "" {
		t.Errorf("claim input = %+v", claim)
	}
	if strat := w.inputs["OffboardAuthStrategy:dcrflow-payments"].(activities.OffboardItemInput); strat.AuthServerID != "" {
		t.Errorf("a Konnect resource given the Okta server: %+v", strat)
	}
}

func TestOffboardPortal_WithoutRecordsOwnershipMarksDecide(t *testing.T) {
	w := onboardedWorld()
	res, err := w.offboard(t, dcrflow.OffboardInput{Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	pay := w.inputs["OffboardPublication:pay-api"].(activities.OffboardPublicationInput)
	if pay.BeforeKnown {
		t.Errorf("before known without a record: %+v", pay)
	}
	if slices.Contains(w.calls, "OffboardScope:pay:old") || len(res.Resources) != 8 {
		t.Errorf("offboarded what neither the file nor a record names: %v", w.calls)
	}
	// Another portal offboarded along with this one created the claim this one adopted.
	w = onboardedWorld()
	_, err = w.offboard(t, dcrflow.OffboardInput{Spec: spec, Onboarded: records[:1],
		CreatedByOthers: []dcrflow.Resource{{Kind: dcrflow.KindClaim, Name: "client_id", ID: "ocl1", Action: dcrflow.ActionCreated}}})
	if err != nil {
		t.Fatal(err)
	}
	claim := w.inputs["OffboardClaim:client_id"].(activities.OffboardItemInput)
	if !slices.Equal(claim.Known.Created, []string{"ocl1"}) || !slices.Equal(claim.Known.Adopted, []string{"ocl1"}) {
		t.Errorf("claim known = %+v", claim.Known)
	}
}

func TestOffboardPortal_RunAgainItFindsEverythingAbsent(t *testing.T) {
	w := onboardedWorld()
	in := dcrflow.OffboardInput{Spec: spec, Onboarded: records}
	if _, err := w.offboard(t, in); err != nil {
		t.Fatal(err)
	}
	again, err := w.offboard(t, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again.Resources {
		if r.Action != dcrflow.ActionAbsent {
			t.Errorf("second offboarding: %s %s %s", r.Kind, r.Name, r.Action)
		}
	}
	if len(again.Resources) != 9 {
		t.Errorf("second offboarding reported %d resources, want all 9", len(again.Resources))
	}
}

func TestOffboardPortal_AStepThatFailsForGoodEndsWithTheResultSoFar(t *testing.T) {
	w := onboardedWorld()
	w.failAt = "OffboardAuthStrategy:dcrflow-payments"
	_, err := w.offboard(t, dcrflow.OffboardInput{Spec: spec, Onboarded: records})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != dcrflow.ErrTypeOffboardFailed || !strings.Contains(err.Error(), "step auth_strategy") {
		t.Fatalf("err = %v", err)
	}
	var res dcrflow.OffboardResult
	if err := app.Details(&res); err != nil {
		t.Fatal(err)
	}
	if res.Failure == nil || res.Failure.Step != StepStrategy || !strings.Contains(res.Failure.Message, "403") || len(res.Resources) != 2 {
		t.Fatalf("result = %+v", res)
	}
	if slices.ContainsFunc(w.calls, func(c string) bool { return strings.HasPrefix(c, "OffboardDCRProvider") }) {
		t.Errorf("went on after the failed step: %v", w.calls)
	}
	// Fixed, it is run again and goes on from there.
	w.failAt = ""
	res2, err := w.offboard(t, dcrflow.OffboardInput{Spec: spec, Onboarded: records})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Resources[0].Action != dcrflow.ActionAbsent || res2.Resources[2].Action != dcrflow.ActionDeleted {
		t.Errorf("run again: %+v", res2.Resources)
	}
}
