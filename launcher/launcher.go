// Package launcher starts portal onboardings on Temporal, waits for them and reports
// their outcome. The starter binary is its command-line face.
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
			StaticSummary:            fmt.Sprintf("Onboard portal **%s** to Okta DCR (server %s)", s.Portal, s.AuthServer),
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
