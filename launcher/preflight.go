package launcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/workflows"
)

// PreflightTimeout bounds the wait for a worker's answer.
const PreflightTimeout = 20 * time.Second

// Preflight asks a worker of the task queue for its DCR token names and refuses specs
// naming one it does not hold, listing every such portal; nothing is started.
func Preflight(ctx context.Context, c client.Client, taskQueue, file string, specs []dcrflow.PortalSpec) error {
	ctx, cancel := context.WithTimeout(ctx, PreflightTimeout)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       fmt.Sprintf("dcrflow-preflight-%d", time.Now().UnixNano()),
		TaskQueue:                taskQueue,
		WorkflowExecutionTimeout: PreflightTimeout,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.WorkerInfo)
	if err != nil {
		return fmt.Errorf("preflight: %w", err)
	}
	var info dcrflow.WorkerInfo
	if err := run.Get(ctx, &info); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("no dcrflow worker answered on task queue %q within %v: start one (make run starts one) or check temporal.task_queue", taskQueue, PreflightTimeout)
		}
		return fmt.Errorf("preflight: %w", err)
	}
	var problems []string
	for _, s := range specs {
		if !slices.Contains(info.DCRTokenNames, s.DCRTokenName) {
			problems = append(problems, fmt.Sprintf("%s: portal %q: dcr_token: the worker has no DCR token named %q (it has: %s); add it to the worker's dcr_tokens or DCRFLOW_DCR_TOKEN_%s",
				file, s.Key, s.DCRTokenName, strings.Join(info.DCRTokenNames, ", "), strings.ToUpper(strings.ReplaceAll(s.DCRTokenName, "-", "_"))))
		}
	}
	busy, err := offboarding(ctx, c, specs)
	if err != nil {
		return fmt.Errorf("preflight: list running offboardings: %w", err)
	}
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
