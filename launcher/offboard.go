package launcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/workflows"
)

// RecordsPerPortal bounds the onboarding runs whose results an offboarding reads.
const RecordsPerPortal = 50

// PrepareOffboard refuses, before anything starts, while the onboarding of any of the
// portals runs (or the file's fleet, which may still start them), naming every one;
// then reads what each portal's completed onboarding runs reported (Temporal keeps
// them for the namespace's retention period) into its OffboardInput. Resources a
// portal of the batch created count as dcrflow's for the others (the shared claim).
func PrepareOffboard(ctx context.Context, c client.Client, fleet string, specs []dcrflow.PortalSpec) ([]dcrflow.OffboardInput, error) {
	var busy []string
	if fleet != "" && running(ctx, c, dcrflow.FleetWorkflowID(fleet)) {
		busy = append(busy, fmt.Sprintf("fleet %s is running (workflow %s) and may still start its portals; wait for it to end or cancel it, then offboard",
			fleet, dcrflow.FleetWorkflowID(fleet)))
	}
	for _, s := range specs {
		if id := dcrflow.OnboardWorkflowID(s.Key); running(ctx, c, id) {
			busy = append(busy, fmt.Sprintf("portal %s: its onboarding is running (workflow %s); wait for it to end (or cancel it: that undoes it), then offboard", s.Key, id))
		}
	}
	if len(busy) > 0 {
		return nil, errors.New("refusing to offboard while onboarding runs:\n  " + strings.Join(busy, "\n  "))
	}
	inputs := make([]dcrflow.OffboardInput, len(specs))
	var created []dcrflow.Resource
	for i, s := range specs {
		recs, err := OnboardRecords(ctx, c, s.Key, RecordsPerPortal)
		if err != nil {
			return nil, fmt.Errorf("portal %s: read its onboarding records: %w", s.Key, err)
		}
		inputs[i] = dcrflow.OffboardInput{Spec: s, Onboarded: recs}
		for _, r := range recs {
			for _, res := range r.Resources {
				if res.Kind == dcrflow.KindClaim && res.Action == dcrflow.ActionCreated && !slices.Contains(created, res) {
					created = append(created, res)
				}
			}
		}
	}
	if len(specs) > 1 {
		for i := range inputs {
			inputs[i].CreatedByOthers = created
		}
	}
	return inputs, nil
}

// running tells whether the workflow's latest run is running.
func running(ctx context.Context, c client.Client, id string) bool {
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	return err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// OnboardRecords returns the results of a portal's completed onboarding runs, newest
// first, at most limit. The latest run is read directly, so a run that completed a
// moment ago counts even before visibility lists it.
func OnboardRecords(ctx context.Context, c client.Client, portalKey string, limit int) ([]dcrflow.OnboardResult, error) {
	id := dcrflow.OnboardWorkflowID(portalKey)
	var runs []*workflowpb.WorkflowExecutionInfo
	if d, err := c.DescribeWorkflowExecution(ctx, id, ""); err == nil {
		runs = append(runs, d.GetWorkflowExecutionInfo())
	} else if !isNotFound(err) {
		return nil, err
	}
	query := fmt.Sprintf("WorkflowId = '%s' AND ExecutionStatus = 'Completed'", id)
	var token []byte
	for len(runs) < limit+1 {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: int32(limit), NextPageToken: token})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExecutions() {
			if !slices.ContainsFunc(runs, func(r *workflowpb.WorkflowExecutionInfo) bool {
				return r.GetExecution().GetRunId() == e.GetExecution().GetRunId()
			}) {
				runs = append(runs, e)
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	slices.SortStableFunc(runs, func(a, b *workflowpb.WorkflowExecutionInfo) int {
		return b.GetCloseTime().AsTime().Compare(a.GetCloseTime().AsTime())
	})
	var out []dcrflow.OnboardResult
	for _, r := range runs {
		if r.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED || len(out) == limit {
			continue
		}
		var res dcrflow.OnboardResult
		if err := c.GetWorkflow(ctx, id, r.GetExecution().GetRunId()).Get(ctx, &res); err != nil {
			return nil, fmt.Errorf("result of run %s: %w", r.GetExecution().GetRunId(), err)
		}
		out = append(out, res)
	}
	return out, nil
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// OffboardRun is a started (or attached) offboarding.
type OffboardRun struct {
	Portal     string
	WorkflowID string
	RunID      string
	handle     client.WorkflowRun
}

// StartOffboard starts the portal's OffboardPortal workflow, or attaches to the one
// running.
func StartOffboard(ctx context.Context, c client.Client, taskQueue string, in dcrflow.OffboardInput) (OffboardRun, error) {
	id := dcrflow.OffboardWorkflowID(in.Spec.Key)
	h, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            fmt.Sprintf("Offboard portal %s from Okta DCR (server %s): remove what dcrflow made", in.Spec.Portal, in.Spec.AuthServer),
	}, workflows.OffboardPortal, in)
	if err != nil {
		return OffboardRun{}, fmt.Errorf("start offboarding of %s: %w", in.Spec.Key, err)
	}
	return OffboardRun{Portal: in.Spec.Key, WorkflowID: id, RunID: h.GetRunID(), handle: h}, nil
}

// OffboardOutcome is how one portal's offboarding ended.
type OffboardOutcome struct {
	OffboardRun
	Result *dcrflow.OffboardResult // also set on failure, as far as it got
	Err    error
}

// WaitOffboard blocks until the run ends.
func WaitOffboard(ctx context.Context, r OffboardRun) OffboardOutcome {
	o := OffboardOutcome{OffboardRun: r}
	var res dcrflow.OffboardResult
	if err := r.handle.Get(ctx, &res); err != nil {
		o.Err = err
		var app *temporal.ApplicationError
		var partial dcrflow.OffboardResult
		if errors.As(err, &app) && app.Type() == dcrflow.ErrTypeOffboardFailed && app.Details(&partial) == nil {
			o.Result = &partial
		}
		return o
	}
	o.Result = &res
	return o
}

// Offboard offboards the portals, at most maxConcurrent at once, and waits for each.
// Portals offboarded together may keep each other's shared resources (a claim both
// strategies name, a provider both use) while their runs overlap; so the portals that
// kept something "still used" are offboarded once more, one after the other, and
// what that removes replaces the "kept" in their outcome.
func Offboard(ctx context.Context, c client.Client, taskQueue string, inputs []dcrflow.OffboardInput, maxConcurrent int) []OffboardOutcome {
	if maxConcurrent <= 0 {
		maxConcurrent = workflows.DefaultMaxConcurrent
	}
	out := make([]OffboardOutcome, len(inputs))
	sem := make(chan struct{}, maxConcurrent)
	var wg sync.WaitGroup
	for i, in := range inputs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = offboardOne(ctx, c, taskQueue, in)
		})
	}
	wg.Wait()
	if len(inputs) < 2 {
		return out
	}
	for round := 0; round < 2; round++ {
		progress := false
		for i, in := range inputs {
			if out[i].Err != nil || !keptInUse(out[i].Result) {
				continue
			}
			again := offboardOne(ctx, c, taskQueue, in)
			if again.Err != nil {
				out[i].Err = again.Err
				continue
			}
			progress = merge(out[i].Result, again.Result) || progress
			out[i].RunID = again.RunID
		}
		if !progress {
			break
		}
	}
	return out
}

func offboardOne(ctx context.Context, c client.Client, taskQueue string, in dcrflow.OffboardInput) OffboardOutcome {
	r, err := StartOffboard(ctx, c, taskQueue, in)
	if err != nil {
		return OffboardOutcome{OffboardRun: OffboardRun{Portal: in.Spec.Key, WorkflowID: dcrflow.OffboardWorkflowID(in.Spec.Key)}, Err: err}
	}
	return WaitOffboard(ctx, r)
}

const stillUsed = "still used"

func keptInUse(r *dcrflow.OffboardResult) bool {
	return r != nil && slices.ContainsFunc(r.Resources, func(x dcrflow.Resource) bool {
		return x.Action == dcrflow.ActionKept && strings.HasPrefix(x.Reason, stillUsed)
	})
}

// merge replaces what the first run kept as still used with what a later run removed.
func merge(first, later *dcrflow.OffboardResult) bool {
	changed := false
	for i, x := range first.Resources {
		if x.Action != dcrflow.ActionKept || !strings.HasPrefix(x.Reason, stillUsed) {
			continue
		}
		j := slices.IndexFunc(later.Resources, func(y dcrflow.Resource) bool { return y.Kind == x.Kind && y.Name == x.Name })
		if j >= 0 && later.Resources[j].Action != dcrflow.ActionKept && later.Resources[j].Action != dcrflow.ActionAbsent {
			first.Resources[i] = later.Resources[j]
			changed = true
		}
	}
	return changed
}

// OffboardFailed counts the outcomes that failed.
func OffboardFailed(outcomes []OffboardOutcome) int {
	n := 0
	for _, o := range outcomes {
		if o.Err != nil {
			n++
		}
	}
	return n
}

// PrintOffboard writes, per portal, what its offboarding did to each resource and why
// it kept what it kept.
func PrintOffboard(w io.Writer, outcomes []OffboardOutcome, uiBase string) {
	for i, o := range outcomes {
		if i > 0 {
			fmt.Fprintln(w)
		}
		switch {
		case o.Err == nil:
			fmt.Fprintf(w, "portal %s: offboarded\n", o.Portal)
		case o.Result != nil && o.Result.Failure != nil:
			fmt.Fprintf(w, "portal %s: FAILED at step %s: %s (offboard it again to go on)\n", o.Portal, o.Result.Failure.Step, o.Result.Failure.Message)
		default:
			fmt.Fprintf(w, "portal %s: FAILED: %v\n", o.Portal, o.Err)
		}
		if o.Result == nil || len(o.Result.Resources) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  KIND\tNAME\tACTION\tWHY")
		for _, r := range o.Result.Resources {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.Kind, r.Name, r.Action, r.Reason)
		}
		_ = tw.Flush()
	}
	if uiBase != "" && len(outcomes) > 0 {
		fmt.Fprintf(w, "\nIn the Temporal UI: %s/workflows?query=%s\n", uiBase, "WorkflowType%3D%22OffboardPortal%22")
	}
}
