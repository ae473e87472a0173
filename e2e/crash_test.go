package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/onboarding"
	"github.com/dcrflow/dcrflow/sandbox"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
	"github.com/dcrflow/dcrflow/workflows"
)

// TestCrash covers what is not a fault of one call: a worker killed mid-run, a fault
// while undoing, a cancellation mid-run (also while a create's answer is late), and
// one file started twice at once. One dev server; each case has its own sandbox,
// task queue and portal keys.
func TestCrash(t *testing.T) {
	t.Parallel()
	srv := devserver.Start(t)
	cases := []struct {
		name string
		run  func(t *testing.T, srv *testsuite.DevServer)
	}{
		{"worker_sigkill", testWorkerSIGKILL},
		{"fault_during_compensation", testFaultDuringCompensation},
		{"cancel_while_a_step_is_held", testCancelWhileHeld},
		{"cancel_while_a_create_answer_is_late", testCancelWhileCreateAnswerLate},
		{"same_file_started_twice_at_once", testStartedTwiceAtOnce},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, srv)
		})
	}
}

// A worker SIGKILLed while five portals are in the middle of creating their DCR
// providers (created, answers not yet back): a new worker finishes every portal, with
// exactly one of each resource, each provider known as its run's own.
func testWorkerSIGKILL(t *testing.T, srv *testsuite.DevServer) {
	bin := build(t, t.TempDir(), "./worker")
	sb := sandboxtest.Start(t)
	ctx := context.Background()
	specs, err := onboarding.Load("../examples/portals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	specs = specs[:5]
	for i := range specs {
		specs[i].Key = "kill-" + specs[i].Key
	}
	const taskQueue = "crash-sigkill"
	// Every provider is created at once; its answer is held until the caller goes.
	held, err := sb.Control.AddFault(ctx, faults.Fault{Method: "POST", Path: "/v2/dcr-providers",
		LatencyMS: 120_000, DelayResponse: true, Count: len(specs)})
	if err != nil {
		t.Fatal(err)
	}
	first := startWorkerProc(t, bin, srv, sb, taskQueue)
	runCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	runs, err := launcher.Start(runCtx, srv.Client(), taskQueue, specs)
	if err != nil {
		t.Fatal(err)
	}
	// Mid-run: every portal's provider call has reached the sandbox (the fault counts a
	// call on arrival; the request log lists it only once answered, which it is not).
	waitFor(t, time.Minute, "every portal to be creating its provider", func() bool {
		return hitsOf(sb, held.ID) == len(specs)
	})
	for _, r := range sb.Sandbox.Requests(0) {
		if r.Method == "POST" && r.Path == "/v2/dcr-providers" {
			t.Fatalf("a provider call was answered before the kill: %+v", r)
		}
	}
	// The side effects have happened: the providers exist, their answers are held.
	waitFor(t, 10*time.Second, "every provider to be created", func() bool {
		var mid state
		return sb.Control.State(ctx, &mid) == nil && len(mid.Konnect.DCRProviders) == len(specs)
	})

	first.kill(t)
	killedAt := time.Now()
	startWorkerProc(t, bin, srv, sb, taskQueue)

	outcomes, doneAt := waitEach(runCtx, runs)
	last := slices.MaxFunc(doneAt, func(a, b time.Time) int { return a.Compare(b) })
	t.Logf("worker SIGKILL: recovered in %.1fs (kill → last of %d portals completed)", last.Sub(killedAt).Seconds(), len(runs))
	for i, o := range outcomes {
		if !o.Succeeded {
			t.Errorf("%s did not complete after the kill: %v", o.Portal, o.Err)
			continue
		}
		t.Logf("  %s completed %.1fs after the kill", o.Portal, doneAt[i].Sub(killedAt).Seconds())
		for _, r := range o.Result.Resources {
			if r.Kind == dcrflow.KindDCRProvider && r.Action != dcrflow.ActionCreated {
				t.Errorf("%s: its provider, created by the killed worker's attempt, reported %s: compensation would leave it behind", o.Portal, r.Action)
			}
		}
	}
	var st state
	if err := sb.Control.State(ctx, &st); err != nil {
		t.Fatal(err)
	}
	assertOneOfEach(t, st, specs)
}

// waitEach waits for every run and notes when each ended.
func waitEach(ctx context.Context, runs []launcher.Run) ([]launcher.Outcome, []time.Time) {
	out, at := make([]launcher.Outcome, len(runs)), make([]time.Time, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Go(func() {
			out[i] = launcher.Wait(ctx, []launcher.Run{r})[0]
			at[i] = time.Now()
		})
	}
	wg.Wait()
	return out, at
}

// assertScopesOnce checks that each portal's scopes exist exactly once on its server.
func assertScopesOnce(t *testing.T, st state, specs []dcrflow.PortalSpec) {
	t.Helper()
	for _, p := range specs {
		srv := server(st, p.AuthServer)
		for _, sc := range p.Scopes {
			n := 0
			for _, s := range srv.Scopes {
				if s.Name == sc.Name {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s: %d scopes named %s on %s, want 1", p.Key, n, sc.Name, srv.Name)
			}
		}
	}
}

// assertOneOfEach checks that every portal is onboarded with exactly one of each of
// its resources and no DCR client left behind.
func assertOneOfEach(t *testing.T, st state, specs []dcrflow.PortalSpec) {
	t.Helper()
	assertOnboarded(t, st, specs)
	assertScopesOnce(t, st, specs)
	if n := len(st.Konnect.DCRProviders); n != len(specs) {
		t.Errorf("%d DCR providers, want %d", n, len(specs))
	}
	if n := len(st.Konnect.AuthStrategies); n != len(specs) {
		t.Errorf("%d auth strategies, want %d", n, len(specs))
	}
	if len(st.Okta.Clients) != 0 {
		t.Errorf("DCR clients left behind: %+v", st.Okta.Clients)
	}
}

// A permanent fault at publish, then 503s on the first three strategy deletions of the
// undo: the undo retries through them, completes, and leaves the orgs as they were.
func testFaultDuringCompensation(t *testing.T, srv *testsuite.DevServer) {
	r := startRig(t, srv)
	spec := faultSpec("crash-undo-fault")
	before := r.state(t)
	addFault(t, r.sb, faults.Fault{Method: "PUT", Path: "/v3/apis/*/publications/*", Status: 403})
	undoFault := addFault(t, r.sb, faults.Fault{Method: "DELETE", Path: "/v2/application-auth-strategies/*", Status: 503, Count: 3})

	started := time.Now()
	o := r.onboard(t, []dcrflow.PortalSpec{spec})[0]
	assertFailedAndUndone(t, r, o, workflows.StepPublish, before)
	if hits := hitsOf(r.sb, undoFault.ID); hits != 3 {
		t.Errorf("the undo's fault hit %d times, want 3", hits)
	}
	if o.Result != nil && !slices.ContainsFunc(o.Result.Compensated, func(s string) bool { return strings.Contains(s, "auth_strategy") }) {
		t.Errorf("compensated = %v, want the strategy's deletion among them", o.Result.Compensated)
	}
	t.Logf("fault during compensation: failed and undone in %.1fs", time.Since(started).Seconds())
}

// Cancelled while the publish step's read is held: the run ends cancelled and
// everything it built is undone.
func testCancelWhileHeld(t *testing.T, srv *testsuite.DevServer) {
	cancelMidRun(t, srv, "crash-cancel-held",
		faults.Fault{Method: "GET", Path: "/v3/apis/*/publications/*", LatencyMS: int((workflows.StepTimeout / 2).Milliseconds()), Count: 1})
}

// Cancelled while the strategy is created but its answer not yet back: the run ends
// cancelled and the strategy is removed with the rest.
func testCancelWhileCreateAnswerLate(t *testing.T, srv *testsuite.DevServer) {
	cancelMidRun(t, srv, "crash-cancel-late",
		faults.Fault{Method: "POST", Path: "/v2/application-auth-strategies", LatencyMS: int((workflows.StepTimeout / 2).Milliseconds()), DelayResponse: true, Count: 1})
}

func cancelMidRun(t *testing.T, srv *testsuite.DevServer, key string, hold faults.Fault) {
	r := startRig(t, srv)
	ctx := context.Background()
	spec := faultSpec(key)
	before := r.state(t)
	hold = addFault(t, r.sb, hold)
	runCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	runs, err := launcher.Start(runCtx, r.temporal, r.taskQueue, []dcrflow.PortalSpec{spec})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Minute, "the run to reach the held call", func() bool { return hitsOf(r.sb, hold.ID) == 1 })
	if hold.DelayResponse {
		// The side effect has happened: the strategy exists, its answer is held.
		waitFor(t, 10*time.Second, "the strategy to be created", func() bool { return len(strategies(r.state(t), spec.Strategy.Name)) == 1 })
	}
	canceledAt := time.Now()
	if err := r.temporal.CancelWorkflow(ctx, runs[0].WorkflowID, runs[0].RunID); err != nil {
		t.Fatal(err)
	}
	o := launcher.Wait(runCtx, runs)[0]
	t.Logf("%s: ended %.1fs after the cancel", key, time.Since(canceledAt).Seconds())
	if o.Succeeded || !temporal.IsCanceledError(o.Err) {
		t.Fatalf("run ended with succeeded=%v err=%v, want cancelled", o.Succeeded, o.Err)
	}
	desc, err := r.temporal.DescribeWorkflowExecution(ctx, runs[0].WorkflowID, runs[0].RunID)
	if err != nil {
		t.Fatal(err)
	}
	if s := desc.GetWorkflowExecutionInfo().GetStatus(); s != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
		t.Fatalf("status %v, want CANCELED", s)
	}
	// The held call has ended (nothing can land after the comparison).
	waitFor(t, 30*time.Second, "the held call to end", func() bool {
		return slices.ContainsFunc(r.sb.Sandbox.Requests(0), func(x sandbox.Request) bool {
			return x.Method == hold.Method && matchesHeld(hold.Path, x.Path)
		})
	})
	assertUnchanged(t, before, r.state(t))
}

// matchesHeld matches the two held paths of the cancellation cases.
func matchesHeld(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// The same file started by two starters at the same moment: one run per portal.
func testStartedTwiceAtOnce(t *testing.T, srv *testsuite.DevServer) {
	r := startRig(t, srv)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "portals.yaml")
	yaml := `defaults:
  auth_server: default
  visibility: public
portals:
  - name: twice-payments
    portal: payments
    scopes: ["twice:payments"]
    apis: [payments-api]
  - name: twice-europe
    portal: europe
    scopes: ["twice:europe"]
    apis: [accounts-api]
`
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	// Slow the first step so both starts surely find the runs going.
	addFault(t, r.sb, faults.Fault{Method: "GET", Path: "/api/v1/authorizationServers/*", LatencyMS: 2000, Count: 2})

	runCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var (
		wg    sync.WaitGroup
		go1   = make(chan struct{})
		runs  [2][]launcher.Run
		errs  [2]error
		specs []dcrflow.PortalSpec
	)
	for i := range 2 {
		wg.Go(func() {
			s, err := onboarding.Load(file)
			if err != nil {
				errs[i] = err
				return
			}
			if i == 0 {
				specs = s
			}
			<-go1
			runs[i], errs[i] = launcher.Start(runCtx, r.temporal, r.taskQueue, s)
		})
	}
	close(go1)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(runs[0]) != len(specs) || len(runs[1]) != len(specs) {
		t.Fatalf("started %d and %d runs, want %d each", len(runs[0]), len(runs[1]), len(specs))
	}
	for i := range runs[0] {
		if a, b := runs[0][i], runs[1][i]; a.WorkflowID != b.WorkflowID || a.RunID != b.RunID {
			t.Errorf("%s: the two starts made runs %s and %s, want one", a.Portal, a.RunID, b.RunID)
		}
	}
	for _, o := range launcher.Wait(runCtx, append(runs[0], runs[1]...)) {
		if !o.Succeeded {
			t.Errorf("%s: %v", o.Portal, o.Err)
		}
	}
	for _, run := range runs[0] {
		completed := fmt.Sprintf("WorkflowId = '%s' AND ExecutionStatus = 'Completed'", run.WorkflowID)
		waitFor(t, 30*time.Second, "visibility to list "+run.WorkflowID+" as completed", func() bool {
			return countWorkflows(t, r.temporal, completed) >= 1
		})
		if n := countWorkflows(t, r.temporal, fmt.Sprintf("WorkflowId = '%s'", run.WorkflowID)); n != 1 {
			t.Errorf("%s: %d runs, want 1", run.WorkflowID, n)
		}
	}
	var st state
	if err := r.sb.Control.State(ctx, &st); err != nil {
		t.Fatal(err)
	}
	assertOnboarded(t, st, specs)
	assertScopesOnce(t, st, specs)
}
