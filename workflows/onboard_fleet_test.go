package workflows

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
)

// runFleet runs one fleet run with mocked portals: those in failing fail at the
// strategy step; every portal takes a minute. It reports the peak concurrency.
func runFleet(t *testing.T, in dcrflow.FleetInput, failing []string) (dcrflow.FleetSummary, *workflow.ContinueAsNewError, int) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(OnboardFleet)
	env.RegisterWorkflow(OnboardPortal)
	running, peak := 0, 0
	env.OnWorkflow(OnboardPortal, mock.Anything, mock.Anything).Return(func(ctx workflow.Context, spec dcrflow.PortalSpec) (*dcrflow.OnboardResult, error) {
		running++
		peak = max(peak, running)
		defer func() { running-- }()
		if err := workflow.Sleep(ctx, time.Minute); err != nil {
			return nil, err
		}
		if slices.Contains(failing, spec.Key) {
			res := dcrflow.OnboardResult{Portal: spec.Key, Failure: &dcrflow.Failure{Step: StepStrategy, Message: "403 refused"},
				Compensated: []string{"delete scope x"}}
			return nil, temporal.NewNonRetryableApplicationError("failed", dcrflow.ErrTypeOnboardFailed, nil, res)
		}
		return &dcrflow.OnboardResult{Portal: spec.Key}, nil
	})
	env.ExecuteWorkflow(OnboardFleet, in)
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if errors.As(err, &can) {
		return dcrflow.FleetSummary{}, can, peak
	}
	if err != nil {
		t.Fatal(err)
	}
	var sum dcrflow.FleetSummary
	if err := env.GetWorkflowResult(&sum); err != nil {
		t.Fatal(err)
	}
	return sum, nil, peak
}

func TestOnboardFleet_BoundedConcurrencyContinueAsNewAndAnExactSummary(t *testing.T) {
	var portals []dcrflow.PortalSpec
	for i := range 11 {
		portals = append(portals, dcrflow.PortalSpec{Key: fmt.Sprintf("p%02d", i)})
	}
	failing := []string{"p03", "p07", "p10"}
	in := dcrflow.FleetInput{Name: "f", Portals: portals, MaxConcurrent: 3, ContinueAsNewAfter: 4}
	runs := 0
	for {
		runs++
		if runs > 5 {
			t.Fatal("the fleet never finished")
		}
		sum, can, peak := runFleet(t, in, failing)
		if peak > 3 || peak < 2 {
			t.Fatalf("run %d: peak concurrency %d, want at most (and about) 3", runs, peak)
		}
		if can == nil {
			if runs != 3 {
				t.Errorf("finished after %d runs, want 3 (4 + 4 + 3 portals)", runs)
			}
			if sum.Total != 11 || len(sum.Succeeded) != 8 || len(sum.Failed) != 3 {
				t.Fatalf("summary = %+v", sum)
			}
			for _, f := range sum.Failed {
				if !slices.Contains(failing, f.Portal) || f.Step != StepStrategy || f.Message != "403 refused" || !f.Compensated {
					t.Errorf("failure = %+v", f)
				}
			}
			seen := map[string]bool{}
			for _, p := range append(slices.Clone(sum.Succeeded), failing...) {
				if seen[p] {
					t.Errorf("%s counted twice", p)
				}
				seen[p] = true
			}
			if len(seen) != 11 {
				t.Errorf("%d distinct portals in the summary, want 11 (none lost)", len(seen))
			}
			return
		}
		in = continued(t, can)
		if len(in.Portals) != 11-4*runs || in.Summary.Total != 11 || len(in.Summary.Succeeded)+len(in.Summary.Failed) != 4*runs {
			t.Fatalf("continued with %d portals and summary %+v", len(in.Portals), in.Summary)
		}
	}
}

// continued decodes a continue-as-new's input, unpacking the portals it carries.
func continued(t *testing.T, can *workflow.ContinueAsNewError) dcrflow.FleetInput {
	t.Helper()
	var in dcrflow.FleetInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Portals) > 0 || len(in.Packed) == 0 {
		t.Fatalf("continue-as-new carried %d plain portals, packed %d bytes: want them packed", len(in.Portals), len(in.Packed))
	}
	specs, err := dcrflow.UnpackPortals(in.Packed)
	if err != nil {
		t.Fatal(err)
	}
	in.Portals, in.Packed = specs, nil
	return in
}

// 5,000 portals: the packed input stays far below the 2 MB payload limit, and across
// ten continue-as-new runs every portal is onboarded exactly once.
func TestOnboardFleet_FiveThousandPortalsFitAndNoneIsLost(t *testing.T) {
	var portals []dcrflow.PortalSpec
	for i := range 5000 {
		portals = append(portals, dcrflow.PortalSpec{Key: fmt.Sprintf("portal-%04d", i), Portal: "payments", AuthServer: "default",
			Scopes: []dcrflow.ScopeSpec{{Name: fmt.Sprintf("p%04d:read", i)}}, ClaimName: "client_id", DCRProvider: fmt.Sprintf("dcrflow-portal-%04d", i),
			DCRTokenName: "default", Strategy: dcrflow.StrategySpec{Name: fmt.Sprintf("dcrflow-portal-%04d", i), DisplayName: "Okta", AuthMethods: []string{"client_credentials", "bearer"}},
			APIs: []dcrflow.APISpec{{API: "payments-api", Visibility: "public"}}, Validate: true, OnFailure: dcrflow.OnFailureCompensate})
	}
	packed, err := dcrflow.PackPortals(portals)
	if err != nil {
		t.Fatal(err)
	}
	if len(packed) > 256<<10 {
		t.Fatalf("5,000 portals pack to %d bytes, want under Temporal's 256 KB warning", len(packed))
	}
	in := dcrflow.FleetInput{Name: "big", Packed: packed, MaxConcurrent: 50, ContinueAsNewAfter: 500}
	for runs := 1; ; runs++ {
		if runs > 11 {
			t.Fatal("the fleet never finished")
		}
		sum, can, _ := runFleet(t, in, nil)
		if can == nil {
			if runs != 10 || sum.Total != 5000 || len(sum.Succeeded) != 5000 || len(slices.Compact(slices.Sorted(slices.Values(sum.Succeeded)))) != 5000 {
				t.Fatalf("after %d runs: total %d, succeeded %d", runs, sum.Total, len(sum.Succeeded))
			}
			return
		}
		in = continued(t, can)
	}
}
