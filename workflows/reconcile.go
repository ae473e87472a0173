package workflows

import (
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

var saDrift = temporal.NewSearchAttributeKeyKeyword(dcrflow.SearchAttrDrift)

// lastOptions: reading a result from Temporal, retried like a step.
var lastOptions = func() workflow.ActivityOptions {
	o := stepOptions
	o.WaitForCancellation = false
	return o
}()

// checkPortal judges one portal (read-only: its plan, alone, and its last
// onboarding's result) into a future of a dcrflow.PortalDrift; a check that fails
// for good gives a DriftUnknown portal, never an error.
func checkPortal(ctx workflow.Context, spec dcrflow.PortalSpec) workflow.Future {
	f, set := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		pf := workflow.ExecuteActivity(withSummary(workflow.WithActivityOptions(ctx, planOptions), "Check portal "+spec.Key+" (read-only)"), a.PlanPortal, spec)
		lf := workflow.ExecuteActivity(withSummary(workflow.WithActivityOptions(ctx, lastOptions), "Read the last onboarding of "+spec.Key), fl.LastOnboarding, spec.Key)
		var plan dcrflow.PortalPlan
		var last activities.LastOnboarding
		perr := pf.Get(ctx, &plan)
		lerr := lf.Get(ctx, &last)
		switch {
		case perr != nil:
			set.Set(dcrflow.PortalDrift{Portal: spec.Key, State: dcrflow.DriftUnknown, Items: []dcrflow.DriftItem{}, Problems: []string{"check failed: " + message(perr)}}, nil)
		case lerr != nil:
			set.Set(dcrflow.PortalDrift{Portal: spec.Key, State: dcrflow.DriftUnknown, Items: []dcrflow.DriftItem{}, Problems: []string{"reading its last onboarding failed: " + message(lerr)}}, nil)
		default:
			var rec *dcrflow.OnboardResult
			if last.Found {
				rec = &last.Result
			}
			set.Set(CompareDrift(spec, plan, rec), nil)
		}
	})
	return f
}

// CheckPortals is `dcrflow check`: every portal judged by checkPortal, at most
// MaxConcurrent at once, in the order given. Read-only: only GETs reach Okta and
// Konnect.
func CheckPortals(ctx workflow.Context, in dcrflow.CheckInput) ([]dcrflow.PortalDrift, error) {
	specs, err := dcrflow.UnpackPortals(in.Packed)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("check input: "+err.Error(), dcrflow.ErrTypeInvalid, err)
	}
	out := make([]dcrflow.PortalDrift, len(specs))
	drifted := 0
	err = forEach(ctx, specs, in.MaxConcurrent, func(ctx workflow.Context, _ int, spec dcrflow.PortalSpec) workflow.Future {
		return checkPortal(ctx, spec)
	}, func(i int, f workflow.Future) {
		_ = f.Get(ctx, &out[i])
		if out[i].State != dcrflow.DriftOK {
			drifted++
		}
	}, func(done, running int) {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**Check %s** (read-only): %d of %d portal(s) checked, %d not ok; %d running",
			in.Name, done, len(specs), drifted, running))
	})
	return out, err
}

// forEach runs start for every spec, at most limit at once, and calls done (in the
// order they end) with each one's future, then progress.
func forEach(ctx workflow.Context, specs []dcrflow.PortalSpec, limit int, start func(workflow.Context, int, dcrflow.PortalSpec) workflow.Future,
	done func(int, workflow.Future), progress func(done, running int)) error {
	if limit <= 0 {
		limit = DefaultMaxConcurrent
	}
	sel := workflow.NewSelector(ctx)
	next, running, finished := 0, 0, 0
	progress(0, 0)
	for finished < len(specs) {
		for running < limit && next < len(specs) && ctx.Err() == nil {
			i := next
			sel.AddFuture(start(ctx, i, specs[i]), func(f workflow.Future) {
				running--
				finished++
				done(i, f)
			})
			next++
			running++
		}
		if running == 0 {
			break
		}
		sel.Select(ctx)
		progress(finished, running)
	}
	if ctx.Err() != nil {
		return temporal.NewCanceledError(fmt.Sprintf("canceled after %d of %d portal(s)", finished, len(specs)))
	}
	return nil
}

// reconcileTokens versions the reconcile's step after the portals: proving that each
// DCR token still works (see proveTokens).
const reconcileTokens = "reconcile-dcr-tokens"

// Reconcile checks a fleet (the file packed in its input, by a Temporal Schedule)
// portal by portal as `dcrflow check` does and, with Heal, onboards again the
// drifted and missing portals: it first puts back the scopes dcrflow made that
// someone changed, then runs each portal's OnboardPortal as a child (attaching to a
// run already going, as the fleet does). Onboarding creates what is missing and
// adopts what matches; nothing is deleted, what dcrflow did not make is never
// changed, and extra resources are only reported. After ContinueAsNewAfter portals it
// continues as new, carrying counts and the first drifted portals only. It reports
// in its summary, its current details, the DcrflowDrift search attribute and the
// dcrflow_drift_resources{kind} gauge.
func Reconcile(ctx workflow.Context, in dcrflow.ReconcileInput) (dcrflow.ReconcileSummary, error) {
	specs, err := dcrflow.UnpackPortals(in.Packed)
	if err != nil {
		return in.Summary, temporal.NewNonRetryableApplicationError("reconcile input: "+err.Error(), dcrflow.ErrTypeInvalid, err)
	}
	if in.ContinueAsNewAfter <= 0 {
		in.ContinueAsNewAfter = DefaultContinueAsNewAfter
	}
	sum := in.Summary
	sum.Name, sum.Total = in.Name, len(specs)
	if sum.Resources == nil {
		sum.Resources = map[string]int{}
	}
	upsert := func(v string) {
		if in.UpsertSearchAttributes {
			_ = workflow.UpsertTypedSearchAttributes(ctx, saDrift.ValueSet(v))
		}
	}
	if in.Next == 0 {
		upsert(dcrflow.DriftRunning)
	}
	end := min(len(specs), in.Next+in.ContinueAsNewAfter)
	batch := specs[in.Next:end]
	results := make([]dcrflow.PortalDrift, len(batch))
	err = forEach(ctx, batch, in.MaxConcurrent, func(ctx workflow.Context, _ int, spec dcrflow.PortalSpec) workflow.Future {
		return reconcilePortal(ctx, spec, in.Heal)
	}, func(i int, f workflow.Future) {
		_ = f.Get(ctx, &results[i])
		sum.Add(results[i])
	}, func(done, running int) {
		workflow.SetCurrentDetails(ctx, reconcileDetails(in, sum, running))
	})
	if err != nil {
		return sum, err
	}
	if end < len(specs) {
		rest := in
		rest.Next, rest.Summary = end, sum
		return sum, workflow.NewContinueAsNewError(ctx, Reconcile, rest)
	}
	// Runs recorded before the tokens were proved replay without it.
	if v := workflow.GetVersion(ctx, reconcileTokens, workflow.DefaultVersion, 1); v >= 1 {
		sum.Tokens = proveTokens(ctx, specs)
		if len(sum.Tokens) > 0 && sum.Resources == nil {
			sum.Resources = map[string]int{}
		}
		for range sum.Tokens {
			sum.Resources[string(dcrflow.KindDCRTokenDrift)]++
		}
	}
	setDriftGauge(ctx, sum.Resources)
	switch {
	case !sum.Found():
		upsert(dcrflow.DriftNone)
	case in.Heal && sum.HealFailed == 0 && sum.Unknown == 0 && len(sum.Tokens) == 0 && sum.Healed == sum.Drifted:
		upsert(dcrflow.DriftHealed)
	default:
		upsert(dcrflow.DriftFound)
	}
	workflow.SetCurrentDetails(ctx, reconcileDetails(in, sum, 0))
	return sum, nil
}

// proveTokens is the reconcile's proof that each DCR token the file's portals use
// still works (Okta revokes a token unused for 30 days): one KindDCRTokenDrift item
// per dead token, naming the providers and portals it breaks.
// The read with each token is also a use, which keeps it from expiring. A proof that
// could not be made (Okta unreachable past the retries) is reported as such, without
// failing the reconcile's report of the portals.
func proveTokens(ctx workflow.Context, specs []dcrflow.PortalSpec) []dcrflow.DriftItem {
	var a *activities.Activities
	actx := withSummary(workflow.WithActivityOptions(ctx, proveOptions), "Prove that each DCR token still works")
	var res dcrflow.ProveDCRTokensResult
	if err := workflow.ExecuteActivity(actx, a.ProveDCRTokens, dcrflow.ProveDCRTokensInput{Uses: dcrflow.TokenUsesOf(specs)}).Get(ctx, &res); err != nil {
		return []dcrflow.DriftItem{{Kind: dcrflow.KindDCRTokenDrift, Name: "(every token)", State: dcrflow.DriftUnknown,
			Fields: []string{"the tokens could not be proved: " + err.Error()}}}
	}
	var out []dcrflow.DriftItem
	for _, t := range res.Dead() {
		name := t.Name
		if t.Next {
			name += " (the replacement, dcr_tokens." + t.Name + "_next)"
		}
		out = append(out, dcrflow.DriftItem{Kind: dcrflow.KindDCRTokenDrift, Name: name, State: dcrflow.DriftDrifted,
			Fields: []string{t.Reason}, Providers: t.Providers, Portals: t.Portals})
	}
	return out
}

// proveOptions: one read per token; transient failures retried for a few minutes.
var proveOptions = workflow.ActivityOptions{StartToCloseTimeout: 2 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 6}}

// reconcilePortal checks one portal and, when asked, heals it; its future gives the
// portal's dcrflow.PortalDrift (Heal says what heal did).
func reconcilePortal(ctx workflow.Context, spec dcrflow.PortalSpec, heal bool) workflow.Future {
	f, set := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		var d dcrflow.PortalDrift
		_ = checkPortal(ctx, spec).Get(ctx, &d)
		if heal && d.State != dcrflow.DriftOK && d.State != dcrflow.DriftUnknown {
			d.Heal = healPortal(ctx, spec, d)
		}
		set.Set(d, nil)
	})
	return f
}

// Heal outcomes (PortalDrift.Heal starts with one).
const (
	HealDone    = "healed"
	HealFailed  = "not healed"
	HealNothing = "nothing to heal"
)

// healPortal puts back the changed scopes dcrflow made, then onboards the portal
// again (a child OnboardPortal, or the run already going).
func healPortal(ctx workflow.Context, spec dcrflow.PortalSpec, d dcrflow.PortalDrift) string {
	repair, refuse, onboard := healPlan(d)
	if refuse != "" {
		return HealFailed + ": " + refuse
	}
	if !onboard {
		return HealNothing + ": extra resources are never deleted by heal (prune or offboard removes them)"
	}
	if len(repair) > 0 {
		var asID string
		for _, it := range d.Items {
			if it.Kind == activities.KindAuthServer {
				asID = it.ID
			}
		}
		if asID == "" {
			asID = spec.AuthServer
		}
		actx := workflow.WithActivityOptions(ctx, stepOptions)
		for _, name := range repair {
			var out string
			err := workflow.ExecuteActivity(withSummary(actx, "Put back scope "+name+" of portal "+spec.Key), a.RepairScope,
				activities.RepairScopeInput{AuthServerID: asID, Name: name}).Get(ctx, &out)
			if err != nil {
				return HealFailed + ": " + message(err)
			}
		}
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            dcrflow.OnboardWorkflowID(spec.Key),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		StaticSummary:         fmt.Sprintf("Heal portal %s (drift found by a reconcile): onboard it again", spec.Key),
	})
	var res dcrflow.OnboardResult
	err := workflow.ExecuteChildWorkflow(cctx, OnboardPortal, spec).Get(ctx, &res)
	if err != nil && temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		var out activities.AttachedOutcome
		actx := withSummary(workflow.WithActivityOptions(ctx, awaitOptions), "Wait for portal "+spec.Key+", already running")
		if err = workflow.ExecuteActivity(actx, fl.AwaitPortal, spec.Key).Get(ctx, &out); err == nil && !out.Succeeded {
			return HealFailed + ": its running onboarding failed: " + out.Failure.Message
		}
	}
	if err != nil {
		return HealFailed + ": onboarding failed: " + message(err)
	}
	return HealDone
}

func reconcileDetails(in dcrflow.ReconcileInput, s dcrflow.ReconcileSummary, running int) string {
	mode := "report only"
	if in.Heal {
		mode = "heal"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**Reconcile %s** (%s): %d of %d portal(s) checked: %d ok, %d drifted, %d unknown", in.Name, mode, s.Checked, s.Total, s.OK, s.Drifted, s.Unknown)
	if in.Heal {
		fmt.Fprintf(&b, "; %d healed, %d not healed", s.Healed, s.HealFailed)
	}
	if running > 0 {
		fmt.Fprintf(&b, "; %d running", running)
	}
	for _, k := range sortedKeys(s.Resources) {
		fmt.Fprintf(&b, "\n- %s: %d not ok", k, s.Resources[k])
	}
	for i, p := range s.Portals {
		if i == 10 {
			fmt.Fprintf(&b, "\n- … %d more in the result", len(s.Portals)-10)
			break
		}
		fmt.Fprintf(&b, "\n- portal %s: %s", p.Portal, p.State)
		if p.Heal != "" {
			fmt.Fprintf(&b, " (%s)", p.Heal)
		}
	}
	return b.String()
}
