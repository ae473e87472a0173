package usage

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
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
		seeds, err := tm.Seeds(context.Background(), KonnectDomain, 0, func() {})
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
	if _, err := tm.Seeds(context.Background(), KonnectDomain, 0, func() {}); err != nil {
		t.Fatal(err)
	}
	if tm.reads != nil || tm.rebuilding != 0 {
		t.Fatalf("after the last rebuild the worker still keeps %d read(s), %d rebuilding", len(tm.reads), tm.rebuilding)
	}
	// The next rebuild reads afresh.
	if _, err := tm.Seeds(context.Background(), KonnectDomain, 0, func() {}); err != nil {
		t.Fatal(err)
	}
	run.AssertNumberOfCalls(t, "Get", 2)
	c.AssertNumberOfCalls(t, "QueryWorkflow", 2)
}

// Rebuilds that need the same run at the same moment wait for one read of it (a
// fleet's first portals start every record at once, each asking the same portals);
// a failed read is not kept, and the next rebuild reads again.
func TestReadOnce_ConcurrentRebuildsShareOneRead(t *testing.T) {
	tm := &Temporal{}
	release := make(chan struct{})
	reads := 0
	read := func() (seen, error) {
		reads++ // only the first caller reads; the others wait on it
		<-release
		return seen{authServerID: "aus1"}, nil
	}
	const rebuilds = 20
	got := make(chan seen, rebuilds)
	for range rebuilds {
		go func() {
			s, err := tm.readOnce(context.Background(), "running/r1", read)
			if err != nil {
				t.Error(err)
			}
			got <- s
		}()
	}
	waitReading(t, tm, "running/r1")
	close(release)
	for range rebuilds {
		if s := <-got; s.authServerID != "aus1" {
			t.Fatalf("a rebuild got %+v", s)
		}
	}
	if reads != 1 {
		t.Fatalf("%d rebuilds read the run %d times, want once", rebuilds, reads)
	}

	// A failed read is forgotten; a waiter whose context ends stops waiting.
	boom := errors.New("unavailable")
	if _, err := tm.readOnce(context.Background(), "running/r2", func() (seen, error) { return seen{}, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if s, err := tm.readOnce(context.Background(), "running/r2", func() (seen, error) { return seen{authServerID: "aus2"}, nil }); err != nil || s.authServerID != "aus2" {
		t.Fatalf("read after a failure = %+v, %v", s, err)
	}
	block := make(chan struct{})
	defer close(block)
	go func() {
		_, _ = tm.readOnce(context.Background(), "running/r3", func() (seen, error) { <-block; return seen{}, nil })
	}()
	waitReading(t, tm, "running/r3")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tm.readOnce(ctx, "running/r3", func() (seen, error) { t.Error("read twice"); return seen{}, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiter with an ended context: err = %v", err)
	}
}

// The first record of a domain reads only the runs that do not join the records
// themselves (an upgrade's older runs); when another record of the domain runs or
// ran, or this one ran before and ended, it reads them all.
func TestSeeds_AFreshRecordSkipsRunsThatJoinTheRecords(t *testing.T) {
	joins, err := converter.GetDefaultDataConverter().ToPayload([]string{"access-policy-step-1", JoiningVersions[1]})
	if err != nil {
		t.Fatal(err)
	}
	exec := func(id string, closed bool, joining bool) *workflowpb.WorkflowExecutionInfo {
		e := &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: dcrflow.OnboardWorkflowID(id), RunId: "run-" + id}}
		if closed {
			e.CloseTime = timestamppb.Now()
		}
		if joining {
			e.SearchAttributes = &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{"TemporalChangeVersion": joins}}
		}
		return e
	}
	for _, ranBefore := range []string{"", "sibling", "itself"} {
		c := &mocks.Client{}
		c.On("ListWorkflow", mock.Anything, mock.Anything).Return(func(_ context.Context, r *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
			var out []*workflowpb.WorkflowExecutionInfo
			switch {
			case strings.HasPrefix(r.Query, "WorkflowId IN ('dcrflow-usage/q/k/konnect/0', 'dcrflow-usage/q/k/konnect/1', "):
				// The record rebuilding itself is running.
				out = append(out, &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: "dcrflow-usage/q/k/konnect/0"},
					Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING})
				switch ranBefore {
				case "sibling":
					out = append(out, &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: "dcrflow-usage/q/k/konnect/5"},
						Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING})
				case "itself":
					out = append(out, &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: "dcrflow-usage/q/k/konnect/0"},
						Status: enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED})
				}
			case strings.Contains(r.Query, "'OnboardPortal'") && strings.Contains(r.Query, "'Completed'"):
				out = append(out, exec("old", true, false), exec("new", true, true))
			case strings.Contains(r.Query, "'OnboardPortal'") && strings.Contains(r.Query, "'Running'"):
				out = append(out, exec("old-running", false, false), exec("new-running", false, true))
			}
			return &workflowservice.ListWorkflowExecutionsResponse{Executions: out}, nil
		})
		result := &mocks.WorkflowRun{}
		result.On("Get", mock.Anything, mock.Anything).Return(nil)
		c.On("GetWorkflow", mock.Anything, mock.Anything, mock.Anything).Return(result)
		progress := &mocks.Value{}
		progress.On("Get", mock.Anything).Return(nil)
		c.On("QueryWorkflow", mock.Anything, mock.Anything, mock.Anything, dcrflow.QueryProgress).Return(progress, nil)
		tm := &Temporal{Client: c, TaskQueue: "q", KonnectOrg: "k"}
		if _, err := tm.Seeds(context.Background(), KonnectDomain, 0, func() {}); err != nil {
			t.Fatal(err)
		}
		read := map[string]bool{}
		for _, call := range c.Calls {
			switch call.Method {
			case "GetWorkflow", "QueryWorkflow":
				read[call.Arguments.String(2)] = true
			}
		}
		want := map[string]bool{"run-old": true, "run-old-running": true}
		if ranBefore != "" {
			want["run-new"], want["run-new-running"] = true, true
		}
		if len(read) != len(want) {
			t.Errorf("ran before %q: read %v, want %v", ranBefore, read, want)
		}
		for r := range want {
			if !read[r] {
				t.Errorf("ran before %q: %s not read (read %v)", ranBefore, r, read)
			}
		}
	}
}

// waitReading waits (10 s at most) until a read of key is under way.
func waitReading(t *testing.T, tm *Temporal, key string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); runtime.Gosched() {
		tm.seedsMu.Lock()
		r := tm.reads[key]
		tm.seedsMu.Unlock()
		if r != nil {
			return
		}
	}
	t.Fatalf("no read of %s began", key)
}
