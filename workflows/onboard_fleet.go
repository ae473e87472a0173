package workflows

import (
	"errors"
	"fmt"
	"slices"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
)

// Fleet defaults.
const (
	DefaultMaxConcurrent      = 10
	DefaultContinueAsNewAfter = 500
)

// OnboardFleet onboards many portals, each as a child OnboardPortal workflow with the
// portal's own id, at most MaxConcurrent at once. A portal's failure never stops the
// others. After ContinueAsNewAfter children it waits for the running ones and
// continues as new with the rest, carrying the summary, so no portal is lost and each
// run's history stays small.
func OnboardFleet(ctx workflow.Context, in dcrflow.FleetInput) (dcrflow.FleetSummary, error) {
	if in.MaxConcurrent <= 0 {
		in.MaxConcurrent = DefaultMaxConcurrent
	}
	if in.ContinueAsNewAfter <= 0 {
		in.ContinueAsNewAfter = DefaultContinueAsNewAfter
	}
	if len(in.Packed) > 0 {
		specs, err := dcrflow.UnpackPortals(in.Packed)
		if err != nil {
			return in.Summary, temporal.NewNonRetryableApplicationError("fleet input: "+err.Error(), dcrflow.ErrTypeInvalid, err)
		}
		in.Portals, in.Packed = append(specs, in.Portals...), nil
	}
	if in.Summary.Total == 0 {
		in.Summary.Total = len(in.Portals)
	}
	f := &fleet{in: in, sum: in.Summary}
	if err := workflow.SetQueryHandler(ctx, dcrflow.QueryProgress, f.progress); err != nil {
		return f.sum, err
	}
	workflow.SetCurrentDetails(ctx, f.details())

	sel := workflow.NewSelector(ctx)
	next, started := 0, 0
	for {
		for len(f.running) < in.MaxConcurrent && next < len(in.Portals) && started < in.ContinueAsNewAfter && ctx.Err() == nil {
			f.start(ctx, sel, in.Portals[next])
			next++
			started++
		}
		if len(f.running) == 0 {
			break
		}
		sel.Select(ctx)
		workflow.SetCurrentDetails(ctx, f.details())
	}
	if ctx.Err() != nil {
		return f.sum, temporal.NewCanceledError(fmt.Sprintf("fleet canceled with %d portal(s) not started", len(in.Portals)-next))
	}
	if next < len(in.Portals) {
		rest := in
		packed, err := dcrflow.PackPortals(in.Portals[next:])
		if err != nil {
			return f.sum, err
		}
		rest.Portals, rest.Packed, rest.Summary = nil, packed, f.sum
		return f.sum, workflow.NewContinueAsNewError(ctx, OnboardFleet, rest)
	}
	return f.sum, nil
}

type fleet struct {
	in      dcrflow.FleetInput
	sum     dcrflow.FleetSummary
	running []string
}

// start launches one portal's child and registers what to do when it ends.
func (f *fleet) start(ctx workflow.Context, sel workflow.Selector, spec dcrflow.PortalSpec) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            dcrflow.OnboardWorkflowID(spec.Key),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		// Canceling the fleet cancels its portals, which then undo their work.
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		StaticSummary:     fmt.Sprintf("Onboard portal %s to Okta DCR (server %s), fleet %s", spec.Portal, spec.AuthServer, f.in.Name),
	})
	f.running = append(f.running, spec.Key)
	future := workflow.ExecuteChildWorkflow(cctx, OnboardPortal, spec)
	sel.AddFuture(future, func(fu workflow.Future) {
		f.running = slices.DeleteFunc(f.running, func(k string) bool { return k == spec.Key })
		var res dcrflow.OnboardResult
		err := fu.Get(ctx, &res)
		if err == nil {
			f.sum.Succeeded = append(f.sum.Succeeded, spec.Key)
			return
		}
		f.sum.Failed = append(f.sum.Failed, failure(spec.Key, err))
	})
}

// failure reads a child's error: the OnboardResult it carries when it failed for good.
func failure(portal string, err error) dcrflow.FleetFailure {
	out := dcrflow.FleetFailure{Portal: portal, Message: message(err)}
	var app *temporal.ApplicationError
	var res dcrflow.OnboardResult
	if errors.As(err, &app) && app.Type() == dcrflow.ErrTypeOnboardFailed && app.Details(&res) == nil && res.Failure != nil {
		out.Step, out.Message = res.Failure.Step, res.Failure.Message
		out.Compensated, out.Left = len(res.CompensationErrors) == 0, res.CompensationErrors
	}
	return out
}

func (f *fleet) progress() (dcrflow.FleetProgress, error) {
	done := len(f.sum.Succeeded) + len(f.sum.Failed)
	return dcrflow.FleetProgress{Name: f.in.Name, Total: f.sum.Total, Pending: f.sum.Total - done - len(f.running),
		Running: slices.Clone(f.running), Succeeded: len(f.sum.Succeeded), Failed: f.sum.Failed}, nil
}

func (f *fleet) details() string {
	p, _ := f.progress()
	return fmt.Sprintf("**Fleet %s**: %d of %d done — %d succeeded, %d failed; %d running, %d waiting",
		p.Name, p.Succeeded+len(p.Failed), p.Total, p.Succeeded, len(p.Failed), len(p.Running), p.Pending)
}
