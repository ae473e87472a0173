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
// naming one it does not hold, listing every such portal, and specs whose
// offboarding is running; nothing is started. It is for portals started one by one
// (and plans): a fleet asks in its own first step (StartFleet, AwaitPreflight). The
// question goes to the task queue's long-lived WorkerDesk workflow (started the
// first time), so asking leaves no run behind.
func Preflight(ctx context.Context, c client.Client, taskQueue, file string, specs []dcrflow.PortalSpec) error {
	ctx, cancel := context.WithTimeout(ctx, PreflightTimeout)
	defer cancel()
	info, err := askWorker(ctx, c, taskQueue)
	if err != nil {
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

// askWorker asks the task queue's WorkerDesk (starting it when absent).
func askWorker(ctx context.Context, c client.Client, taskQueue string) (dcrflow.WorkerInfo, error) {
	var info dcrflow.WorkerInfo
	id := dcrflow.WorkerDeskID(taskQueue)
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            "Answers the starter's preflight for task queue " + taskQueue + ": which DCR tokens the workers hold",
	}, workflows.WorkerDesk); err != nil {
		return info, err
	}
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: dcrflow.UpdateWorkerInfo,
		WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return info, err
	}
	err = h.Get(ctx, &info)
	return info, err
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
