// Package dcrflow is the contract shared by the workflows, the activities, the worker
// and the starter: what a portal's onboarding asks for and what it reports. It imports
// no SDK, so every part can depend on it.
package dcrflow

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strings"
)

// TaskQueue is the default Temporal task queue of the worker.
const TaskQueue = "dcrflow"

// PortalSpec is one portal's onboarding, as the onboarding file describes it with its
// defaults applied. It carries names only: DCRTokenName names a secret that only the
// worker can resolve.
type PortalSpec struct {
	Key          string       `json:"key"`         // stable identity of the portal in dcrflow (workflow id)
	Portal       string       `json:"portal"`      // Konnect portal name or id
	AuthServer   string       `json:"auth_server"` // Okta authorization server id or name
	Scopes       []ScopeSpec  `json:"scopes"`
	ClaimName    string       `json:"claim_name"`
	DCRProvider  string       `json:"dcr_provider"`   // Konnect DCR provider name
	DCRTokenName string       `json:"dcr_token_name"` // which of the worker's DCR tokens
	Strategy     StrategySpec `json:"strategy"`
	APIs         []APISpec    `json:"apis"`
	Validate     bool         `json:"validate"`
	// ValidateVia says how step 8 registers its throw-away client: ValidateViaOkta
	// (dcrflow calls Okta DCR itself; the default) or ValidateViaKonnect (a Konnect
	// application is created, so Konnect registers the client through the provider).
	ValidateVia string `json:"validate_via,omitempty"`
	// ValidationOwner owns the throw-away Konnect application (ValidateViaKonnect).
	ValidationOwner *AppOwner `json:"validation_owner,omitempty"`
	// AccessPolicy is AccessPolicyCheck (the default: fail early when no access
	// policy lets client_credentials get the scopes) or AccessPolicyEnsure (create a
	// dcrflow-owned policy and rule when none does).
	AccessPolicy string `json:"access_policy,omitempty"`
	// OnFailure says what a permanent failure does: OnFailureCompensate (undo and
	// fail) or OnFailureHold (keep what was built and wait for an operator's decision).
	OnFailure string `json:"on_failure"`
	// Labels go on the Konnect resources dcrflow creates, beside its ownership labels.
	Labels map[string]string `json:"labels,omitempty"`
	// UpsertSearchAttributes is set by the launcher when the namespace has dcrflow's
	// search attributes registered; upserting unregistered ones stalls a workflow.
	UpsertSearchAttributes bool `json:"upsert_search_attributes,omitempty"`
}

// How step 8 registers its throw-away client.
const (
	ValidateViaOkta    = "okta"
	ValidateViaKonnect = "konnect"
)

// AppOwner is a Konnect portal developer or team that may own applications.
type AppOwner struct {
	Type string `json:"type"` // "developer" or "team"
	ID   string `json:"id"`
}

// Access policy modes (step 4).
const (
	AccessPolicyCheck  = "check"
	AccessPolicyEnsure = "ensure"
)

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

// What a portal's run does when a step fails for good.
const (
	OnFailureCompensate = "compensate"
	OnFailureHold       = "hold"
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

// ScopeSpec is a custom scope on the authorization server.
type ScopeSpec struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// StrategySpec is the Konnect application auth strategy.
type StrategySpec struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	AuthMethods []string `json:"auth_methods"`
}

// APISpec is an API to publish on the portal with the strategy.
type APISpec struct {
	API         string `json:"api"`        // Konnect API name or id
	Visibility  string `json:"visibility"` // public or private
	AutoApprove bool   `json:"auto_approve"`
}

// DCRAuthMethods are the auth methods a DCR auth strategy may use.
var DCRAuthMethods = []string{"client_credentials", "bearer", "session"}

// Resource actions recorded in a result.
const (
	ActionCreated   = "created"   // this run created it; compensation deletes it
	ActionAdopted   = "adopted"   // it existed and matched; never deleted
	ActionPublished = "published" // the API was not published on the portal before
	ActionUpdated   = "updated"   // the publication existed and was changed; compensation restores it
	ActionUnchanged = "unchanged" // the publication already was as asked

	// Offboarding.
	ActionDeleted     = "deleted"     // dcrflow owned it and nothing else used it
	ActionUnpublished = "unpublished" // the publication was dcrflow's; it is gone
	ActionRestored    = "restored"    // the publication is back as it was before onboarding
	ActionKept        = "kept"        // not dcrflow's, or still used: untouched (see Reason)
	ActionAbsent      = "absent"      // nothing there (already gone): nothing to do
)

// Resource kinds.
const (
	KindScope        = "scope"
	KindClaim        = "claim"
	KindDCRProvider  = "dcr_provider"
	KindAuthStrategy = "auth_strategy"
	KindPublication  = "publication"
	KindAccessPolicy = "access_policy"
)

// Resource is what one step did to one resource.
type Resource struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	ID     string `json:"id"`
	Action string `json:"action"`
	// Reason says why offboarding kept it, or, in a plan, what differs.
	Reason string `json:"reason,omitempty"`
	// Previous is, for a publication the run changed (ActionUpdated), its settings
	// before the change: what offboarding restores.
	Previous *PublicationSettings `json:"previous,omitempty"`
}

// PublicationSettings are an API publication's settings on a portal.
type PublicationSettings struct {
	AuthStrategyIDs []string `json:"auth_strategy_ids"`
	Visibility      string   `json:"visibility"`
	AutoApprove     bool     `json:"auto_approve"`
}

// Validation is the outcome of the end-to-end check (step 8).
type Validation struct {
	Passed   bool     `json:"passed"`
	ClientID string   `json:"client_id,omitempty"` // the throw-away client, deleted afterwards
	Scopes   []string `json:"scopes,omitempty"`    // scopes granted in the token
	Problems []string `json:"problems,omitempty"`  // why it failed
	// Konnect is the check through a throw-away Konnect application (validate: konnect).
	Konnect *Validation `json:"konnect,omitempty"`
}

// Failure names the step that failed for good and the server's message.
type Failure struct {
	Step    string `json:"step"`
	Message string `json:"message"`
}

// OnboardResult reports one portal's onboarding.
type OnboardResult struct {
	Portal       string      `json:"portal"`
	AuthServerID string      `json:"auth_server_id,omitempty"`
	Issuer       string      `json:"issuer,omitempty"`
	PortalID     string      `json:"portal_id,omitempty"`
	Resources    []Resource  `json:"resources"`
	Validation   *Validation `json:"validation,omitempty"`
	Failure      *Failure    `json:"failure,omitempty"`
	// Compensated lists what was undone after a failure, in order.
	Compensated []string `json:"compensated,omitempty"`
	// CompensationErrors lists undo steps that failed: what may be left behind.
	CompensationErrors []string `json:"compensation_errors,omitempty"`
}

// Error types carried by Temporal application errors, so workflows and the starter
// branch on the kind of failure, never on message text.
const (
	ErrTypeNotFound     = "NotFound"     // a named resource does not exist
	ErrTypeConflict     = "Conflict"     // a resource exists and does not match
	ErrTypeInvalid      = "Invalid"      // the server refused the request (400)
	ErrTypeUnauthorized = "Unauthorized" // 401/403: a token is wrong or lacks rights
	ErrTypeRateLimited  = "RateLimited"  // 429: retried after the server's reset
	ErrTypeTransient    = "Transient"    // 5xx, dropped connection, timeout: retried
	// ErrTypeClient is a refusal that will repeat without any answer from a server:
	// a call refused before it was sent (an empty id), an answer that cannot be used
	// (a body that does not decode, pages that never end). Not retried.
	ErrTypeClient        = "Client"
	ErrTypeConfig        = "Config"        // the worker lacks something the spec names
	ErrTypeValidation    = "Validation"    // the end-to-end check failed
	ErrTypeAccessPolicy  = "AccessPolicy"  // no access policy lets client_credentials get the scopes
	ErrTypeOnboardFailed = "OnboardFailed" // the workflow's own failure; details hold the OnboardResult
	// ErrTypeOffboardFailed is OffboardPortal's own failure; details hold the
	// OffboardResult so far (running it again goes on from there).
	ErrTypeOffboardFailed = "OffboardFailed"
)

// OnboardWorkflowID is the stable workflow id of a portal's onboarding, so starting it
// again while it runs attaches to the running one.
func OnboardWorkflowID(portalKey string) string { return "dcrflow-onboard-" + portalKey }

// DCRTokenName is the one normal form of a DCR token's name, used wherever a name
// is compared: the onboarding file's dcr_token, the worker's dcr_tokens keys and
// its DCRFLOW_DCR_TOKEN_<NAME> variables. Lowercase, '_' as '-': "Partners_EU",
// "partners-eu" and DCRFLOW_DCR_TOKEN_PARTNERS_EU all name "partners-eu".
func DCRTokenName(name string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "_", "-")
}

// DCRTokenEnv is the environment variable that gives a worker the DCR token name.
func DCRTokenEnv(name string) string {
	return "DCRFLOW_DCR_TOKEN_" + strings.ToUpper(strings.ReplaceAll(DCRTokenName(name), "-", "_"))
}

// WorkerDeskID is the long-lived workflow of a task queue that answers the
// starter's preflight (UpdateWorkerInfo).
func WorkerDeskID(taskQueue string) string { return "dcrflow-worker-desk-" + taskQueue }

// UpdateWorkerInfo asks the worker desk for a WorkerInfo.
const UpdateWorkerInfo = "worker-info"

// WorkerInfo is what a worker tells the starter before a run: names only, never values.
type WorkerInfo struct {
	DCRTokenNames []string `json:"dcr_token_names"`
}

// FleetInput is a fleet's onboarding: many portals as child workflows.
type FleetInput struct {
	Name    string       `json:"name"`
	Portals []PortalSpec `json:"portals,omitempty"` // those not started yet
	// Packed holds the portals instead, gzipped JSON (see PackPortals). With Chunks
	// set it holds only the first chunk (or, after continue-as-new, what is left of
	// the chunk being started).
	Packed []byte `json:"packed,omitempty"`
	// Chunks is how many FleetChunk signals (SignalFleetChunk) carry the portals
	// after Packed, chunk 1 to Chunks-1 (chunk 0 is Packed): no payload grows with the
	// fleet's size. 0: Packed holds every portal (fleets started before chunks).
	Chunks int `json:"chunks,omitempty"`
	// NextChunk is the first chunk not yet taken (set by continue-as-new).
	NextChunk int `json:"next_chunk,omitempty"`
	// ChunkRun is the run of this fleet whose history holds the chunk signals (its
	// first run); set by continue-as-new, so that later runs read chunks from there.
	ChunkRun string `json:"chunk_run,omitempty"`
	// TokenNames are the DCR token names the portals use: the fleet's first step asks
	// a worker whether it holds them all, and refuses the fleet, starting nothing,
	// when it does not (QueryPreflight tells the starter).
	TokenNames []string `json:"token_names,omitempty"`
	// MaxConcurrent bounds the portals running at once (default 10).
	MaxConcurrent int `json:"max_concurrent,omitempty"`
	// ContinueAsNewAfter bounds the children one run starts before it continues as
	// new, which keeps each run's history small (default 500).
	ContinueAsNewAfter int `json:"continue_as_new_after,omitempty"`
	// Summary carries what earlier runs of this fleet finished.
	Summary FleetSummary `json:"summary"`
}

// SignalFleetChunk carries one FleetChunk of a fleet's portals.
const SignalFleetChunk = "portals"

// FleetChunk is one chunk of a fleet's portals, packed (PackPortals).
type FleetChunk struct {
	Index  int    `json:"index"`
	Packed []byte `json:"packed"`
}

// Bounds of what a fleet keeps and shows, whatever its size.
const (
	// MaxFleetFailures is how many failures a fleet keeps (its first ones), in its
	// summary and for QueryFleetFailures; the counts cover every portal, and the
	// search attributes list every failed portal.
	MaxFleetFailures = 100
	// MaxFailureMessage bounds a kept failure's message, in bytes.
	MaxFailureMessage = 500
	// MaxFailuresPage bounds one page of QueryFleetFailures.
	MaxFailuresPage = 100
)

// FleetSummary is how a fleet ended: counts for every portal, the first failures.
// Its size does not grow with the fleet's.
type FleetSummary struct {
	Total     int `json:"total"`
	Succeeded int `json:"succeeded_count"`
	Failed    int `json:"failed_count"`
	// Attached counts the portals that were already running when the fleet came to
	// them: the fleet waited for that run's outcome (counted in Succeeded or Failed).
	Attached int `json:"attached,omitempty"`
	// Failures are the first MaxFleetFailures failures, in the order they ended.
	Failures []FleetFailure `json:"failures,omitempty"`
	// SucceededKeys and FailedList are how fleets started before counts carried
	// their summary (every portal by name); a run reading them folds them into the
	// counts.
	SucceededKeys []string       `json:"succeeded,omitempty"`
	FailedList    []FleetFailure `json:"failed,omitempty"`
}

// Done is how many portals have ended.
func (s FleetSummary) Done() int { return s.Succeeded + s.Failed }

// FleetFailure is one portal that failed, where, why, and whether it was undone.
type FleetFailure struct {
	Portal      string   `json:"portal"`
	Step        string   `json:"step,omitempty"`
	Message     string   `json:"message"`
	Compensated bool     `json:"compensated"`    // everything it built was undone
	Left        []string `json:"left,omitempty"` // undo steps that failed
	Attached    bool     `json:"attached,omitempty"`
}

// FleetProgress is the fleet's `progress` query: counts and who is running.
type FleetProgress struct {
	Name      string   `json:"name"`
	Total     int      `json:"total"`
	Pending   int      `json:"pending"`
	Running   []string `json:"running"`
	Succeeded int      `json:"succeeded"`
	Failed    int      `json:"failed_count"`
	Attached  int      `json:"attached,omitempty"`
	// Kept is how many failures QueryFleetFailures can page through.
	Kept int `json:"kept"`
	// ChunksMissing is how many chunks of portals the fleet still waits for (a
	// starter stopped while sending them: starting the file again sends them).
	ChunksMissing int `json:"chunks_missing,omitempty"`
	// Preflight is the answer of the fleet's first step, once it came.
	Preflight *Preflight `json:"preflight,omitempty"`
}

// Done is how many portals have ended.
func (p FleetProgress) Done() int { return p.Succeeded + p.Failed }

// QueryFleetFailures pages through a fleet's kept failures: arguments offset and
// limit (at most MaxFailuresPage), answer a FailuresPage.
const QueryFleetFailures = "failures"

// FailuresPage is one page of a fleet's kept failures.
type FailuresPage struct {
	Failed   int            `json:"failed"` // every failed portal so far
	Kept     int            `json:"kept"`   // those that can be paged through
	Offset   int            `json:"offset"`
	Failures []FleetFailure `json:"failures"`
}

// Preflight is what a fleet's first step found: the worker's DCR token names and
// those of the file it lacks. Missing non-empty: the fleet refused to start.
type Preflight struct {
	Worker  WorkerInfo `json:"worker"`
	Missing []string   `json:"missing,omitempty"`
}

// FailedPortalsQuery is the visibility query listing every failed portal
// (DcrflowOutcome), for the UI or `temporal workflow list --query`.
const FailedPortalsQuery = "WorkflowType = 'OnboardPortal' AND (" + SearchAttrOutcome + " = '" + OutcomeCompensated + "' OR " + SearchAttrOutcome + " = '" + OutcomeFailed + "')"

// FleetFailedQuery is the visibility query listing every portal of one fleet that
// failed: its children whose run failed (system search attributes only, so it works
// without dcrflow's). Portals the fleet attached to are not its children: their own
// ids find them.
func FleetFailedQuery(fleet string) string {
	return "ParentWorkflowId = '" + FleetWorkflowID(fleet) + "' AND ExecutionStatus = 'Failed'"
}

// FleetWorkflowID is the stable id of a fleet's workflow.
func FleetWorkflowID(name string) string { return "dcrflow-fleet-" + name }

// PackPortals gzips specs for FleetInput.Packed.
func PackPortals(specs []PortalSpec) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(specs); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// UnpackPortals reverses PackPortals.
func UnpackPortals(packed []byte) ([]PortalSpec, error) {
	zr, err := gzip.NewReader(bytes.NewReader(packed))
	if err != nil {
		return nil, err
	}
	var specs []PortalSpec
	if err := json.NewDecoder(zr).Decode(&specs); err != nil {
		return nil, err
	}
	return specs, nil
}

// Plan actions: what a run would do to one resource (the dry run, `starter plan`).
const (
	PlanCreate    = "create"    // missing: the run creates it
	PlanAdopt     = "adopt"     // exists and matches: the run uses it, never deletes it
	PlanConflict  = "conflict"  // exists and differs: the run would fail here (Diffs say how)
	PlanPublish   = "publish"   // the API is not on the portal yet
	PlanRepublish = "republish" // the API is on the portal with other settings (Diffs)
	PlanUnchanged = "unchanged" // the publication already is as asked
	PlanMissing   = "missing"   // something the run needs is absent and it would not create it
)

// PlanItem is what a run would do to one resource. Kind and Name are those of the
// Resource the run then reports.
type PlanItem struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	ID     string   `json:"id,omitempty"` // of the resource found
	Action string   `json:"action"`
	Diffs  []string `json:"diffs,omitempty"`
	// ByPortal names an earlier portal of the same plan whose run creates (or
	// publishes) this resource first; Action is what this portal's run does then.
	ByPortal string `json:"by_portal,omitempty"`
}

// RunActionFor is the Resource.Action a run reports for a plan item's action
// ("" for conflict and missing: the run fails there).
func RunActionFor(planAction string) string {
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

// OffboardResult reports a portal's offboarding: what was removed, restored or kept.
type OffboardResult struct {
	Portal    string     `json:"portal"`
	Resources []Resource `json:"resources"`
	Failure   *Failure   `json:"failure,omitempty"`
}

// OffboardInput is one portal's offboarding (the OffboardPortal workflow).
type OffboardInput struct {
	Spec PortalSpec `json:"spec"`
	// Onboarded are the results of the portal's completed onboarding runs since its
	// last offboarding, newest first, as the launcher read them from Temporal: what
	// each run adopted (never deleted) and what each publication was before. Empty
	// when none could be read: dcrflow's ownership marks alone decide then.
	Onboarded []OnboardResult `json:"onboarded,omitempty"`
	// CreatedByOthers are resources that the onboarding of other portals offboarded
	// together with this one created (the claim they share): this portal's runs may
	// have adopted them, yet they are dcrflow's.
	CreatedByOthers []Resource `json:"created_by_others,omitempty"`
}

// OffboardWorkflowID is the stable id of a portal's offboarding.
func OffboardWorkflowID(portalKey string) string { return "dcrflow-offboard-" + portalKey }

// PlanWorkflowID is the id of one dry run.
func PlanWorkflowID(name string) string { return "dcrflow-plan-" + name }
