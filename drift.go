package dcrflow

import "strings"

// Day two: drift between the onboarding file, what the last onboarding recorded and
// what exists now (dcrflow check, the reconcile workflow on a schedule), and prune.

// SearchAttrDrift (Keyword) is set on a reconcile workflow: DriftNone when it found
// nothing, DriftFound when some portal drifted (DriftHealed when --heal fixed every
// drifted portal). Register it with the other search attributes.
const SearchAttrDrift = "DcrflowDrift"

// Values of SearchAttrDrift.
const (
	DriftNone    = "none"
	DriftFound   = "drift"
	DriftHealed  = "healed"
	DriftRunning = "checking"
)

// States of a resource (and of a portal) in a drift report.
const (
	DriftOK      = "ok"      // exists as the file declares it
	DriftDrifted = "drifted" // exists, differs (Fields say how)
	DriftMissing = "missing" // declared (or needed), does not exist
	DriftExtra   = "extra"   // dcrflow made it, the file no longer declares it
	// DriftUnknown is a portal whose check failed (Problems say why): not judged.
	DriftUnknown = "unknown"
)

// KindDCRTokenDrift is the kind of a drift item for a DCR token that no longer works
// (Okta revoked or expired it): Providers and Portals say what it breaks.
const KindDCRTokenDrift Kind = "dcr_token"

// DriftItem is one resource's state.
type DriftItem struct {
	Kind  Kind   `json:"kind"`
	Name  string `json:"name"`
	ID    string `json:"id,omitempty"`
	State string `json:"state"`
	// Fields say what differs (drifted) or why (extra, missing).
	Fields []string `json:"fields,omitempty"`
	// Providers and Portals are, for a dead DCR token (KindDCRTokenDrift), the DCR
	// providers that hold it and the portals they serve.
	Providers []string `json:"providers,omitempty"`
	Portals   []string `json:"portals,omitempty"`
}

// PortalDrift is one portal's drift report.
type PortalDrift struct {
	Portal string `json:"portal"`
	// State is DriftOK when every item is, else DriftDrifted (DriftMissing when the
	// portal was never onboarded: nothing recorded, nothing exists).
	State string      `json:"state"`
	Items []DriftItem `json:"items"`
	// Onboarded is false when no completed onboarding of the portal was found.
	Onboarded bool `json:"onboarded"`
	// Problems are lookups that failed (the portal could not be judged fully).
	Problems []string `json:"problems,omitempty"`
	// Heal says what the reconcile did about it with --heal ("" without).
	Heal string `json:"heal,omitempty"`
}

// Counts are the portal's items that are not ok, by kind.
func (p PortalDrift) Counts() map[Kind]int {
	out := map[Kind]int{}
	for _, it := range p.Items {
		if it.State != DriftOK {
			out[it.Kind]++
		}
	}
	return out
}

// CheckInput is a read-only drift check of many portals (the CheckPortals workflow).
type CheckInput struct {
	Name          string `json:"name"`
	Packed        []byte `json:"packed"` // PackPortals
	MaxConcurrent int    `json:"max_concurrent,omitempty"`
}

// CheckWorkflowID is the id of one `dcrflow check`.
func CheckWorkflowID(name string) string { return "dcrflow-check-" + name }

// ReconcileInput is a reconcile over a fleet (the Reconcile workflow, started by a
// schedule). The file arrives packed, names only: no secret, no path.
type ReconcileInput struct {
	Name   string `json:"name"`
	Packed []byte `json:"packed"` // PackPortals of the whole file
	// Heal re-runs onboarding of drifted and missing portals (OnboardPortal child
	// workflows, attaching to a run already going), after putting back what dcrflow
	// made and someone changed. It never deletes what dcrflow did not make.
	Heal          bool `json:"heal,omitempty"`
	MaxConcurrent int  `json:"max_concurrent,omitempty"`
	// ContinueAsNewAfter bounds the portals one run checks before it continues as
	// new (default 500): the history stays small whatever the fleet's size.
	ContinueAsNewAfter int `json:"continue_as_new_after,omitempty"`
	// Next is the first portal not yet checked (set by continue-as-new).
	Next int `json:"next,omitempty"`
	// UpsertSearchAttributes: set DcrflowDrift (the namespace has it registered).
	UpsertSearchAttributes bool `json:"upsert_search_attributes,omitempty"`
	// Summary carries what earlier runs of this reconcile found.
	Summary ReconcileSummary `json:"summary"`
}

// MaxReconcileKept is how many drifted portals a reconcile's summary keeps (the
// first ones); the counts cover every portal.
const MaxReconcileKept = 100

// ReconcileSummary is how a reconcile ended. Its size does not grow with the fleet's.
type ReconcileSummary struct {
	Name    string `json:"name"`
	Total   int    `json:"total"`
	Checked int    `json:"checked"`
	OK      int    `json:"ok"`
	Drifted int    `json:"drifted"`
	// Unknown counts the portals whose check failed (not judged).
	Unknown int `json:"unknown,omitempty"`
	// Resources counts the resources not ok, by kind (dcrflow_drift_resources{kind}).
	Resources map[string]int `json:"resources,omitempty"`
	Healed    int            `json:"healed,omitempty"`
	// HealFailed counts the portals --heal could not fix (Heal says why).
	HealFailed int `json:"heal_failed,omitempty"`
	// Portals are the first MaxReconcileKept portals not ok.
	Portals []PortalDrift `json:"portals,omitempty"`
	// Tokens are dead DCR tokens (KindDCRTokenDrift items), each naming what it breaks.
	Tokens []DriftItem `json:"tokens,omitempty"`
}

// Found tells whether anything drifted.
func (s ReconcileSummary) Found() bool { return s.Drifted > 0 || len(s.Tokens) > 0 }

// ReconcileWorkflowID is the workflow id of a fleet's reconcile (a schedule appends
// its own timestamp to it).
func ReconcileWorkflowID(name string) string { return "dcrflow-reconcile-" + name }

// ScheduleID is the id of a fleet's reconcile schedule.
func ScheduleID(name string) string { return "dcrflow-schedule-" + name }

// Add counts one portal's drift into the summary (keeping the first
// MaxReconcileKept portals not ok).
func (s *ReconcileSummary) Add(d PortalDrift) {
	s.Checked++
	switch d.State {
	case DriftOK:
		s.OK++
		return
	case DriftUnknown:
		s.Unknown++
	default:
		s.Drifted++
	}
	if s.Resources == nil {
		s.Resources = map[string]int{}
	}
	for k, n := range d.Counts() {
		s.Resources[string(k)] += n
	}
	switch {
	case d.Heal == "healed":
		s.Healed++
	case d.Heal != "" && !strings.HasPrefix(d.Heal, "nothing"):
		s.HealFailed++
	}
	if len(s.Portals) < MaxReconcileKept {
		s.Portals = append(s.Portals, d)
	}
}

// MetricDriftResources is the gauge of the resources a fleet's last reconcile found
// not ok (drifted, missing, extra), by kind; the reconcile workflow sets it.
const MetricDriftResources = "dcrflow_drift_resources"
