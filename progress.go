package dcrflow

// Custom search attributes (Keyword) that make "all failed portals" one filter in the
// Temporal UI. Register them on the namespace (make run and the tests do; see README).
const (
	SearchAttrPortal  = "DcrflowPortal"
	SearchAttrStep    = "DcrflowStep"
	SearchAttrOutcome = "DcrflowOutcome"
)

// MetricPortalsTotal counts portals by outcome (a Prometheus counter the workflows
// increment through the SDK's metrics handler).
const MetricPortalsTotal = "dcrflow_portals_total"

// Outcomes, as the DcrflowOutcome search attribute and progress show them.
const (
	OutcomeRunning     = "running"
	OutcomeHeld        = "held"
	OutcomeSucceeded   = "succeeded"
	OutcomeCompensated = "compensated" // failed, and everything it built was undone
	OutcomeFailed      = "failed"      // failed, and some undo failed too
	OutcomeCanceled    = "canceled"
)

// SignalDecision is the signal an operator sends to a held run (from the Temporal UI,
// `temporal workflow signal --name decision --input '"retry"'`, or the starter), with
// DecisionRetry or DecisionAbandon as its payload.
const SignalDecision = "decision"

// Operator decisions for a held run.
const (
	DecisionRetry   = "retry"   // run the failed step again (e.g. after fixing a permission)
	DecisionAbandon = "abandon" // undo what the run built and end
)

// QueryProgress returns a run's Progress.
const QueryProgress = "progress"

// Progress is where a run stands.
type Progress struct {
	Portal    string     `json:"portal"`
	Outcome   string     `json:"outcome"`
	Step      string     `json:"step"`           // the step running, held or failed
	Held      *Failure   `json:"held,omitempty"` // set while waiting for a decision
	Resources []Resource `json:"resources"`
	// AuthServerID is the Okta authorization server the run resolved ("" before step 1).
	AuthServerID string `json:"auth_server_id,omitempty"`
}

// OnboardWorkflowID is the stable workflow id of a portal's onboarding, so starting it
// again while it runs attaches to the running one.
func OnboardWorkflowID(portalKey string) string { return "dcrflow-onboard-" + portalKey }
