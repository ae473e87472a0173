package dcrflow

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"time"
)

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
	// StartInterval is the least time between two portals' starts (0: none). When an
	// org's limits bind, portals started all at once share every budget from their
	// first step, and the tightest bucket (DCR, whose calls come late in a portal)
	// waits idle until one of them gets that far; started a little apart, the first
	// ones reach it in a second or two. Only the first starts are held back: later
	// ones wait for a place anyway.
	StartInterval time.Duration `json:"start_interval,omitempty"`
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
