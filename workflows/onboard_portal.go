package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

// Step names, as results, errors and the UI show them.
const (
	StepResolve  = "resolve"
	StepScopes   = "scopes"
	StepClaim    = "claim"
	StepPolicy   = "access_policy"
	StepProvider = "dcr_provider"
	StepStrategy = "auth_strategy"
	StepPublish  = "publish"
	StepValidate = "validate"
)

// a is the nil receiver through which activities are named; the worker registers a
// real *activities.Activities under the same method names.
var a *activities.Activities

// OnboardPortal makes one Konnect portal hand out credentials through Okta DCR: the
// saga of DESIGN.md, steps 1–8. When a step fails for good it either undoes
// what this run created or changed, in reverse order, and fails with an OnboardFailed
// error whose details hold the OnboardResult; or, with on_failure: hold, keeps what
// it built and waits for an operator's decision (retry the step, or abandon: undo).
func OnboardPortal(ctx workflow.Context, spec dcrflow.PortalSpec) (*dcrflow.OnboardResult, error) {
	ctx = workflow.WithActivityOptions(ctx, stepOptions)
	o := &onboarding{spec: spec, res: &dcrflow.OnboardResult{Portal: spec.Key, Resources: []dcrflow.Resource{}}}
	if err := workflow.SetQueryHandler(ctx, dcrflow.QueryProgress, o.progress); err != nil {
		return nil, err
	}
	err := o.run(ctx)
	if err == nil {
		o.finish(ctx, dcrflow.OutcomeSucceeded)
		return o.res, nil
	}
	o.res.Failure = &dcrflow.Failure{Step: o.step, Message: message(err)}
	o.checks.set(o.step, stateFailed, o.res.Failure.Message)
	done, failed, cerr := o.undo.compensate(ctx)
	o.res.Compensated, o.res.CompensationErrors = done, failed
	o.markCompensated(len(failed) == 0)
	switch {
	case temporal.IsCanceledError(err):
		o.finish(ctx, dcrflow.OutcomeCanceled)
		return nil, err // compensated above; the run ends as canceled
	case len(failed) == 0:
		o.finish(ctx, dcrflow.OutcomeCompensated)
	default:
		o.finish(ctx, dcrflow.OutcomeFailed)
	}
	msg := fmt.Sprintf("portal %s: step %s failed: %s", spec.Key, o.step, o.res.Failure.Message)
	if cerr != nil {
		msg += fmt.Sprintf("; %d undo step(s) failed, resources may be left behind", len(failed))
	}
	return nil, temporal.NewNonRetryableApplicationError(msg, dcrflow.ErrTypeOnboardFailed, errors.Join(err, cerr), o.res)
}

type onboarding struct {
	spec dcrflow.PortalSpec
	res  *dcrflow.OnboardResult
	undo saga
	step string
	held *dcrflow.Failure

	checks  *checklist
	outcome dcrflow.Outcome

	// shared: the run keeps the usage record (runs started before it existed do not).
	shared bool
	// lean: the run ensures its scopes in one activity and upserts its search
	// attributes only when its outcome changes (runs started before do not).
	lean bool
	// shownOutcome is the outcome last upserted (lean runs).
	shownOutcome dcrflow.Outcome

	// What earlier steps found, for later ones.
	targets    activities.Targets
	scopeNames []string
	providerID string
	strategyID string
}

type step struct {
	name string
	run  func(ctx workflow.Context) error
}

// run executes the steps in order. Each step is idempotent within the run, so a held
// run can execute the failed step again.
func (o *onboarding) run(ctx workflow.Context) error {
	// One version for runs from here on, whose marker and search-attribute upsert
	// stand for the two before it (each GetVersion costs both): such runs keep the
	// usage record and have step 4.
	o.lean = workflow.GetVersion(ctx, changeFewerRoundTrips, workflow.DefaultVersion, 1) >= 1
	o.shared = o.lean || workflow.GetVersion(ctx, changeUsageRecord, workflow.DefaultVersion, 1) >= 1
	steps := []step{{StepResolve, o.resolve}, {StepScopes, o.scopes}, {StepClaim, o.claim}}
	// Runs started before step 4 existed replay without it.
	if o.lean || workflow.GetVersion(ctx, changeAccessPolicy, workflow.DefaultVersion, 1) >= 1 {
		steps = append(steps, step{StepPolicy, o.accessPolicy})
	}
	steps = append(steps, step{StepProvider, o.provider}, step{StepStrategy, o.strategy}, step{StepPublish, o.publish})
	if o.spec.Validate {
		steps = append(steps, step{StepValidate, o.validate})
	}
	names := make([]string, len(steps))
	for i, st := range steps {
		names[i] = st.name
	}
	o.checks = newChecklist(names)
	for i := 0; i < len(steps); {
		o.step = steps[i].name
		o.checks.set(o.step, stateRunning, "")
		o.show(ctx, dcrflow.OutcomeRunning)
		err := steps[i].run(ctx)
		if err == nil {
			o.checks.set(o.step, stateDone, "")
			i++
			continue
		}
		if ctx.Err() != nil {
			// Canceled: the attempt in flight may have failed because of it (its call
			// aborted); the run ends as canceled either way.
			return temporal.NewCanceledError("canceled at step " + o.step)
		}
		if o.spec.OnFailure != dcrflow.OnFailureHold || temporal.IsCanceledError(err) {
			return err
		}
		if decision, herr := o.hold(ctx, err); herr != nil {
			return herr
		} else if decision == dcrflow.DecisionAbandon {
			return err
		}
	}
	return nil
}

// markCompensated marks the steps that ran as undone, once compensation is through.
func (o *onboarding) markCompensated(clean bool) {
	if !clean {
		return
	}
	for _, n := range o.checks.names {
		if o.checks.states[n] == stateDone {
			o.checks.set(n, stateCompensated, "")
		}
	}
}

// hold shows the failure and waits for an operator's decision (or cancellation).
func (o *onboarding) hold(ctx workflow.Context, cause error) (dcrflow.Decision, error) {
	o.held = &dcrflow.Failure{Step: o.step, Message: message(cause)}
	defer func() { o.held = nil }()
	o.checks.set(o.step, stateHeld, fmt.Sprintf("%s. Send the signal `%s` with \"%s\" (run the step again) or \"%s\" (undo and end).",
		o.held.Message, dcrflow.SignalDecision, dcrflow.DecisionRetry, dcrflow.DecisionAbandon))
	o.show(ctx, dcrflow.OutcomeHeld)
	workflow.GetLogger(ctx).Warn("onboarding held", "portal", o.spec.Key, "step", o.step, "error", o.held.Message)
	ch := workflow.GetSignalChannel(ctx, dcrflow.SignalDecision)
	for {
		var decision dcrflow.Decision
		canceled := false
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &decision) })
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) { canceled = true })
		sel.Select(ctx)
		if canceled {
			return "", temporal.NewCanceledError("canceled while held at step " + o.step)
		}
		switch decision = dcrflow.Decision(strings.ToLower(strings.TrimSpace(string(decision)))); decision {
		case dcrflow.DecisionRetry, dcrflow.DecisionAbandon:
			workflow.GetLogger(ctx).Info("decision received", "portal", o.spec.Key, "decision", decision)
			o.checks.set(o.step, stateRunning, fmt.Sprintf("decision %q", decision))
			o.show(ctx, dcrflow.OutcomeRunning)
			return decision, nil
		default:
			workflow.GetLogger(ctx).Warn("ignored decision", "decision", decision)
		}
	}
}

func (o *onboarding) progress() (dcrflow.Progress, error) {
	return dcrflow.Progress{Portal: o.spec.Key, Outcome: o.outcome, Step: o.step, Held: o.held, Resources: o.res.Resources, AuthServerID: o.res.AuthServerID}, nil
}

func (o *onboarding) resolve(ctx workflow.Context) error {
	rctx := workflow.WithActivityOptions(ctx, resolveOptions(len(o.spec.APIs)))
	if err := workflow.ExecuteActivity(withSummary(rctx, fmt.Sprintf("Resolve Okta server %s, portal %s and %d API(s)", o.spec.AuthServer, o.spec.Portal, len(o.spec.APIs))), a.ResolveTargets, o.spec).Get(ctx, &o.targets); err != nil {
		return err
	}
	o.res.AuthServerID, o.res.Issuer, o.res.PortalID = o.targets.AuthServerID, o.targets.Issuer, o.targets.PortalID
	return nil
}

// changeFewerRoundTrips versions the lean runs (workflow.GetVersion): one activity
// for the scopes, the publications at once, search attributes upserted when the
// outcome changes.
const changeFewerRoundTrips = "fewer-round-trips"

func (o *onboarding) scopes(ctx workflow.Context) error {
	o.scopeNames = nil
	t := o.targets
	if o.lean {
		for _, sc := range o.spec.Scopes {
			o.relies(dcrflow.KindScope, sc.Name, activities.ReleaseInput{})
		}
		var rs []dcrflow.Resource
		in := activities.ScopesInput{AuthServerID: t.AuthServerID, Scopes: o.spec.Scopes, PortalKey: o.spec.Key}
		if err := workflow.ExecuteActivity(withSummary(ctx, "Ensure scopes "+scopeList(in.Scopes)+" on "+t.AuthServerID), a.EnsureScopes, in).Get(ctx, &rs); err != nil {
			return err
		}
		for _, r := range rs {
			o.record(r, nil)
			o.scopeNames = append(o.scopeNames, r.Name)
		}
		return nil
	}
	for _, sc := range o.spec.Scopes {
		o.relies(dcrflow.KindScope, sc.Name, activities.ReleaseInput{})
		var r dcrflow.Resource
		if err := workflow.ExecuteActivity(withSummary(ctx, "Ensure scope "+sc.Name+" on "+t.AuthServerID), a.EnsureScope, activities.ScopeInput{AuthServerID: t.AuthServerID, Scope: sc, PortalKey: o.spec.Key}).Get(ctx, &r); err != nil {
			return err
		}
		o.record(r, o.legacy(func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(withSummary(ctx, "Undo: delete scope "+r.Name), a.DeleteScope, activities.OktaResourceInput{AuthServerID: t.AuthServerID, ID: r.ID, Name: r.Name}).Get(ctx, nil)
		}))
		o.scopeNames = append(o.scopeNames, sc.Name)
	}
	return nil
}

// scopeList names the scopes for an activity's summary.
func scopeList(scopes []dcrflow.ScopeSpec) string {
	names := make([]string, len(scopes))
	for i, sc := range scopes {
		names[i] = sc.Name
	}
	return strings.Join(names, ", ")
}

func (o *onboarding) claim(ctx workflow.Context) error {
	t := o.targets
	var claim dcrflow.Resource
	in := activities.ClaimInput{AuthServerID: t.AuthServerID, Name: o.spec.ClaimName}
	if o.shared {
		o.relies(dcrflow.KindClaim, o.spec.ClaimName, activities.ReleaseInput{})
		in.PortalKey = o.spec.Key
	}
	if err := workflow.ExecuteActivity(withSummary(ctx, "Ensure claim "+o.spec.ClaimName+" = app.clientId on "+t.AuthServerID), a.EnsureClaim, in).Get(ctx, &claim); err != nil {
		return err
	}
	if o.shared {
		o.record(claim, nil)
		return nil
	}
	o.record(claim, func(ctx workflow.Context) (string, error) {
		in := activities.OktaResourceInput{AuthServerID: t.AuthServerID, ID: claim.ID, Name: claim.Name, Issuer: t.Issuer}
		var r activities.UndoResult
		err := workflow.ExecuteActivity(withSummary(ctx, "Undo: delete claim "+claim.Name+" unless in use"), a.DeleteClaim, in).Get(ctx, &r)
		return r.Reason, err
	})
	return nil
}

// changeAccessPolicy versions the step-4 change for runs in flight (workflow.GetVersion).
const changeAccessPolicy = "access-policy-step"

func (o *onboarding) accessPolicy(ctx workflow.Context) error {
	t := o.targets
	in := activities.PolicyInput{AuthServerID: t.AuthServerID, AuthServer: o.spec.AuthServer, Scopes: o.scopeNames,
		PortalKey: o.spec.Key, Ensure: o.spec.AccessPolicy == dcrflow.AccessPolicyEnsure}
	summary := "Check that an access policy grants client_credentials the scopes"
	if in.Ensure {
		summary = "Ensure an access policy grants client_credentials the scopes"
		o.relies(dcrflow.KindAccessPolicy, activities.PolicyName(o.spec.Key), activities.ReleaseInput{})
	}
	var pr activities.PolicyResult
	if err := workflow.ExecuteActivity(withSummary(ctx, summary), a.EnsureAccessPolicy, in).Get(ctx, &pr); err != nil {
		return err
	}
	p := pr.Resource
	o.record(p, o.legacy(func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(withSummary(ctx, "Undo: delete access policy "+p.Name), a.DeleteAccessPolicy, activities.OktaResourceInput{AuthServerID: t.AuthServerID, ID: p.ID, Name: p.Name}).Get(ctx, nil)
	}))
	if !pr.NeedsRule {
		return nil
	}
	return workflow.ExecuteActivity(withSummary(ctx, "Grant client_credentials the scopes in access policy "+p.Name), a.EnsureAccessPolicyRule,
		activities.PolicyRuleInput{AuthServerID: t.AuthServerID, PolicyID: p.ID, PolicyName: p.Name, Scopes: o.scopeNames, PortalKey: o.spec.Key}).Get(ctx, nil)
}

func (o *onboarding) provider(ctx workflow.Context) error {
	var p dcrflow.Resource
	in := activities.ProviderInput{Name: o.spec.DCRProvider, Issuer: o.targets.Issuer, TokenName: o.spec.DCRTokenName, PortalKey: o.spec.Key,
		Labels: o.spec.Labels}
	o.relies(dcrflow.KindDCRProvider, in.Name, activities.ReleaseInput{})
	if err := workflow.ExecuteActivity(withSummary(ctx, "Ensure Konnect DCR provider "+in.Name), a.EnsureDCRProvider, in).Get(ctx, &p); err != nil {
		return err
	}
	o.providerID = p.ID
	o.record(p, o.legacy(func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(withSummary(ctx, "Undo: delete DCR provider "+p.Name), a.DeleteDCRProvider, activities.KonnectResourceInput{ID: p.ID, Name: p.Name}).Get(ctx, nil)
	}))
	return workflow.ExecuteActivity(withSummary(workflow.WithActivityOptions(ctx, verifyOptions), "Verify DCR provider "+p.Name+" against Okta"), a.VerifyDCRProvider, activities.KonnectResourceInput{ID: p.ID, Name: p.Name}).Get(ctx, nil)
}

func (o *onboarding) strategy(ctx workflow.Context) error {
	var s dcrflow.Resource
	in := activities.StrategyInput{Strategy: o.spec.Strategy, Issuer: o.targets.Issuer, Scopes: o.scopeNames,
		ClaimName: o.spec.ClaimName, ProviderID: o.providerID, PortalKey: o.spec.Key, Labels: o.spec.Labels}
	o.relies(dcrflow.KindAuthStrategy, in.Strategy.Name, activities.ReleaseInput{})
	if err := workflow.ExecuteActivity(withSummary(ctx, "Ensure auth strategy "+in.Strategy.Name), a.EnsureAuthStrategy, in).Get(ctx, &s); err != nil {
		return err
	}
	o.strategyID = s.ID
	o.record(s, o.legacy(func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(withSummary(ctx, "Undo: delete auth strategy "+s.Name), a.DeleteAuthStrategy, activities.KonnectResourceInput{ID: s.ID, Name: s.Name}).Get(ctx, nil)
	}))
	return nil
}

func (o *onboarding) publish(ctx workflow.Context) error {
	t := o.targets
	if o.lean {
		return o.publishAtOnce(ctx)
	}
	for _, api := range t.APIs {
		in := activities.PublishInput{APIID: api.ID, APIName: api.Spec.API, PortalID: t.PortalID, StrategyID: o.strategyID,
			Visibility: api.Spec.Visibility, AutoApprove: api.Spec.AutoApprove}
		if o.shared {
			in.PortalKey = o.spec.Key
			o.relies(dcrflow.KindPublication, api.Spec.API, activities.ReleaseInput{APIID: api.ID, PortalID: t.PortalID, StrategyID: o.strategyID})
		}
		var pub activities.PublishResult
		if err := workflow.ExecuteActivity(withSummary(ctx, "Publish "+api.Spec.API+" on portal "+o.spec.Portal), a.PublishAPI, in).Get(ctx, &pub); err != nil {
			return err
		}
		if pub.Resource.Action == dcrflow.ActionUnchanged && o.has(pub.Resource) {
			continue // published earlier in this run (a held step run again)
		}
		restore := activities.RestoreInput{APIID: api.ID, APIName: api.Spec.API, PortalID: t.PortalID, Previous: pub.Previous}
		o.res.Resources = append(o.res.Resources, pub.Resource)
		if pub.Resource.Action == dcrflow.ActionUnchanged || o.shared {
			continue
		}
		o.undo.add("restore publication "+api.Spec.API, undoWithoutNote(func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(withSummary(ctx, "Undo: restore publication of "+api.Spec.API), a.RestorePublication, restore).Get(ctx, nil)
		}))
	}
	return nil
}

// publishAtOnce publishes every API at once (lean runs): each publication is its own
// resource with its own record, so they need not wait for one another. Every
// release is recorded before; the step fails with the first failure once all are
// through, so what the others did is known.
func (o *onboarding) publishAtOnce(ctx workflow.Context) error {
	t := o.targets
	pending := make([]workflow.Future, len(t.APIs))
	for i, api := range t.APIs {
		in := activities.PublishInput{APIID: api.ID, APIName: api.Spec.API, PortalID: t.PortalID, StrategyID: o.strategyID,
			Visibility: api.Spec.Visibility, AutoApprove: api.Spec.AutoApprove, PortalKey: o.spec.Key}
		o.relies(dcrflow.KindPublication, api.Spec.API, activities.ReleaseInput{APIID: api.ID, PortalID: t.PortalID, StrategyID: o.strategyID})
		pending[i] = workflow.ExecuteActivity(withSummary(ctx, "Publish "+api.Spec.API+" on portal "+o.spec.Portal), a.PublishAPI, in)
	}
	var first error
	for _, f := range pending {
		var pub activities.PublishResult
		if err := f.Get(ctx, &pub); err != nil {
			first = cmp.Or(first, err)
			continue
		}
		if pub.Resource.Action == dcrflow.ActionUnchanged && o.has(pub.Resource) {
			continue // published earlier in this run (a held step run again)
		}
		o.res.Resources = append(o.res.Resources, pub.Resource)
	}
	return first
}

func (o *onboarding) validate(ctx workflow.Context) error {
	// Before the usage record, a portal that failed could undo the shared claim
	// before this portal's strategy named it: such runs ensure it again.
	if !o.shared {
		if err := o.claim(ctx); err != nil {
			return err
		}
	}
	vctx := workflow.WithActivityOptions(ctx, validateOptions)
	in := activities.ValidateInput{PortalKey: o.spec.Key, Issuer: o.targets.Issuer, Scopes: o.scopeNames, ClaimName: o.spec.ClaimName, TokenName: o.spec.DCRTokenName}
	var v dcrflow.Validation
	if err := workflow.ExecuteActivity(withSummary(vctx, "Validate: DCR client, token, JWKS signature, claim and scopes"), a.ValidateDCR, in).Get(ctx, &v); err != nil {
		return err
	}
	o.res.Validation = &v
	if !v.Passed {
		return temporal.NewNonRetryableApplicationError("validation failed: "+strings.Join(v.Problems, "; "), dcrflow.ErrTypeValidation, nil)
	}
	if o.spec.ValidateVia != dcrflow.ValidateViaKonnect || o.spec.ValidationOwner == nil {
		return nil
	}
	kin := activities.KonnectValidateInput{PortalKey: o.spec.Key, PortalID: o.targets.PortalID, StrategyID: o.strategyID,
		Owner: *o.spec.ValidationOwner, TokenName: o.spec.DCRTokenName, Labels: o.spec.Labels}
	var kv dcrflow.Validation
	if err := workflow.ExecuteActivity(withSummary(vctx, "Validate through Konnect: a throw-away application registers its client in Okta"), a.ValidateThroughKonnect, kin).Get(ctx, &kv); err != nil {
		return err
	}
	v.Konnect = &kv
	o.res.Validation = &v
	if !kv.Passed {
		return temporal.NewNonRetryableApplicationError("validation through Konnect failed: "+strings.Join(kv.Problems, "; "), dcrflow.ErrTypeValidation, nil)
	}
	return nil
}

// record adds a resource to the result and, when this run created it, its undo (runs
// before the usage record; later ones recorded the undo before the step, see relies).
// A resource already recorded (a held step run again) is not recorded twice.
func (o *onboarding) record(r dcrflow.Resource, undo func(ctx workflow.Context) (string, error)) {
	if o.has(r) {
		return
	}
	o.res.Resources = append(o.res.Resources, r)
	if r.Action == dcrflow.ActionCreated && undo != nil {
		o.undo.add("delete "+string(r.Kind)+" "+r.Name, undo)
	}
}

// legacy is the undo of runs that predate the usage record; nil for later ones.
func (o *onboarding) legacy(f func(ctx workflow.Context) error) func(ctx workflow.Context) (string, error) {
	if o.shared {
		return nil
	}
	return undoWithoutNote(f)
}

// changeUsageRecord versions the usage record (workflow.GetVersion): the run joins
// each shared resource before relying on it and records its undo before the step.
const changeUsageRecord = "usage-record"

// relies records, before the step that ensures it, the undo of a resource the run
// is about to rely on: leave it, and when the last user, remove it if dcrflow made it
// (also when the step's create landed but its answer was lost) — see
// activities.ReleaseResource. Recorded once per resource.
func (o *onboarding) relies(kind dcrflow.Kind, name string, in activities.ReleaseInput) {
	if !o.shared {
		return
	}
	what := "release " + string(kind) + " " + name
	if o.undo.has(what) {
		return
	}
	in.Kind, in.Name, in.PortalKey = kind, name, o.spec.Key
	in.AuthServerID, in.Issuer = o.targets.AuthServerID, o.targets.Issuer
	o.undo.add(what, func(ctx workflow.Context) (string, error) {
		var r activities.UndoResult
		err := workflow.ExecuteActivity(withSummary(ctx, "Undo: "+what+" (removed only when no other portal uses it)"), a.ReleaseResource, in).Get(ctx, &r)
		return r.Reason, err
	})
}

func (o *onboarding) has(r dcrflow.Resource) bool {
	for _, x := range o.res.Resources {
		if x.Kind == r.Kind && x.ID == r.ID {
			return true
		}
	}
	return false
}

// message is the innermost application error's message: the server's words, without
// Temporal's wrapping.
func message(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}
