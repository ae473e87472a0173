package workflows

import (
	"errors"
	"fmt"

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
	StepProvider = "dcr_provider"
	StepStrategy = "auth_strategy"
	StepPublish  = "publish"
	StepValidate = "validate"
)

// a is the nil receiver through which activities are named; the worker registers a
// real *activities.Activities under the same method names.
var a *activities.Activities

// OnboardPortal makes one Konnect portal hand out credentials through Okta DCR: the
// saga of DESIGN.md, steps 1–3 and 5–8. On a permanent failure it undoes what this run
// created or changed, in reverse order, and fails with an OnboardFailed error whose
// details hold the OnboardResult (what was done and undone).
func OnboardPortal(ctx workflow.Context, spec dcrflow.PortalSpec) (*dcrflow.OnboardResult, error) {
	ctx = workflow.WithActivityOptions(ctx, stepOptions)
	o := &onboarding{spec: spec, res: &dcrflow.OnboardResult{Portal: spec.Key, Resources: []dcrflow.Resource{}}}
	err := o.run(ctx)
	if err == nil {
		return o.res, nil
	}
	o.res.Failure = &dcrflow.Failure{Step: o.step, Message: message(err)}
	done, failed, cerr := o.undo.compensate(ctx)
	o.res.Compensated, o.res.CompensationErrors = done, failed
	msg := fmt.Sprintf("portal %s: step %s failed: %s", spec.Key, o.step, o.res.Failure.Message)
	if cerr != nil {
		msg += fmt.Sprintf("; %d undo step(s) failed, resources may be left behind", len(failed))
	}
	if temporal.IsCanceledError(err) {
		return nil, err // compensated above; the run ends as canceled
	}
	return nil, temporal.NewNonRetryableApplicationError(msg, dcrflow.ErrTypeOnboardFailed, errors.Join(err, cerr), o.res)
}

type onboarding struct {
	spec dcrflow.PortalSpec
	res  *dcrflow.OnboardResult
	undo saga
	step string
}

func (o *onboarding) run(ctx workflow.Context) error {
	o.step = StepResolve
	var t activities.Targets
	if err := workflow.ExecuteActivity(ctx, a.ResolveTargets, o.spec).Get(ctx, &t); err != nil {
		return err
	}
	o.res.AuthServerID, o.res.Issuer, o.res.PortalID = t.AuthServerID, t.Issuer, t.PortalID

	o.step = StepScopes
	var scopeNames []string
	for _, sc := range o.spec.Scopes {
		var r dcrflow.Resource
		if err := workflow.ExecuteActivity(ctx, a.EnsureScope, activities.ScopeInput{AuthServerID: t.AuthServerID, Scope: sc, PortalKey: o.spec.Key}).Get(ctx, &r); err != nil {
			return err
		}
		o.record(r, plain(func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(ctx, a.DeleteScope, activities.OktaResourceInput{AuthServerID: t.AuthServerID, ID: r.ID, Name: r.Name}).Get(ctx, nil)
		}))
		scopeNames = append(scopeNames, sc.Name)
	}

	o.step = StepClaim
	var claim dcrflow.Resource
	if err := workflow.ExecuteActivity(ctx, a.EnsureClaim, activities.ClaimInput{AuthServerID: t.AuthServerID, Name: o.spec.ClaimName}).Get(ctx, &claim); err != nil {
		return err
	}
	o.record(claim, func(ctx workflow.Context) (string, error) {
		in := activities.OktaResourceInput{AuthServerID: t.AuthServerID, ID: claim.ID, Name: claim.Name, Issuer: t.Issuer}
		var r activities.UndoResult
		err := workflow.ExecuteActivity(ctx, a.DeleteClaim, in).Get(ctx, &r)
		return r.Reason, err
	})

	o.step = StepProvider
	var provider dcrflow.Resource
	pin := activities.ProviderInput{Name: o.spec.DCRProvider, Issuer: t.Issuer, TokenName: o.spec.DCRTokenName, PortalKey: o.spec.Key}
	if err := workflow.ExecuteActivity(ctx, a.EnsureDCRProvider, pin).Get(ctx, &provider); err != nil {
		return err
	}
	o.record(provider, plain(func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(ctx, a.DeleteDCRProvider, activities.KonnectResourceInput{ID: provider.ID, Name: provider.Name}).Get(ctx, nil)
	}))
	if err := workflow.ExecuteActivity(ctx, a.VerifyDCRProvider, activities.KonnectResourceInput{ID: provider.ID, Name: provider.Name}).Get(ctx, nil); err != nil {
		return err
	}

	o.step = StepStrategy
	var strategy dcrflow.Resource
	sin := activities.StrategyInput{Strategy: o.spec.Strategy, Issuer: t.Issuer, Scopes: scopeNames, ClaimName: o.spec.ClaimName, ProviderID: provider.ID, PortalKey: o.spec.Key}
	if err := workflow.ExecuteActivity(ctx, a.EnsureAuthStrategy, sin).Get(ctx, &strategy); err != nil {
		return err
	}
	o.record(strategy, plain(func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(ctx, a.DeleteAuthStrategy, activities.KonnectResourceInput{ID: strategy.ID, Name: strategy.Name}).Get(ctx, nil)
	}))

	o.step = StepPublish
	for _, api := range t.APIs {
		in := activities.PublishInput{APIID: api.ID, APIName: api.Spec.API, PortalID: t.PortalID, StrategyID: strategy.ID,
			Visibility: api.Spec.Visibility, AutoApprove: api.Spec.AutoApprove}
		var pub activities.PublishResult
		if err := workflow.ExecuteActivity(ctx, a.PublishAPI, in).Get(ctx, &pub); err != nil {
			return err
		}
		o.res.Resources = append(o.res.Resources, pub.Resource)
		if pub.Resource.Action == dcrflow.ActionUnchanged {
			continue
		}
		restore := activities.RestoreInput{APIID: api.ID, APIName: api.Spec.API, PortalID: t.PortalID, Previous: pub.Previous}
		o.undo.add("restore publication "+api.Spec.API, plain(func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(ctx, a.RestorePublication, restore).Get(ctx, nil)
		}))
	}

	if !o.spec.Validate {
		return nil
	}
	o.step = StepValidate
	vctx := workflow.WithActivityOptions(ctx, validateOptions)
	vin := activities.ValidateInput{PortalKey: o.spec.Key, Issuer: t.Issuer, Scopes: scopeNames, ClaimName: o.spec.ClaimName, TokenName: o.spec.DCRTokenName}
	var v dcrflow.Validation
	if err := workflow.ExecuteActivity(vctx, a.ValidateDCR, vin).Get(ctx, &v); err != nil {
		return err
	}
	o.res.Validation = &v
	if !v.Passed {
		return temporal.NewNonRetryableApplicationError("validation failed: "+joinProblems(v.Problems), dcrflow.ErrTypeValidation, nil)
	}
	return nil
}

// record adds a resource to the result and, when this run created it, its undo.
func (o *onboarding) record(r dcrflow.Resource, undo func(ctx workflow.Context) (string, error)) {
	o.res.Resources = append(o.res.Resources, r)
	if r.Action == dcrflow.ActionCreated {
		o.undo.add("delete "+r.Kind+" "+r.Name, undo)
	}
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

func joinProblems(ps []string) string {
	out := ""
	for i, p := range ps {
		if i > 0 {
			out += "; "
		}
		out += p
	}
	return out
}
