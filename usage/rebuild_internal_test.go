package usage

import (
	"context"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/mocks"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/stretchr/testify/mock"

	"github.com/dcrflow/dcrflow"
)

// A rebuild reads each completed run's result once, and the worker keeps none of
// them once no rebuild is left.
func TestSeeds_KeepResultsOnlyWhileRebuilding(t *testing.T) {
	c := &mocks.Client{}
	c.On("ListWorkflow", mock.Anything, mock.Anything).Return(func(_ context.Context, r *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
		if !strings.Contains(r.Query, "'OnboardPortal'") || !strings.Contains(r.Query, "'Completed'") {
			return &workflowservice.ListWorkflowExecutionsResponse{}, nil
		}
		return &workflowservice.ListWorkflowExecutionsResponse{Executions: []*workflowpb.WorkflowExecutionInfo{{
			Execution: &commonpb.WorkflowExecution{WorkflowId: dcrflow.OnboardWorkflowID("p1"), RunId: "r1"},
			CloseTime: timestamppb.Now(),
		}}}, nil
	})
	run := &mocks.WorkflowRun{}
	run.On("Get", mock.Anything, mock.Anything).Return(func(_ context.Context, v any) error {
		*v.(*dcrflow.OnboardResult) = dcrflow.OnboardResult{Resources: []dcrflow.Resource{
			{Kind: dcrflow.KindDCRProvider, Name: "p1-okta", Action: dcrflow.ActionCreated}}}
		return nil
	})
	c.On("GetWorkflow", mock.Anything, dcrflow.OnboardWorkflowID("p1"), "r1").Return(run)
	tm := &Temporal{Client: c, TaskQueue: "q"}
	seeds, err := tm.Seeds(context.Background(), KonnectDomain, func() {})
	if err != nil {
		t.Fatal(err)
	}
	if len(seeds) != 1 || seeds[0].Name != "p1-okta" || seeds[0].Portal != "p1" || !seeds[0].Created {
		t.Fatalf("seeds = %+v", seeds)
	}
	if tm.results != nil || tm.rebuilding != 0 {
		t.Fatalf("after the rebuild the worker still keeps %d result(s), %d rebuilding", len(tm.results), tm.rebuilding)
	}
	run.AssertNumberOfCalls(t, "Get", 1)
}
