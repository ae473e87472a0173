package workflows

import (
	"testing"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/metrics"
	"github.com/dcrflow/dcrflow/internal/metrics/promtext"
)

func driftWorkflow(ctx workflow.Context, counts map[string]int) error {
	setDriftGauge(ctx, counts)
	return nil
}

// The gauge is set per kind from workflow code; every known kind is set, so a kind
// fixed since drops to 0, and an unknown kind still shows.
func TestSetDriftGauge_OnePerKindFromWorkflow(t *testing.T) {
	m := metrics.New(nil)
	var s testsuite.WorkflowTestSuite
	s.SetMetricsHandler(m.Handler())
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(driftWorkflow)
	env.ExecuteWorkflow(driftWorkflow, map[string]int{"scope": 2, "auth_strategy": 1, "weird": 3})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	text := scrapeClosed(t, m)
	for kind, want := range map[string]float64{"scope": 2, "auth_strategy": 1, "publication": 0, "weird": 3} {
		labels := map[string]string{"kind": kind}
		if got, ok := promtext.Value(text, dcrflow.MetricDriftResources, labels); !ok || got != want {
			t.Errorf("%v (found %v), want %v: %s", got, ok, want, promtext.Describe(text, dcrflow.MetricDriftResources, labels))
		}
	}
}
