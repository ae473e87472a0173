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

// Rebuilds under way at once read each completed run's result and each running run's
// progress once, and the worker keeps none of them once no rebuild is left.
func TestSeeds_KeepResultsOnlyWhileRebuilding(t *testing.T) {
	c := &mocks.Client{}
	c.On("ListWorkflow", mock.Anything, mock.Anything).Return(func(_ context.Context, r *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
		if strings.Contains(r.Query, "'OnboardPortal'") && strings.Contains(r.Query, "'Running'") {
			return &workflowservice.ListWorkflowExecutionsResponse{Executions: []*workflowpb.WorkflowExecutionInfo{{
				Execution: &commonpb.WorkflowExecution{WorkflowId: dcrflow.OnboardWorkflowID("p2"), RunId: "r2"}}}}, nil
		}
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
	progress := &mocks.Value{}
	progress.On("Get", mock.Anything).Return(func(v any) error {
		*v.(*dcrflow.Progress) = dcrflow.Progress{Resources: []dcrflow.Resource{
			{Kind: dcrflow.KindAuthStrategy, Name: "p2-dcr", Action: dcrflow.ActionCreated}}}
		return nil
	})
	c.On("QueryWorkflow", mock.Anything, dcrflow.OnboardWorkflowID("p2"), "r2", dcrflow.QueryProgress).Return(progress, nil)
	tm := &Temporal{Client: c, TaskQueue: "q"}
	tm.rebuilding = 1 // another record's rebuild is under way: the two share their reads
	for range 2 {
		seeds, err := tm.Seeds(context.Background(), KonnectDomain, func() {})
		if err != nil {
			t.Fatal(err)
		}
		if len(seeds) != 2 || seeds[0].Name != "p1-okta" || seeds[0].Portal != "p1" || !seeds[0].Created ||
			seeds[1].Name != "p2-dcr" || seeds[1].Portal != "p2" || seeds[1].Run != "r2" {
			t.Fatalf("seeds = %+v", seeds)
		}
	}
	run.AssertNumberOfCalls(t, "Get", 1)
	c.AssertNumberOfCalls(t, "QueryWorkflow", 1)
	if tm.reads == nil {
		t.Fatal("the reads were not kept while a rebuild is under way")
	}
	tm.rebuilding = 0
	if _, err := tm.Seeds(context.Background(), KonnectDomain, func() {}); err != nil {
		t.Fatal(err)
	}
	if tm.reads != nil || tm.rebuilding != 0 {
		t.Fatalf("after the last rebuild the worker still keeps %d read(s), %d rebuilding", len(tm.reads), tm.rebuilding)
	}
	// The next rebuild reads afresh.
	if _, err := tm.Seeds(context.Background(), KonnectDomain, func() {}); err != nil {
		t.Fatal(err)
	}
	run.AssertNumberOfCalls(t, "Get", 2)
	c.AssertNumberOfCalls(t, "QueryWorkflow", 2)
}
