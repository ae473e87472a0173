// Package launcher starts portal onboardings on Temporal, waits for them and reports
// their outcome. The dcrflow command (package starter) is its command-line face.
package launcher

import (
	"context"
	"errors"
	"fmt"
	"sync"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/workflows"
)

// Run is one started (or attached) onboarding.
type Run struct {
	Portal     string
	WorkflowID string
	RunID      string
	handle     client.WorkflowRun
}

// Start starts one workflow per portal, or attaches to the one already running under
// the portal's id. A portal whose last run ended starts afresh (it adopts what exists).
func Start(ctx context.Context, c client.Client, taskQueue string, specs []dcrflow.PortalSpec) ([]Run, error) {
	runs := make([]Run, 0, len(specs))
	for _, s := range specs {
		id := dcrflow.OnboardWorkflowID(s.Key)
		h, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:                       id,
			TaskQueue:                taskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			StaticSummary:            fmt.Sprintf("Onboard portal %s to Okta DCR (server %s)", s.Portal, s.AuthServer),
		}, workflows.OnboardPortal, s)
		if err != nil {
			return runs, fmt.Errorf("start portal %s: %w", s.Key, err)
		}
		runs = append(runs, Run{Portal: s.Key, WorkflowID: id, RunID: h.GetRunID(), handle: h})
	}
	return runs, nil
}

// Outcome is how one portal's run ended.
type Outcome struct {
	Run
	Succeeded bool
	Result    *dcrflow.OnboardResult // also set on failure when the workflow reported it
	Err       error
}

// Wait blocks until every run has ended.
func Wait(ctx context.Context, runs []Run) []Outcome {
	out := make([]Outcome, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Go(func() { out[i] = wait(ctx, r) })
	}
	wg.Wait()
	return out
}

func wait(ctx context.Context, r Run) Outcome {
	o := Outcome{Run: r}
	var res dcrflow.OnboardResult
	err := r.handle.Get(ctx, &res)
	if err == nil {
		o.Succeeded, o.Result = true, &res
		return o
	}
	o.Err = err
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == dcrflow.ErrTypeOnboardFailed && app.HasDetails() {
		var failed dcrflow.OnboardResult
		if app.Details(&failed) == nil {
			o.Result = &failed
		}
	}
	return o
}

// Failed counts the outcomes that did not succeed.
func Failed(outcomes []Outcome) int {
	n := 0
	for _, o := range outcomes {
		if !o.Succeeded {
			n++
		}
	}
	return n
}

// Decide sends an operator's decision (dcrflow.DecisionRetry or DecisionAbandon) to a
// portal's held run. A portal that is not running is an error naming it.
func Decide(ctx context.Context, c client.Client, portalKey string, decision dcrflow.Decision) error {
	if decision != dcrflow.DecisionRetry && decision != dcrflow.DecisionAbandon {
		return fmt.Errorf("decision %q: use %s or %s", decision, dcrflow.DecisionRetry, dcrflow.DecisionAbandon)
	}
	id := dcrflow.OnboardWorkflowID(portalKey)
	var p dcrflow.Progress
	v, err := c.QueryWorkflow(ctx, id, "", dcrflow.QueryProgress)
	if err != nil {
		return fmt.Errorf("portal %s: no running onboarding to decide on: %w", portalKey, err)
	}
	if err := v.Get(&p); err != nil {
		return fmt.Errorf("portal %s: read progress: %w", portalKey, err)
	}
	if p.Held == nil {
		return fmt.Errorf("portal %s is not held (it is at step %s); nothing to decide", portalKey, p.Step)
	}
	if err := c.SignalWorkflow(ctx, id, "", dcrflow.SignalDecision, decision); err != nil {
		return fmt.Errorf("portal %s: send decision: %w", portalKey, err)
	}
	return nil
}

// Attach returns the running (or last) onboarding of each portal, to wait on it.
func Attach(c client.Client, portalKeys []string) []Run {
	runs := make([]Run, 0, len(portalKeys))
	for _, k := range portalKeys {
		id := dcrflow.OnboardWorkflowID(k)
		h := c.GetWorkflow(context.Background(), id, "")
		runs = append(runs, Run{Portal: k, WorkflowID: id, RunID: h.GetRunID(), handle: h})
	}
	return runs
}
