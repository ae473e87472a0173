package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
)

// countOutcome counts one portal's outcome as dcrflow_portals_total{outcome}. The
// handler of workflow.GetMetricsHandler records nothing while replaying, so a portal
// is counted once however often its history is replayed; its own tags (namespace,
// task_queue, workflow_type) come along. Only workflow code counts it, as Prometheus
// wants one label set per name.
func countOutcome(ctx workflow.Context, outcome dcrflow.Outcome) {
	if outcome == "" {
		outcome = "unknown"
	}
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"outcome": string(outcome)}).Counter(dcrflow.MetricPortalsTotal).Inc(1)
}
