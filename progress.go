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

// Outcome is where a portal's run stands or how it ended, as the DcrflowOutcome
// search attribute and progress show it.
type Outcome string

// Outcomes.
const (
	OutcomeRunning     Outcome = "running"
	OutcomeHeld        Outcome = "held"
	OutcomeSucceeded   Outcome = "succeeded"
	OutcomeCompensated Outcome = "compensated" // failed, and everything it built was undone
	OutcomeFailed      Outcome = "failed"      // failed, and some undo failed too
	OutcomeCanceled    Outcome = "canceled"
)

// SignalDecision is the signal an operator sends to a held run (from the Temporal UI,
// `temporal workflow signal --name decision --input '"retry"'`, or the starter), with
// DecisionRetry or DecisionAbandon as its payload.
const SignalDecision = "decision"

// Decision is an operator's answer to a held run.
type Decision string

// Operator decisions for a held run.
const (
	DecisionRetry   Decision = "retry"   // run the failed step again (e.g. after fixing a permission)
	DecisionAbandon Decision = "abandon" // undo what the run built and end
)

// QueryProgress returns a run's Progress.
const QueryProgress = "progress"

// Progress is where a run stands.
type Progress struct {
	Portal    string     `json:"portal"`
	Outcome   Outcome    `json:"outcome"`
	Step      string     `json:"step"`           // the step running, held or failed
	Held      *Failure   `json:"held,omitempty"` // set while waiting for a decision
	Resources []Resource `json:"resources"`
	// AuthServerID is the Okta authorization server the run resolved ("" before step 1).
	AuthServerID string `json:"auth_server_id,omitempty"`
}

// OnboardWorkflowID is the stable workflow id of a portal's onboarding, so starting it
// again while it runs attaches to the running one.
func OnboardWorkflowID(portalKey string) string { return "dcrflow-onboard-" + portalKey }
