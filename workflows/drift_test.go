package workflows

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

func driftSpec(key string) dcrflow.PortalSpec {
	return dcrflow.PortalSpec{Key: key, Portal: "shop", AuthServer: "default", Scopes: []dcrflow.ScopeSpec{{Name: key + ":read"}},
		ClaimName: "client_id", DCRProvider: "okta-" + key, DCRTokenName: "main", Strategy: dcrflow.StrategySpec{Name: "dcr-" + key},
		APIs: []dcrflow.APISpec{{API: key + "-api", Visibility: "public"}}}
}

func itemOf(t *testing.T, d dcrflow.PortalDrift, kind dcrflow.Kind, name string) dcrflow.DriftItem {
	t.Helper()
	for _, it := range d.Items {
		if it.Kind == kind && it.Name == name {
			return it
		}
	}
	t.Fatalf("%s: no %s %s in %+v", d.Portal, kind, name, d.Items)
	return dcrflow.DriftItem{}
}

func TestCompareDrift_OkDriftedMissingExtra(t *testing.T) {
	spec := driftSpec("pay")
	plan := dcrflow.PortalPlan{Portal: "pay", AuthServerID: "aus1", Items: []dcrflow.PlanItem{
		{Kind: dcrflow.KindScope, Name: "pay:read", ID: "scp1", Action: dcrflow.PlanConflict, Diffs: []string{"consent is REQUIRED"}},
		{Kind: dcrflow.KindClaim, Name: "client_id", ID: "ocl1", Action: dcrflow.PlanAdopt},
		{Kind: dcrflow.KindDCRProvider, Name: "okta-pay", ID: "p1", Action: dcrflow.PlanAdopt},
		{Kind: dcrflow.KindAuthStrategy, Name: "dcr-pay", Action: dcrflow.PlanCreate},
		{Kind: dcrflow.KindPublication, Name: "pay-api", Action: dcrflow.PlanRepublish, Diffs: []string{"visibility is private, want public"}},
	}, Problems: []string{`scope "pay:read" exists and differs: consent is REQUIRED`, `several Konnect APIs are named "x"`}}
	last := &dcrflow.OnboardResult{Portal: "pay", Resources: []dcrflow.Resource{
		{Kind: dcrflow.KindScope, Name: "pay:read", ID: "scp1", Action: dcrflow.ActionCreated},
		{Kind: dcrflow.KindScope, Name: "pay:old", ID: "scp0", Action: dcrflow.ActionCreated},        // no longer declared: extra
		{Kind: dcrflow.KindScope, Name: "theirs", ID: "scp9", Action: dcrflow.ActionAdopted},         // not dcrflow's: never extra
		{Kind: dcrflow.KindPublication, Name: "old-api", ID: "a/p", Action: dcrflow.ActionPublished}, // extra
		{Kind: dcrflow.KindPublication, Name: "kept-api", ID: "b/p", Action: dcrflow.ActionUpdated},  // someone else's before: not extra
	}}
	d := CompareDrift(spec, plan, last)
	if d.State != dcrflow.DriftDrifted || !d.Onboarded {
		t.Fatalf("state %s onboarded %v", d.State, d.Onboarded)
	}
	if len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "several") {
		t.Errorf("problems %q: want only the one no item says", d.Problems)
	}
	if it := itemOf(t, d, dcrflow.KindScope, "pay:read"); it.State != dcrflow.DriftDrifted || len(it.Fields) != 1 || !strings.Contains(it.Fields[0], "REQUIRED") {
		t.Errorf("scope: %+v", it)
	}
	for _, k := range []dcrflow.Kind{dcrflow.KindClaim, dcrflow.KindDCRProvider} {
		if it := d.Items[map[dcrflow.Kind]int{dcrflow.KindClaim: 1, dcrflow.KindDCRProvider: 2}[k]]; it.State != dcrflow.DriftOK {
			t.Errorf("%s: %+v", k, it)
		}
	}
	if it := itemOf(t, d, dcrflow.KindAuthStrategy, "dcr-pay"); it.State != dcrflow.DriftMissing {
		t.Errorf("strategy: %+v", it)
	}
	if it := itemOf(t, d, dcrflow.KindPublication, "pay-api"); it.State != dcrflow.DriftDrifted || !strings.Contains(it.Fields[0], "visibility") {
		t.Errorf("publication: %+v", it)
	}
	if it := itemOf(t, d, dcrflow.KindScope, "pay:old"); it.State != dcrflow.DriftExtra {
		t.Errorf("old scope: %+v", it)
	}
	if it := itemOf(t, d, dcrflow.KindPublication, "old-api"); it.State != dcrflow.DriftExtra {
		t.Errorf("old publication: %+v", it)
	}
	if len(d.Items) != 7 {
		t.Errorf("items %d, want 5 from the plan and 2 extra (adopted and updated ones never are): %+v", len(d.Items), d.Items)
	}
	want := map[dcrflow.Kind]int{dcrflow.KindScope: 2, dcrflow.KindAuthStrategy: 1, dcrflow.KindPublication: 2}
	for k, n := range d.Counts() {
		if want[k] != n {
			t.Errorf("counts %v, want %v", d.Counts(), want)
		}
	}

	// Every item ok: the portal is ok. Never onboarded and nothing exists: missing.
	ok := CompareDrift(spec, dcrflow.PortalPlan{Items: []dcrflow.PlanItem{{Kind: dcrflow.KindClaim, Name: "client_id", Action: dcrflow.PlanAdopt}}}, last)
	if ok.State != dcrflow.DriftDrifted { // the last onboarding's extras still count
		t.Errorf("with extras: %s", ok.State)
	}
	clean := CompareDrift(spec, dcrflow.PortalPlan{Items: []dcrflow.PlanItem{{Kind: dcrflow.KindClaim, Name: "client_id", Action: dcrflow.PlanAdopt}}},
		&dcrflow.OnboardResult{})
	if clean.State != dcrflow.DriftOK {
		t.Errorf("clean: %+v", clean)
	}
	never := CompareDrift(spec, dcrflow.PortalPlan{Items: []dcrflow.PlanItem{{Kind: dcrflow.KindClaim, Name: "client_id", Action: dcrflow.PlanCreate}}}, nil)
	if never.State != dcrflow.DriftMissing || never.Onboarded {
		t.Errorf("never onboarded: %+v", never)
	}
}

func TestHealPlan_RepairsOnlyWhatOnboardingCanFix(t *testing.T) {
	d := dcrflow.PortalDrift{Items: []dcrflow.DriftItem{
		{Kind: dcrflow.KindScope, Name: "s", State: dcrflow.DriftDrifted},
		{Kind: dcrflow.KindAuthStrategy, Name: "x", State: dcrflow.DriftMissing},
		{Kind: dcrflow.KindScope, Name: "old", State: dcrflow.DriftExtra},
	}}
	repair, refuse, onboard := healPlan(d)
	if refuse != "" || !onboard || len(repair) != 1 || repair[0] != "s" {
		t.Errorf("repair %v refuse %q onboard %v", repair, refuse, onboard)
	}
	d.Items = append(d.Items, dcrflow.DriftItem{Kind: dcrflow.KindDCRProvider, Name: "p", State: dcrflow.DriftDrifted, Fields: []string{"issuer is x"}})
	if _, refuse, onboard := healPlan(d); onboard || !strings.Contains(refuse, "dcr_provider p differs (issuer is x)") {
		t.Errorf("drifted provider: refuse %q onboard %v", refuse, onboard)
	}
	extraOnly := dcrflow.PortalDrift{Items: []dcrflow.DriftItem{{Kind: dcrflow.KindScope, Name: "old", State: dcrflow.DriftExtra}}}
	if _, refuse, onboard := healPlan(extraOnly); onboard || refuse != "" {
		t.Errorf("extra only: refuse %q onboard %v (heal deletes nothing)", refuse, onboard)
	}
	missingPortal := dcrflow.PortalDrift{Items: []dcrflow.DriftItem{{Kind: activities.KindPortal, Name: "shop", State: dcrflow.DriftMissing}}}
	if _, refuse, _ := healPlan(missingPortal); !strings.Contains(refuse, "never creates it") {
		t.Errorf("missing portal: %q", refuse)
	}
}

// reconcileEnv runs Reconcile on mocked activities: drifted names the portals whose
// scope is changed and strategy deleted until they are healed.
type reconcileEnv struct {
	mu       sync.Mutex
	drifted  map[string]bool
	repaired []string
	onboards []string
	running  int
	peak     int
	tokens   []dcrflow.DCRTokenProof // ProveDCRTokens' answer
	proved   []dcrflow.DCRTokenUse   // what it was asked
}

func (r *reconcileEnv) run(t *testing.T, in dcrflow.ReconcileInput) (dcrflow.ReconcileSummary, error, *testsuite.TestWorkflowEnvironment) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(Reconcile)
	env.RegisterWorkflow(OnboardPortal)
	env.RegisterActivity(&activities.Activities{})
	env.RegisterActivity(&activities.Fleet{})
	env.OnActivity(a.PlanPortal, mock.Anything, mock.Anything).Return(func(_ context.Context, spec dcrflow.PortalSpec) (dcrflow.PortalPlan, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.running++
		r.peak = max(r.peak, r.running)
		defer func() { r.running-- }()
		if spec.Key == "broken" {
			return dcrflow.PortalPlan{}, temporal.NewNonRetryableApplicationError("find scope: 403", dcrflow.ErrTypeUnauthorized, nil)
		}
		scope, strategy := dcrflow.PlanAdopt, dcrflow.PlanAdopt
		var diffs []string
		if r.drifted[spec.Key] {
			scope, strategy, diffs = dcrflow.PlanConflict, dcrflow.PlanCreate, []string{"consent is REQUIRED"}
		}
		return dcrflow.PortalPlan{Portal: spec.Key, AuthServerID: "aus1", Items: []dcrflow.PlanItem{
			{Kind: dcrflow.KindScope, Name: spec.Key + ":read", Action: scope, Diffs: diffs},
			{Kind: dcrflow.KindAuthStrategy, Name: "dcr-" + spec.Key, Action: strategy}}}, nil
	})
	env.OnActivity(fl.LastOnboarding, mock.Anything, mock.Anything).Return(func(_ context.Context, key string) (activities.LastOnboarding, error) {
		return activities.LastOnboarding{Found: true, Result: dcrflow.OnboardResult{Portal: key}}, nil
	})
	env.OnActivity(a.RepairScope, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RepairScopeInput) (string, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.repaired = append(r.repaired, in.Name)
		return activities.RepairFixed, nil
	})
	env.OnActivity(a.ProveDCRTokens, mock.Anything, mock.Anything).Return(func(_ context.Context, in dcrflow.ProveDCRTokensInput) (dcrflow.ProveDCRTokensResult, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.proved = in.Uses
		return dcrflow.ProveDCRTokensResult{Tokens: r.tokens}, nil
	})
	env.OnWorkflow(OnboardPortal, mock.Anything, mock.Anything).Return(func(_ workflow.Context, spec dcrflow.PortalSpec) (*dcrflow.OnboardResult, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.onboards = append(r.onboards, spec.Key)
		delete(r.drifted, spec.Key)
		return &dcrflow.OnboardResult{Portal: spec.Key}, nil
	})
	env.ExecuteWorkflow(Reconcile, in)
	var sum dcrflow.ReconcileSummary
	err := env.GetWorkflowError()
	if err == nil {
		if gerr := env.GetWorkflowResult(&sum); gerr != nil {
			t.Fatal(gerr)
		}
	}
	return sum, err, env
}

func packedKeys(t *testing.T, keys ...string) []byte {
	t.Helper()
	var specs []dcrflow.PortalSpec
	for _, k := range keys {
		specs = append(specs, driftSpec(k))
	}
	b, err := dcrflow.PackPortals(specs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReconcile_ReportsThenHealsThenFindsNothing(t *testing.T) {
	r := &reconcileEnv{drifted: map[string]bool{"b": true, "d": true}}
	in := dcrflow.ReconcileInput{Name: "f", Packed: packedKeys(t, "a", "b", "c", "d", "broken"), MaxConcurrent: 2}

	sum, err, _ := r.run(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total != 5 || sum.Checked != 5 || sum.OK != 2 || sum.Drifted != 2 || sum.Unknown != 1 || sum.Healed != 0 || len(r.onboards) != 0 {
		t.Fatalf("report only: %+v, onboards %v", sum, r.onboards)
	}
	if sum.Resources[string(dcrflow.KindScope)] != 2 || sum.Resources[string(dcrflow.KindAuthStrategy)] != 2 || len(sum.Portals) != 3 {
		t.Errorf("resources %v, portals kept %d", sum.Resources, len(sum.Portals))
	}
	if r.peak > 2 {
		t.Errorf("%d checks at once, want at most 2", r.peak)
	}

	in.Heal = true
	sum, err, _ = r.run(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Drifted != 2 || sum.Healed != 2 || sum.HealFailed != 0 || strings.Join(r.onboards, ",") != "b,d" && strings.Join(r.onboards, ",") != "d,b" {
		t.Fatalf("heal: %+v onboards %v", sum, r.onboards)
	}
	if len(r.repaired) != 2 {
		t.Errorf("repaired %v, want both changed scopes put back", r.repaired)
	}
	sum, err, _ = r.run(t, in)
	if err != nil || sum.Drifted != 0 || sum.OK != 4 || len(r.onboards) != 2 {
		t.Fatalf("after heal: %+v %v, onboards %v", sum, err, r.onboards)
	}
}

// A DCR token Okta no longer accepts is drift, naming the providers and portals it
// breaks, though every portal is ok; heal cannot fix it, so it stays drift.
func TestReconcile_ADeadDCRTokenIsDriftNamingWhatItBreaks(t *testing.T) {
	r := &reconcileEnv{drifted: map[string]bool{}, tokens: []dcrflow.DCRTokenProof{
		{Name: "default", OK: true},
		{Name: "partners", Reason: "Okta: 401 E0000011 Invalid token provided", Providers: []string{"dcrflow-b"}, Portals: []string{"b"}}}}
	in := dcrflow.ReconcileInput{Name: "f", Packed: packedKeys(t, "a", "b"), Heal: true}
	sum, err, _ := r.run(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if sum.OK != 2 || !sum.Found() || len(sum.Tokens) != 1 || sum.Resources[string(dcrflow.KindDCRTokenDrift)] != 1 {
		t.Fatalf("summary %+v, want both portals ok and one dead token", sum)
	}
	tok := sum.Tokens[0]
	if tok.Name != "partners" || tok.State != dcrflow.DriftDrifted || strings.Join(tok.Providers, ",") != "dcrflow-b" ||
		strings.Join(tok.Portals, ",") != "b" || !strings.Contains(strings.Join(tok.Fields, " "), "E0000011") {
		t.Errorf("token item %+v", tok)
	}
	if len(r.proved) == 0 {
		t.Error("ProveDCRTokens was not told which tokens the file's portals use")
	}
	if len(r.onboards) != 0 {
		t.Errorf("onboarded %v for a dead token: onboarding cannot bring a token back", r.onboards)
	}
}

func TestReconcile_ContinuesAsNewWithBoundedSummary(t *testing.T) {
	r := &reconcileEnv{drifted: map[string]bool{}}
	keys := []string{}
	for i := range 7 {
		k := string(rune('a' + i))
		keys = append(keys, k)
		r.drifted[k] = true
	}
	in := dcrflow.ReconcileInput{Name: "f", Packed: packedKeys(t, keys...), ContinueAsNewAfter: 3}
	_, err, _ := r.run(t, in)
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("want continue-as-new after 3 portals, got %v", err)
	}
	var next dcrflow.ReconcileInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.Next != 3 || next.Summary.Checked != 3 || next.Summary.Drifted != 3 || len(next.Packed) == 0 {
		t.Fatalf("continued with %+v", next)
	}
	next.ContinueAsNewAfter = 10
	sum, err, _ := r.run(t, next)
	if err != nil || sum.Checked != 7 || sum.Drifted != 7 || sum.Total != 7 {
		t.Fatalf("last run: %+v %v", sum, err)
	}
}
