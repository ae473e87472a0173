package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/okta"
)

// LastOnboarding is what a portal's newest completed onboarding recorded.
type LastOnboarding struct {
	// Found is false when the portal has no completed onboarding (or an offboarding
	// completed after it).
	Found  bool                  `json:"found"`
	Result dcrflow.OnboardResult `json:"result"`
}

// LastOnboarding reads the result of the portal's newest completed onboarding run
// (Temporal keeps it for the namespace's retention), unless an offboarding of the
// portal completed after it. Read-only.
func (f *Fleet) LastOnboarding(ctx context.Context, portal string) (LastOnboarding, error) {
	if f == nil || f.Temporal == nil {
		return LastOnboarding{}, configError("this worker has no Temporal client for the reconcile's activities")
	}
	id := dcrflow.OnboardWorkflowID(portal)
	runID, closed, err := f.newestCompleted(ctx, id)
	if err != nil || runID == "" {
		return LastOnboarding{}, err
	}
	if _, off, err := f.newestCompleted(ctx, dcrflow.OffboardWorkflowID(portal)); err != nil {
		return LastOnboarding{}, err
	} else if off.After(closed) {
		return LastOnboarding{}, nil
	}
	var res dcrflow.OnboardResult
	if err := f.Temporal.GetWorkflow(ctx, id, runID).Get(ctx, &res); err != nil {
		return LastOnboarding{}, fmt.Errorf("read the result of %s: %w", id, err) // Temporal's own: retried
	}
	return LastOnboarding{Found: true, Result: res}, nil
}

// newestCompleted finds the newest completed run of a workflow id: its latest run
// directly (visibility may lag a moment behind), else through visibility.
func (f *Fleet) newestCompleted(ctx context.Context, id string) (string, time.Time, error) {
	if d, err := f.Temporal.DescribeWorkflowExecution(ctx, id, ""); err == nil {
		if info := d.GetWorkflowExecutionInfo(); info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			return info.GetExecution().GetRunId(), info.GetCloseTime().AsTime(), nil
		}
	}
	query := fmt.Sprintf("WorkflowId = '%s' AND ExecutionStatus = 'Completed'", strings.ReplaceAll(id, "'", ""))
	var token []byte
	var runID string
	var closed time.Time
	for {
		resp, err := f.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 100, NextPageToken: token})
		if err != nil {
			return "", time.Time{}, fmt.Errorf("list runs of %s: %w", id, err) // Temporal's own: retried
		}
		for _, e := range resp.GetExecutions() {
			if t := e.GetCloseTime().AsTime(); runID == "" || t.After(closed) {
				runID, closed = e.GetExecution().GetRunId(), t
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return runID, closed, nil
		}
	}
}

// RepairScopeInput names a scope that dcrflow made and someone changed.
type RepairScopeInput struct {
	AuthServerID string `json:"auth_server_id"`
	Name         string `json:"name"`
}

// Outcomes of RepairScope.
const (
	RepairFixed     = "fixed"     // put back as onboarding makes it
	RepairAbsent    = "absent"    // gone: onboarding creates it again
	RepairUnchanged = "unchanged" // nothing to put back
)

// RepairScope puts a scope that dcrflow made (its description carries dcrflow's
// marker) back to what onboarding makes (IMPLICIT consent), keeping everything else
// about it. A scope dcrflow did not make is refused, untouched: whoever owns it
// fixes it. Idempotent: a repaired scope needs nothing more.
func (a *Activities) RepairScope(ctx context.Context, in RepairScopeInput) (string, error) {
	s, err := a.Okta.FindScope(ctx, in.AuthServerID, in.Name)
	if err != nil {
		return "", apiError("find scope "+in.Name, err)
	}
	switch {
	case s == nil:
		return RepairAbsent, nil
	case judgeScope(s, "").Action != dcrflow.PlanConflict:
		return RepairUnchanged, nil
	case !strings.Contains(s.Description, ownerMarkerPrefix):
		return "", conflict("scope %q on authorization server %s was not made by dcrflow and differs (%s); heal changes only what dcrflow made: fix it in Okta",
			in.Name, in.AuthServerID, strings.Join(judgeScope(s, "").Diffs, "; "))
	}
	s.Consent = okta.ConsentImplicit
	if _, err := a.Okta.UpdateScope(ctx, in.AuthServerID, *s); err != nil {
		return "", apiError("update scope "+in.Name, err)
	}
	return RepairFixed, nil
}
