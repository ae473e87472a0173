package workflows

import (
	"slices"
	"sort"

	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
)

// driftKinds are the kinds the drift gauge always reports (0 when none drifted), so
// a kind that was fixed drops to 0 instead of keeping its last value.
var driftKinds = []string{"scope", "claim", "access_policy", "dcr_provider", "auth_strategy", "publication",
	"auth_server", "portal", "api", "dcr_token"}

// setDriftGauge sets dcrflow_drift_resources{kind} from a reconcile's counts. The
// worker that runs the reconcile reports it, whatever process started the check; the
// handler of workflow.GetMetricsHandler records nothing while replaying.
func setDriftGauge(ctx workflow.Context, counts map[string]int) {
	kinds := slices.Clone(driftKinds)
	for _, k := range sortedKeys(counts) {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	h := workflow.GetMetricsHandler(ctx)
	for _, k := range kinds {
		h.WithTags(map[string]string{"kind": k}).Gauge(dcrflow.MetricDriftResources).Update(float64(counts[k]))
	}
}

// sortedKeys are m's keys in order: ranging over a map in workflow code is safe only
// when what it collects is sorted before use (workflowcheck.yaml says so).
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
