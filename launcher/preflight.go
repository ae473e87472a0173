package launcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/workflows"
)

// PreflightTimeout bounds the wait for a worker's answer.
const PreflightTimeout = 20 * time.Second

// Preflight asks a worker of the task queue for its DCR token names and refuses specs
// naming one it does not hold, listing every such portal, and specs whose
// offboarding is running; nothing is started. It is for portals started one by one
// (and plans): a fleet asks in its own first step (StartFleet, AwaitPreflight). The
// WorkerInfo workflow it runs for the answer is deleted once read, so no run is left
// behind in the namespace's list.
func Preflight(ctx context.Context, c client.Client, namespace, taskQueue, file string, specs []dcrflow.PortalSpec) error {
	ctx, cancel := context.WithTimeout(ctx, PreflightTimeout)
	defer cancel()
	id := fmt.Sprintf("dcrflow-preflight-%d", time.Now().UnixNano())
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                taskQueue,
		WorkflowExecutionTimeout: PreflightTimeout,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.WorkerInfo)
	if err != nil {
		return fmt.Errorf("preflight: %w", err)
	}
	defer func() {
		// Gone from the list; a workflow still running (no worker) is terminated first.
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer dcancel()
		_, _ = c.WorkflowService().DeleteWorkflowExecution(dctx, &workflowservice.DeleteWorkflowExecutionRequest{
			Namespace: namespace, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: run.GetRunID()}})
	}()
	var info dcrflow.WorkerInfo
	if err := run.Get(ctx, &info); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("no dcrflow worker answered on task queue %q within %v: start one (make run starts one) or check temporal.task_queue", taskQueue, PreflightTimeout)
		}
		return fmt.Errorf("preflight: %w", err)
	}
	var problems []string
	if err := tokenProblems(file, specs, info); err != nil {
		problems = append(problems, err.Error())
	}
	if err := CheckOffboarding(ctx, c, file, specs); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// tokenProblems lists every portal of specs naming a DCR token the worker lacks,
// with the variable (or file key) that gives the worker that token. Names compare
// in their one normal form (dcrflow.DCRTokenName).
func tokenProblems(file string, specs []dcrflow.PortalSpec, info dcrflow.WorkerInfo) error {
	have := make([]string, 0, len(info.DCRTokenNames))
	for _, n := range info.DCRTokenNames {
		have = append(have, dcrflow.DCRTokenName(n))
	}
	var problems []string
	for _, s := range specs {
		name := dcrflow.DCRTokenName(s.DCRTokenName)
		if !slices.Contains(have, name) {
			problems = append(problems, fmt.Sprintf("%s: portal %q: dcr_token: the worker has no DCR token named %q (it has: %s); give the worker %s (or %s_FILE, or dcr_tokens.%s in its config file)",
				file, s.Key, s.DCRTokenName, strings.Join(have, ", "), dcrflow.DCRTokenEnv(name), dcrflow.DCRTokenEnv(name), name))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// CheckOffboarding refuses specs whose offboarding is running, listing each.
func CheckOffboarding(ctx context.Context, c client.Client, file string, specs []dcrflow.PortalSpec) error {
	busy, err := offboarding(ctx, c, specs)
	if err != nil {
		return fmt.Errorf("preflight: list running offboardings: %w", err)
	}
	var problems []string
	for _, key := range busy {
		problems = append(problems, fmt.Sprintf("%s: portal %q: its offboarding is running (workflow %s); wait for it to end, then onboard",
			file, key, dcrflow.OffboardWorkflowID(key)))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// offboarding lists the portals of specs whose offboarding is running: onboarding
// one meanwhile would fight it over the same resources. One visibility query, however
// many portals.
func offboarding(ctx context.Context, c client.Client, specs []dcrflow.PortalSpec) ([]string, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	keys := map[string]bool{}
	for _, s := range specs {
		keys[s.Key] = true
	}
	var busy []string
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: "WorkflowType = 'OffboardPortal' AND ExecutionStatus = 'Running'", NextPageToken: token})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExecutions() {
			key := strings.TrimPrefix(e.GetExecution().GetWorkflowId(), dcrflow.OffboardWorkflowID(""))
			if keys[key] {
				busy = append(busy, key)
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return busy, nil
		}
	}
}
