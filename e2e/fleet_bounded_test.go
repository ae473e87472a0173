package e2e

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/sandbox/faults"
)

// A portal already running when its fleet comes to it (here: started on its own and
// held at a step) is waited for, not counted as failed: the fleet reports it by that
// run's outcome, and the portal has one run only.
func TestFleet_AttachesToAPortalAlreadyRunning(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	busy := fleetPortal("busy", "default", "busy:read", "payments-api")
	busy.OnFailure = dcrflow.OnFailureHold
	if _, err := s.sb.Control.AddFault(ctx, faults.Fault{Method: "POST", Path: "/v2/application-auth-strategies", Status: 403, Count: 1}); err != nil {
		t.Fatal(err)
	}
	runs, err := launcher.Start(ctx, s.temporal, s.taskQueue, []dcrflow.PortalSpec{busy})
	if err != nil {
		t.Fatal(err)
	}
	waitHeld(t, s, busy.Key)

	specs := []dcrflow.PortalSpec{fleetPortal("calm-1", "default", "calm1:read"), busy, fleetPortal("calm-2", "default", "calm2:read")}
	f, err := launcher.StartFleet(ctx, s.temporal, s.taskQueue, dcrflow.FleetInput{Name: "attach", Portals: specs, MaxConcurrent: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.AwaitPreflight(ctx, "attach.yaml", specs); err != nil {
		t.Fatal(err)
	}
	// The fleet waits on the held run (its AwaitPortal activity) while the others end.
	waitFor(t, time.Minute, "the fleet to wait for busy", func() bool {
		d, err := s.temporal.DescribeWorkflowExecution(ctx, f.WorkflowID, "")
		if err != nil {
			return false
		}
		for _, pa := range d.GetPendingActivities() {
			if pa.GetActivityType().GetName() == "AwaitPortal" {
				return true
			}
		}
		return false
	})
	if err := launcher.Decide(ctx, s.temporal, busy.Key, dcrflow.DecisionRetry); err != nil {
		t.Fatal(err)
	}
	sum, err := f.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total != 3 || sum.Succeeded != 3 || sum.Failed != 0 || sum.Attached != 1 {
		t.Fatalf("summary = %+v, want 3 succeeded, 1 of them attached", sum)
	}
	if o := launcher.Wait(ctx, runs)[0]; !o.Succeeded {
		t.Fatalf("the held run: %v", o.Err)
	}
	if n := countWorkflows(t, s.temporal, "WorkflowId = 'dcrflow-onboard-busy'"); n != 1 {
		t.Errorf("busy has %d runs, want 1 (the fleet attached, it did not start another)", n)
	}
}

// The preflight leaves nothing in the namespace's list: a fleet asks in its own first
// step (and refuses, starting no portal, when the worker lacks a token, naming the
// variable to set); the one-by-one preflight deletes its workflow once answered.
func TestPreflight_LeavesNoWorkflowBehind(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lacking := fleetPortal("lacking", "default", "lacking:read")
	lacking.DCRTokenName = "partners-eu"
	specs := []dcrflow.PortalSpec{fleetPortal("fine", "default", "fine:read"), lacking}
	f, err := launcher.StartFleet(ctx, s.temporal, s.taskQueue, dcrflow.FleetInput{Name: "refused", Portals: specs})
	if err != nil {
		t.Fatal(err)
	}
	err = f.AwaitPreflight(ctx, "refused.yaml", specs)
	if err == nil || !strings.Contains(err.Error(), `portal "lacking"`) || !strings.Contains(err.Error(), "DCRFLOW_DCR_TOKEN_PARTNERS_EU") ||
		strings.Contains(err.Error(), `portal "fine"`) {
		t.Fatalf("preflight: %v", err)
	}
	if _, err := f.Wait(ctx); err == nil {
		t.Error("the refused fleet succeeded")
	}
	// Portals one by one: every preflight asks the task queue's one long-lived desk.
	for range 3 {
		if err := launcher.Preflight(ctx, s.temporal, s.taskQueue, "one.yaml", specs[:1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := launcher.Preflight(ctx, s.temporal, s.taskQueue, "one.yaml", specs[1:]); err == nil || !strings.Contains(err.Error(), "DCRFLOW_DCR_TOKEN_PARTNERS_EU") {
		t.Errorf("one by one, a missing token: %v", err)
	}
	waitFor(t, 30*time.Second, "visibility to list the desk", func() bool {
		return countWorkflows(t, s.temporal, "WorkflowType = 'WorkerDesk'") == 1
	})
	if n := countWorkflows(t, s.temporal, "WorkflowType = 'WorkerInfo'"); n != 0 {
		t.Errorf("%d WorkerInfo workflows left behind", n)
	}
	if n := countWorkflows(t, s.temporal, "WorkflowType = 'WorkerDesk' AND ExecutionStatus = 'Running'"); n != 1 {
		t.Errorf("%d running desks after four preflights, want 1", n)
	}
	if n := countWorkflows(t, s.temporal, "WorkflowType = 'OnboardPortal'"); n != 0 {
		t.Errorf("%d portals started by a refused fleet", n)
	}
}

// A DCR budget too small for any step to verify a DCR provider stops the worker at
// once with one line: the variable, the arithmetic and the least value that works.
func TestWorker_RefusesABudgetThatCannotRunAStep(t *testing.T) {
	bin := build(t, t.TempDir(), "./worker")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(badcfgEnv(), "DCRFLOW_TEMPORAL_ADDRESS="+freeAddr(t), "DCRFLOW_OKTA_ORG_URL=http://127.0.0.1:1", "DCRFLOW_OKTA_TOKEN=ssws-x",
		"DCRFLOW_KONNECT_BASE_URL=http://127.0.0.1:2", "DCRFLOW_KONNECT_TOKEN=kpat_x", "DCRFLOW_DCR_TOKEN_DEFAULT=dcr-x",
		"DCRFLOW_RATE_LIMITS_OKTA_DCR_RPM=6")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want 1; stderr: %s", err, stderr.String())
	}
	msg := strings.TrimRight(stderr.String(), "\n")
	if strings.Contains(msg, "\n") {
		t.Errorf("more than one line: %s", msg)
	}
	for _, want := range []string{"rate_limits.okta_dcr_rpm (DCRFLOW_RATE_LIMITS_OKTA_DCR_RPM) 6 cannot run a step at all",
		"60 s ÷ (6 × 0.98) = 10.2s", "more than the 7.5s a step may wait", "set at least 9"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q: %s", want, msg)
		}
	}
}
