package e2e

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/onboarding"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// TestScale_TwoWorkersShareTheQueueAndOneIsKilled runs what `docker compose up --scale
// worker=2` runs: two worker processes on one task queue. Six portals, every Okta and
// Konnect call slowed so that they overlap, are onboarded; both workers take activities
// (their identities in the histories); the worker holding one portal's DCR provider
// creation (created, answer held back) is SIGKILLed, and the other finishes every
// portal with exactly one of each resource.
func TestScale_TwoWorkersShareTheQueueAndOneIsKilled(t *testing.T) {
	t.Parallel()
	bin := build(t, t.TempDir(), "./worker")
	srv := devserver.Start(t)
	sb := sandboxtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	specs, err := onboarding.Load("../examples/portals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) < 6 {
		t.Fatalf("examples/portals.yaml has %d portals, want 6", len(specs))
	}
	specs = specs[:6]
	for i := range specs {
		specs[i].Key = "scale-" + specs[i].Key
	}
	const taskQueue = "scale"

	// The first provider creation happens but its answer is held (first match wins, so
	// it goes first); every other management call is 250 ms late.
	held := addFault(t, sb, faults.Fault{Method: "POST", Path: "/v2/dcr-providers", LatencyMS: 120_000, DelayResponse: true, Count: 1})
	for _, p := range []string{"/api/v1/**", "/v2/**", "/v3/**"} {
		addFault(t, sb, faults.Fault{Path: p, LatencyMS: 250})
	}

	workers := []*workerProc{startWorkerProc(t, bin, srv, sb, taskQueue), startWorkerProc(t, bin, srv, sb, taskQueue)}
	ids := make([]string, len(workers))
	for i, w := range workers {
		ids[i] = scaleIdentity(t, w)
	}
	if ids[0] == ids[1] {
		t.Fatalf("both workers call themselves %s: their work could not be told apart", ids[0])
	}

	runCtx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	runs, err := launcher.Start(runCtx, c, taskQueue, specs)
	if err != nil {
		t.Fatal(err)
	}

	// The held creation: the provider step's attempt still running long after the
	// others (250 ms late) went through; its portal, and the worker running it. (The
	// first provider in the sandbox need not be the held one: other portals' creations
	// may have gone through before it is read.) Its attempt need not be the first: an
	// earlier one may have failed before the creation (its join of the shared-use
	// record, under load). It is taken 2 s or more before its 10 s attempt times out:
	// the next attempt (which adopts the provider at once) must not start on the worker
	// about to be killed.
	waitFor(t, time.Minute, "the held provider creation", func() bool { return hitsOf(sb, held.ID) == 1 })
	ri, victim := -1, -1
	var heldActivity, heldPortal, seen string
	var heldAttempt int32
	defer func() { // what the search saw, should it not find the held attempt
		if victim < 0 {
			t.Logf("the provider steps pending at the last look:%s", seen)
		}
	}()
	waitFor(t, 30*time.Second, "the held attempt's worker", func() bool {
		var oldest time.Time
		seen = ""
		for i, r := range runs {
			d, err := c.DescribeWorkflowExecution(ctx, r.WorkflowID, r.RunID)
			if err != nil {
				continue
			}
			for _, pa := range d.GetPendingActivities() {
				if pa.GetActivityType().GetName() != "EnsureDCRProvider" {
					continue
				}
				since := pa.GetLastStartedTime().AsTime()
				age := time.Since(since)
				seen += fmt.Sprintf("\n  %s: attempt %d, %s, started %v ago by %s", r.Portal, pa.GetAttempt(), pa.GetState(), age.Round(time.Millisecond), pa.GetLastWorkerIdentity())
				if pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED &&
					age > 5*time.Second && age < 9500*time.Millisecond && (oldest.IsZero() || since.Before(oldest)) {
					oldest, ri, heldPortal, heldAttempt = since, i, r.Portal, pa.GetAttempt()
					victim, heldActivity = slices.Index(ids, pa.GetLastWorkerIdentity()), pa.GetActivityId()
				}
			}
		}
		return victim >= 0
	})
	survivor := 1 - victim
	workers[victim].kill(t)
	killedAt := time.Now()
	// Both workers had completed activities (the held attempt is 5 s old: every other
	// portal's steps went on meanwhile).
	before := scaleCompletedBy(t, c, runs)
	t.Logf("activities completed before the kill: %d by worker 1, %d by worker 2", before[ids[0]], before[ids[1]])
	if before[ids[0]] == 0 || before[ids[1]] == 0 {
		t.Errorf("a worker had completed no activity before the kill: %v", before)
	}

	outcomes, doneAt := waitEach(runCtx, runs)
	last := slices.MaxFunc(doneAt, func(a, b time.Time) int { return a.Compare(b) })
	t.Logf("worker %d SIGKILLed holding %s's provider creation (attempt %d); worker %d finished all %d portals %.1fs later",
		victim+1, heldPortal, heldAttempt, survivor+1, len(runs), last.Sub(killedAt).Seconds())
	for _, o := range outcomes {
		if !o.Succeeded {
			t.Errorf("%s did not complete: %v", o.Portal, o.Err)
		}
	}

	// The held step was taken over: its last attempt ran on the survivor, after the held
	// one on the killed worker.
	started := scaleStarted(t, c, runs[ri], heldActivity)
	if started == nil || started.GetIdentity() != ids[survivor] || started.GetAttempt() <= heldAttempt {
		t.Errorf("%s's provider step: last started %+v, want an attempt after %d on the surviving worker %s", heldPortal, started, heldAttempt, ids[survivor])
	}
	after := scaleCompletedBy(t, c, runs)
	if after[ids[survivor]] <= before[ids[survivor]] {
		t.Errorf("the surviving worker completed no activity after the kill (%d before, %d after)", before[ids[survivor]], after[ids[survivor]])
	}
	for id := range after {
		if !slices.Contains(ids, id) {
			t.Errorf("activities completed by %s, which is neither worker", id)
		}
	}
	t.Logf("activities completed in all: %d by worker 1, %d by worker 2", after[ids[0]], after[ids[1]])

	// Exactly one of each resource.
	var st state
	if err := sb.Control.State(ctx, &st); err != nil {
		t.Fatal(err)
	}
	assertOneOfEach(t, st, specs)
	for _, o := range outcomes {
		if o.Result == nil {
			continue
		}
		for _, r := range o.Result.Resources {
			if r.Kind == dcrflow.KindDCRProvider && o.Portal == heldPortal && r.Action != dcrflow.ActionCreated {
				t.Errorf("%s: its provider, created by the killed worker's attempt, reported %s", o.Portal, r.Action)
			}
		}
	}
}

// scaleIdentity is the identity the worker gives Temporal, from its start log line.
func scaleIdentity(t *testing.T, w *workerProc) string {
	t.Helper()
	m := regexp.MustCompile(`"WorkerID":"([^"]+)"`).FindStringSubmatch(w.out.String())
	if m == nil {
		t.Fatalf("the worker's log names no WorkerID:\n%s", w.out.String())
	}
	return m[1]
}

// scaleCompletedBy counts completed activities per worker identity across the runs.
func scaleCompletedBy(t *testing.T, c client.Client, runs []launcher.Run) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, r := range runs {
		for _, e := range history(t, context.Background(), c, r.WorkflowID, r.RunID) {
			if a := e.GetActivityTaskCompletedEventAttributes(); a != nil {
				n[a.GetIdentity()]++
			}
		}
	}
	return n
}

// scaleStarted is the recorded start (the last attempt's) of the activity with this id.
func scaleStarted(t *testing.T, c client.Client, r launcher.Run, activityID string) *historypb.ActivityTaskStartedEventAttributes {
	t.Helper()
	events := history(t, context.Background(), c, r.WorkflowID, r.RunID)
	scheduled := int64(-1)
	for _, e := range events {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityId() == activityID {
			scheduled = e.GetEventId()
		}
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil && a.GetScheduledEventId() == scheduled {
			return a
		}
	}
	return nil
}
