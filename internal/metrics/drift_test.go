package metrics

import (
	"testing"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

func driftWorkflow(ctx workflow.Context, counts map[string]int) error {
	DriftResources(workflow.GetMetricsHandler(ctx), counts)
	return nil
}

// DriftResources sets one gauge per kind from a workflow; every known kind is set,
// so a kind fixed since drops to 0, and an unknown kind still shows.
func TestDriftResources_GaugePerKindFromWorkflow(t *testing.T) {
	m := New(nil)
	var s testsuite.WorkflowTestSuite
	s.SetMetricsHandler(m.Handler())
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(driftWorkflow)
	env.ExecuteWorkflow(driftWorkflow, map[string]int{"scope": 2, "auth_strategy": 1, "weird": 3})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	text := scrape(t, m)
	mustValue(t, text, DriftResourcesName, map[string]string{"kind": "scope"}, 2)
	mustValue(t, text, DriftResourcesName, map[string]string{"kind": "auth_strategy"}, 1)
	mustValue(t, text, DriftResourcesName, map[string]string{"kind": "publication"}, 0)
	mustValue(t, text, DriftResourcesName, map[string]string{"kind": "weird"}, 3)
	DriftResources(nil, map[string]int{"scope": 1}) // a nil handler records nothing
}
