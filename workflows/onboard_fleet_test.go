package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

// fleetRun is one run of OnboardFleet in the test environment.
type fleetRun struct {
	sum     dcrflow.FleetSummary
	can     *workflow.ContinueAsNewError
	err     error
	peak    int
	started []string // children started, in order
	env     *testsuite.TestWorkflowEnvironment
}

// fleetSetup configures a run: chunks it is sent, chunks a later run reads back, and
// a hook on the environment before it runs.
type fleetSetup struct {
	failing []string
	signals []dcrflow.FleetChunk // sent to the run right after it starts
	stored  map[int][]byte       // what FleetChunk reads back from the first run
	before  func(*testsuite.TestWorkflowEnvironment)
	portal  func(workflow.Context, dcrflow.PortalSpec) (*dcrflow.OnboardResult, error) // default: a minute, then done
}

// runFleet runs one fleet run with mocked portals: those in failing fail at the
// strategy step; every portal takes a minute. It reports the peak concurrency.
func runFleet(t *testing.T, in dcrflow.FleetInput, setup fleetSetup) fleetRun {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(OnboardFleet)
	env.RegisterWorkflow(OnboardPortal)
	env.RegisterActivity(&activities.Activities{})
	env.RegisterActivity(&activities.Fleet{})
	r := fleetRun{env: env}
	running := 0
	portal := setup.portal
	if portal == nil {
		portal = func(ctx workflow.Context, spec dcrflow.PortalSpec) (*dcrflow.OnboardResult, error) {
			if err := workflow.Sleep(ctx, time.Minute); err != nil {
				return nil, err
			}
			if slices.Contains(setup.failing, spec.Key) {
				res := dcrflow.OnboardResult{Portal: spec.Key, Failure: &dcrflow.Failure{Step: StepStrategy, Message: "403 refused"},
					Compensated: []string{"delete scope x"}}
				return nil, temporal.NewNonRetryableApplicationError("failed", dcrflow.ErrTypeOnboardFailed, nil, res)
			}
			return &dcrflow.OnboardResult{Portal: spec.Key}, nil
		}
	}
	env.OnWorkflow(OnboardPortal, mock.Anything, mock.Anything).Return(func(ctx workflow.Context, spec dcrflow.PortalSpec) (*dcrflow.OnboardResult, error) {
		running++
		r.peak = max(r.peak, running)
		r.started = append(r.started, spec.Key)
		defer func() { running-- }()
		return portal(ctx, spec)
	})
	env.OnActivity(fl.FleetChunk, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ChunkInput) ([]byte, error) {
		if p, ok := setup.stored[in.Index]; ok {
			return p, nil
		}
		return nil, temporal.NewNonRetryableApplicationError("no chunk", dcrflow.ErrTypeNotFound, nil)
	}).Maybe()
	for _, c := range setup.signals {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(dcrflow.SignalFleetChunk, c) }, time.Second)
	}
	if setup.before != nil {
		setup.before(env)
	}
	env.ExecuteWorkflow(OnboardFleet, in)
	err := env.GetWorkflowError()
	if errors.As(err, &r.can) {
		return r
	}
	if err != nil {
		r.err = err
		return r
	}
	if err := env.GetWorkflowResult(&r.sum); err != nil {
		t.Fatal(err)
	}
	return r
}

func keyed(prefix string, n int) []dcrflow.PortalSpec {
	out := make([]dcrflow.PortalSpec, n)
	for i := range out {
		out[i] = dcrflow.PortalSpec{Key: fmt.Sprintf("%s%04d", prefix, i), DCRTokenName: "default"}
	}
	return out
}

func TestOnboardFleet_BoundedConcurrencyContinueAsNewAndAnExactSummary(t *testing.T) {
	portals := keyed("p", 11)
	failing := []string{"p0003", "p0007", "p0010"}
	in := dcrflow.FleetInput{Name: "f", Portals: portals, MaxConcurrent: 3, ContinueAsNewAfter: 4}
	var started []string
	for runs := 1; ; runs++ {
		if runs > 5 {
			t.Fatal("the fleet never finished")
		}
		r := runFleet(t, in, fleetSetup{failing: failing})
		if r.err != nil {
			t.Fatal(r.err)
		}
		started = append(started, r.started...)
		if r.peak > 3 || r.peak < 2 {
			t.Fatalf("run %d: peak concurrency %d, want at most (and about) 3", runs, r.peak)
		}
		if r.can == nil {
			if runs != 3 {
				t.Errorf("finished after %d runs, want 3 (4 + 4 + 3 portals)", runs)
			}
			if r.sum.Total != 11 || r.sum.Succeeded != 8 || r.sum.Failed != 3 || len(r.sum.Failures) != 3 {
				t.Fatalf("summary = %+v", r.sum)
			}
			for _, f := range r.sum.Failures {
				if !slices.Contains(failing, f.Portal) || f.Step != StepStrategy || f.Message != "403 refused" || !f.Compensated {
					t.Errorf("failure = %+v", f)
				}
			}
			if len(started) != 11 || len(slices.Compact(slices.Sorted(slices.Values(started)))) != 11 {
				t.Errorf("started %v: want each of the 11 portals once (none lost)", started)
			}
			return
		}
		in = continued(t, r.can)
		if in.Summary.Total != 11 || in.Summary.Done() != 4*runs {
			t.Fatalf("continued with summary %+v", in.Summary)
		}
	}
}

// continued decodes a continue-as-new's input.
func continued(t *testing.T, can *workflow.ContinueAsNewError) dcrflow.FleetInput {
	t.Helper()
	var in dcrflow.FleetInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Portals) > 0 {
		t.Fatalf("continue-as-new carried %d plain portals: want them packed", len(in.Portals))
	}
	return in
}

// payloadSize is the size of v as the default converter writes it.
func payloadSize(t *testing.T, v any) int {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p.Size()
}

// 4,000 portals that all fail, in chunks of 500: each chunk after the first comes as
// a signal to the first run and is read back by the later ones; no payload (input of
// a run, its result) grows with the fleet: the summary keeps counts and the first
// MaxFleetFailures failures, and the failures query pages through those.
func TestOnboardFleet_FourThousandFailuresStayBounded(t *testing.T) {
	const n, per = 4000, 500
	all := keyed("portal-", n)
	var chunks [][]byte
	for lo := 0; lo < n; lo += per {
		p, err := dcrflow.PackPortals(all[lo : lo+per])
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, p)
	}
	stored := map[int][]byte{}
	var signals []dcrflow.FleetChunk
	for i := 1; i < len(chunks); i++ {
		stored[i] = chunks[i]
		signals = append(signals, dcrflow.FleetChunk{Index: i, Packed: chunks[i]})
	}
	failing := make([]string, n)
	for i, s := range all {
		failing[i] = s.Key
	}
	in := dcrflow.FleetInput{Name: "big", Packed: chunks[0], Chunks: len(chunks), MaxConcurrent: 50, ContinueAsNewAfter: per,
		Summary: dcrflow.FleetSummary{Total: n}}
	seen := map[string]int{}
	largest := payloadSize(t, in)
	for runs := 1; ; runs++ {
		if runs > len(chunks)+1 {
			t.Fatal("the fleet never finished")
		}
		setup := fleetSetup{failing: failing, stored: stored}
		if runs == 1 {
			setup.signals = signals
		}
		r := runFleet(t, in, setup)
		if r.err != nil {
			t.Fatal(r.err)
		}
		for _, k := range r.started {
			seen[k]++
		}
		if r.can == nil {
			largest = max(largest, payloadSize(t, r.sum))
			if runs != len(chunks) || r.sum.Total != n || r.sum.Failed != n || r.sum.Succeeded != 0 || len(r.sum.Failures) != dcrflow.MaxFleetFailures {
				t.Fatalf("after %d runs: %+v", runs, struct{ Total, Failed, Succeeded, Kept int }{r.sum.Total, r.sum.Failed, r.sum.Succeeded, len(r.sum.Failures)})
			}
			if len(seen) != n {
				t.Errorf("%d portals started, want %d", len(seen), n)
			}
			for k, c := range seen {
				if c != 1 {
					t.Errorf("%s started %d times", k, c)
				}
			}
			if largest > 64<<10 {
				t.Errorf("largest payload %d bytes: want it bounded far below 256 KB", largest)
			}
			return
		}
		next := continued(t, r.can)
		largest = max(largest, r.can.Input.Size())
		if runs > 1 && next.ChunkRun != in.ChunkRun {
			t.Errorf("run %d continued with chunk run %q, want the first run's %q", runs, next.ChunkRun, in.ChunkRun)
		}
		if runs == 1 && next.ChunkRun == "" {
			t.Error("the first run did not name itself as the run holding the chunks")
		}
		if len(next.Summary.Failures) > dcrflow.MaxFleetFailures || next.Summary.Failed != runs*per {
			t.Errorf("run %d continued with %d failures kept, %d counted", runs, len(next.Summary.Failures), next.Summary.Failed)
		}
		in = next
	}
}

// The failures query pages through the kept failures; progress carries counts only.
func TestOnboardFleet_FailuresQueryPages(t *testing.T) {
	portals := keyed("f", 150)
	failing := make([]string, 0, 130)
	for _, s := range portals[:130] {
		failing = append(failing, s.Key)
	}
	var page dcrflow.FailuresPage
	var prog dcrflow.FleetProgress
	r := runFleet(t, dcrflow.FleetInput{Name: "q", Portals: portals, MaxConcurrent: 200}, fleetSetup{
		portal: func(ctx workflow.Context, spec dcrflow.PortalSpec) (*dcrflow.OnboardResult, error) {
			if slices.Contains(failing, spec.Key) {
				return nil, temporal.NewNonRetryableApplicationError("failed", dcrflow.ErrTypeOnboardFailed, nil,
					dcrflow.OnboardResult{Failure: &dcrflow.Failure{Step: StepResolve, Message: "404"}})
			}
			return &dcrflow.OnboardResult{}, workflow.Sleep(ctx, 3*time.Minute) // still running when queried
		},
		before: func(env *testsuite.TestWorkflowEnvironment) {
			env.RegisterDelayedCallback(func() {
				v, err := env.QueryWorkflow(dcrflow.QueryFleetFailures, 90, 20)
				if err != nil {
					t.Fatal(err)
				}
				if err := v.Get(&page); err != nil {
					t.Fatal(err)
				}
				v, err = env.QueryWorkflow(dcrflow.QueryProgress)
				if err != nil {
					t.Fatal(err)
				}
				if err := v.Get(&prog); err != nil {
					t.Fatal(err)
				}
			}, 2*time.Minute)
		}})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if page.Failed != 130 || page.Kept != dcrflow.MaxFleetFailures || page.Offset != 90 || len(page.Failures) != 10 || page.Failures[0].Portal != r.sum.Failures[90].Portal {
		t.Errorf("page = failed %d kept %d offset %d, %d items", page.Failed, page.Kept, page.Offset, len(page.Failures))
	}
	if prog.Failed != 130 || prog.Succeeded != 0 || len(prog.Running) != 20 || prog.Kept != dcrflow.MaxFleetFailures {
		t.Errorf("progress = %+v", prog)
	}
	if raw, _ := json.Marshal(prog); len(raw) > 4<<10 {
		t.Errorf("progress is %d bytes: it must not list the failures", len(raw))
	}
}

// A portal already running when the fleet comes to it (another fleet, the starter's
// -portal) is waited for and counted by its outcome, not as a failure. In the test
// environment a second child with the same id answers "already started" as the
// server does.
func TestOnboardFleet_AttachesToARunningPortal(t *testing.T) {
	portals := []dcrflow.PortalSpec{{Key: "busy"}, {Key: "other"}, {Key: "busy"}, {Key: "late"}}
	var awaited []string
	r := runFleet(t, dcrflow.FleetInput{Name: "a", Portals: portals, MaxConcurrent: 4}, fleetSetup{
		before: func(env *testsuite.TestWorkflowEnvironment) {
			env.OnActivity(fl.AwaitPortal, mock.Anything, mock.Anything).Return(func(_ context.Context, key string) (activities.AttachedOutcome, error) {
				awaited = append(awaited, key)
				if key == "late" {
					return activities.AttachedOutcome{Failure: dcrflow.FleetFailure{Portal: key, Step: StepValidate, Message: "no token", Compensated: true, Attached: true}}, nil
				}
				return activities.AttachedOutcome{Succeeded: true}, nil
			})
		},
		portal: func(ctx workflow.Context, spec dcrflow.PortalSpec) (*dcrflow.OnboardResult, error) {
			if spec.Key == "late" {
				// "late" is already running elsewhere: the server refuses a second start.
				return nil, &temporal.ChildWorkflowExecutionAlreadyStartedError{}
			}
			return &dcrflow.OnboardResult{}, workflow.Sleep(ctx, time.Minute)
		},
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !slices.Contains(awaited, "busy") {
		t.Errorf("the fleet did not wait for the running portal busy (awaited %v)", awaited)
	}
	if r.sum.Total != 4 || r.sum.Succeeded != 3 || r.sum.Failed != 1 || r.sum.Attached != 2 {
		t.Fatalf("summary = %+v", r.sum)
	}
	if f := r.sum.Failures[0]; f.Portal != "late" || f.Step != StepValidate || !f.Attached {
		t.Errorf("failure = %+v", f)
	}
}

// The fleet's first step asks a worker for its DCR tokens; one missing refuses the
// fleet before any portal starts, and progress says which.
func TestOnboardFleet_PreflightRefusesAMissingToken(t *testing.T) {
	var prog dcrflow.FleetProgress
	r := runFleet(t, dcrflow.FleetInput{Name: "p", Portals: keyed("x", 3), TokenNames: []string{"default", "Partners_EU"}}, fleetSetup{
		before: func(env *testsuite.TestWorkflowEnvironment) {
			env.OnActivity(a.WorkerInfo, mock.Anything).Return(dcrflow.WorkerInfo{DCRTokenNames: []string{"default"}}, nil)
		}})
	var app *temporal.ApplicationError
	if !errors.As(r.err, &app) || app.Type() != dcrflow.ErrTypeConfig || !app.NonRetryable() {
		t.Fatalf("error = %v, want a non-retryable Config error", r.err)
	}
	for _, want := range []string{"Partners_EU", "DCRFLOW_DCR_TOKEN_PARTNERS_EU", "no portal started"} {
		if !strings.Contains(app.Message(), want) {
			t.Errorf("message %q lacks %q", app.Message(), want)
		}
	}
	if len(r.started) != 0 {
		t.Errorf("started %v: want none", r.started)
	}
	v, err := r.env.QueryWorkflow(dcrflow.QueryProgress)
	if err == nil {
		err = v.Get(&prog)
	}
	if err != nil || prog.Preflight == nil || !slices.Equal(prog.Preflight.Missing, []string{"Partners_EU"}) {
		t.Errorf("progress = %+v, %v", prog, err)
	}
}

// With a start interval, the first portals start that far apart (the tightest budget
// gets its first calls sooner); a portal that waits for a place starts when one frees,
// the interval long past; without one, they all start at once.
func TestOnboardFleet_StartIntervalSpacesTheFirstStarts(t *testing.T) {
	for _, interval := range []time.Duration{0, 10 * time.Second} {
		var at []time.Time
		r := runFleet(t, dcrflow.FleetInput{Name: "spaced", Portals: keyed("s", 4), MaxConcurrent: 3, StartInterval: interval}, fleetSetup{
			portal: func(ctx workflow.Context, spec dcrflow.PortalSpec) (*dcrflow.OnboardResult, error) {
				at = append(at, workflow.Now(ctx))
				if err := workflow.Sleep(ctx, time.Minute); err != nil {
					return nil, err
				}
				return &dcrflow.OnboardResult{Portal: spec.Key}, nil
			},
		})
		if r.err != nil || r.sum.Succeeded != 4 || len(at) != 4 {
			t.Fatalf("interval %v: %+v, err %v, %d started", interval, r.sum, r.err, len(at))
		}
		for i, want := range []time.Duration{0, interval, 2 * interval, time.Minute} { // the 4th waits for the 1st to end
			if got := at[i].Sub(at[0]); got < want || got > want+time.Second {
				t.Errorf("interval %v: portal %d started %v after the first, want %v", interval, i, got, want)
			}
		}
	}
}
