package dcrflow

// PlanAction is what a run would do to one resource (the dry run, `dcrflow plan`).
type PlanAction string

// Plan actions.
const (
	PlanCreate    PlanAction = "create"    // missing: the run creates it
	PlanAdopt     PlanAction = "adopt"     // exists and matches: the run uses it, never deletes it
	PlanConflict  PlanAction = "conflict"  // exists and differs: the run would fail here (Diffs say how)
	PlanPublish   PlanAction = "publish"   // the API is not on the portal yet
	PlanRepublish PlanAction = "republish" // the API is on the portal with other settings (Diffs)
	PlanUnchanged PlanAction = "unchanged" // the publication already is as asked
	PlanMissing   PlanAction = "missing"   // something the run needs is absent and it would not create it
)

// PlanItem is what a run would do to one resource. Kind and Name are those of the
// Resource the run then reports.
type PlanItem struct {
	Kind   Kind       `json:"kind"`
	Name   string     `json:"name"`
	ID     string     `json:"id,omitempty"` // of the resource found
	Action PlanAction `json:"action"`
	Diffs  []string   `json:"diffs,omitempty"`
	// ByPortal names an earlier portal of the same plan whose run creates (or
	// publishes) this resource first; Action is what this portal's run does then.
	ByPortal string `json:"by_portal,omitempty"`
}

// RunActionFor is the Resource.Action a run reports for a plan item's action
// ("" for conflict and missing: the run fails there).
func RunActionFor(planAction PlanAction) Action {
	switch planAction {
	case PlanCreate:
		return ActionCreated
	case PlanAdopt:
		return ActionAdopted
	case PlanPublish:
		return ActionPublished
	case PlanRepublish:
		return ActionUpdated
	case PlanUnchanged:
		return ActionUnchanged
	}
	return ""
}

// PlanInput is a dry run of many portals (the PlanPortals workflow).
type PlanInput struct {
	Name   string `json:"name"`
	Packed []byte `json:"packed"` // the portals, as PackPortals packs them
	// MaxConcurrent bounds the portals looked up at once (default 10).
	MaxConcurrent int `json:"max_concurrent,omitempty"`
}

// PortalPlan is the dry run of one portal: no write was made to find it.
type PortalPlan struct {
	Portal       string     `json:"portal"`
	AuthServerID string     `json:"auth_server_id,omitempty"`
	Issuer       string     `json:"issuer,omitempty"`
	PortalID     string     `json:"portal_id,omitempty"`
	Items        []PlanItem `json:"items"`
	// Problems are why the run would fail (conflicts, missing things, a failed lookup).
	Problems []string `json:"problems,omitempty"`
}

// PlanWorkflowID is the id of one dry run.
func PlanWorkflowID(name string) string { return "dcrflow-plan-" + name }
