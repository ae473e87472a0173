package e2e

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/onboarding"
	"github.com/dcrflow/dcrflow/sandbox/faults"
)

// heldSpec is the example "payments" portal with on_failure: hold.
func heldSpec(t *testing.T) dcrflow.PortalSpec {
	t.Helper()
	specs, err := onboarding.Load("../examples/portals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := specs[0]
	s.OnFailure = dcrflow.OnFailureHold
	return s
}

// waitHeld polls the progress query until the run holds (bounded).
func waitHeld(t *testing.T, s *stack, portal string) dcrflow.Progress {
	t.Helper()
	var p dcrflow.Progress
	waitFor(t, 60*time.Second, portal+" to hold", func() bool {
		v, err := s.temporal.QueryWorkflow(context.Background(), dcrflow.OnboardWorkflowID(portal), "", dcrflow.QueryProgress)
		return err == nil && v.Get(&p) == nil && p.Held != nil
	})
	return p
}

func TestHold_RetryAfterTheFaultIsFixedCompletesWithOneOfEach(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	spec := heldSpec(t)
	// A permission missing in Konnect: every strategy create is refused until fixed.
	if _, err := s.sb.Control.AddFault(ctx, faults.Fault{Method: "POST", Path: "/v2/application-auth-strategies", Status: 403}); err != nil {
		t.Fatal(err)
	}
	runs, err := launcher.Start(ctx, s.temporal, s.taskQueue, []dcrflow.PortalSpec{spec})
	if err != nil {
		t.Fatal(err)
	}
	p := waitHeld(t, s, spec.Key)
	if p.Held.Step != "auth_strategy" || !strings.Contains(p.Held.Message, "403") {
		t.Fatalf("held = %+v", p.Held)
	}
	// Held, not undone: what was built is still there.
	if got := providers(s.state(t), spec.DCRProvider); len(got) != 1 {
		t.Fatalf("held run lost its provider: %+v", got)
	}
	// Retried before the fix: refused again (a second hit on the fault), held again.
	if err := launcher.Decide(ctx, s.temporal, spec.Key, dcrflow.DecisionRetry); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the retried step to reach Konnect", func() bool {
		fs, err := s.sb.Control.Faults(ctx)
		return err == nil && len(fs) == 1 && fs[0].Hits == 2
	})
	if p = waitHeld(t, s, spec.Key); p.Held.Step != "auth_strategy" {
		t.Fatalf("held again at %s", p.Held.Step)
	}
	if err := s.sb.Control.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	decided := time.Now()
	if err := launcher.Decide(ctx, s.temporal, spec.Key, dcrflow.DecisionRetry); err != nil {
		t.Fatal(err)
	}
	o := launcher.Wait(ctx, runs)[0]
	if !o.Succeeded {
		t.Fatalf("after retry: %v", o.Err)
	}
	t.Logf("completed %.1fs after the retry decision", time.Since(decided).Seconds())
	st := s.state(t)
	assertOnboarded(t, st, []dcrflow.PortalSpec{spec})
	if n := len(strategies(st, spec.Strategy.Name)); n != 1 {
		t.Errorf("%d strategies, want 1", n)
	}
	if err := launcher.Decide(ctx, s.temporal, spec.Key, dcrflow.DecisionRetry); err == nil {
		t.Error("a decision for a portal that is not held was accepted")
	}
}

func TestHold_AbandonLeavesTheOrgsAsBefore(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	spec := heldSpec(t)
	before := s.state(t)
	if _, err := s.sb.Control.AddFault(ctx, faults.Fault{Method: "PUT", Path: "/v3/apis/*/publications/*", Status: 403}); err != nil {
		t.Fatal(err)
	}
	runs, err := launcher.Start(ctx, s.temporal, s.taskQueue, []dcrflow.PortalSpec{spec})
	if err != nil {
		t.Fatal(err)
	}
	if p := waitHeld(t, s, spec.Key); p.Held.Step != "publish" {
		t.Fatalf("held at %s", p.Held.Step)
	}
	if err := launcher.Decide(ctx, s.temporal, spec.Key, dcrflow.DecisionAbandon); err != nil {
		t.Fatal(err)
	}
	o := launcher.Wait(ctx, runs)[0]
	if o.Succeeded || o.Result == nil || len(o.Result.Compensated) == 0 || len(o.Result.CompensationErrors) != 0 {
		t.Fatalf("after abandon: %+v %v", o.Result, o.Err)
	}
	after := s.state(t)
	if !reflect.DeepEqual(count(after), count(before)) || !reflect.DeepEqual(server(after, "default"), server(before, "default")) {
		t.Errorf("abandon left changes: counts %v, want %v", count(after), count(before))
	}
}
