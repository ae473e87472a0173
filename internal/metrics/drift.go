package metrics

import (
	"slices"
	"sort"

	"go.temporal.io/sdk/client"
)

// DriftResourcesName is the gauge of the resources a fleet's last reconcile found not
// ok (drifted, missing, extra), by kind.
const DriftResourcesName = "dcrflow_drift_resources"

// DriftKinds are the kinds the gauge always reports (0 when none drifted), so a kind
// that was fixed drops to 0 instead of keeping its last value.
var DriftKinds = []string{"scope", "claim", "access_policy", "dcr_provider", "auth_strategy", "publication",
	"auth_server", "portal", "api", "dcr_token"}

// DriftResources sets dcrflow_drift_resources{kind} from a reconcile's counts. Call
// it from the reconcile workflow with workflow.GetMetricsHandler(ctx): the worker
// that runs the reconcile reports it, whatever process started the check, and a
// replay records nothing. A nil h records nothing.
func DriftResources(h client.MetricsHandler, counts map[string]int) {
	if h == nil {
		return
	}
	kinds := append([]string(nil), DriftKinds...)
	for k := range counts {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		h.WithTags(map[string]string{"kind": k}).Gauge(DriftResourcesName).Update(float64(counts[k]))
	}
}
