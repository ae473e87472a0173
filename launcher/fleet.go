package launcher

import (
	"context"
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/workflows"
)

// SearchAttributesRegistered tells whether the namespace has dcrflow's custom search
// attributes, so that workflows may set them.
func SearchAttributesRegistered(ctx context.Context, c client.Client, namespace string) (bool, error) {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return false, fmt.Errorf("list search attributes: %w", err)
	}
	for _, name := range []string{dcrflow.SearchAttrPortal, dcrflow.SearchAttrStep, dcrflow.SearchAttrOutcome} {
		if resp.GetCustomAttributes()[name] != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
			return false, nil
		}
	}
	return true, nil
}

// WithSearchAttributes marks every spec to set the search attributes.
func WithSearchAttributes(specs []dcrflow.PortalSpec, on bool) []dcrflow.PortalSpec {
	out := make([]dcrflow.PortalSpec, len(specs))
	for i, s := range specs {
		s.UpsertSearchAttributes = on
		out[i] = s
	}
	return out
}

// Fleet is a started (or attached) fleet.
type Fleet struct {
	Name       string
	WorkflowID string
	RunID      string
	// Started is false when the fleet was running already: this call attached to it.
	Started bool
	handle  client.WorkflowRun
	c       client.Client
}

// Chunks of a fleet's portals: at most ChunkPortals portals, split again while one
// packs to more than MaxChunkBytes. No payload of the fleet grows with its size.
const (
	ChunkPortals  = 500
	MaxChunkBytes = 128 << 10
)

// packChunks packs specs into chunks (at least one, maybe empty).
func packChunks(specs []dcrflow.PortalSpec) ([][]byte, error) {
	if len(specs) > ChunkPortals {
		var out [][]byte
		for lo := 0; lo < len(specs); lo += ChunkPortals {
			part, err := packChunks(specs[lo:min(lo+ChunkPortals, len(specs))])
			if err != nil {
				return nil, err
			}
			out = append(out, part...)
		}
		return out, nil
	}
	packed, err := dcrflow.PackPortals(specs)
	if err != nil {
		return nil, err
	}
	if len(packed) <= MaxChunkBytes || len(specs) < 2 {
		return [][]byte{packed}, nil
	}
	a, err := packChunks(specs[:len(specs)/2])
	if err != nil {
		return nil, err
	}
	b, err := packChunks(specs[len(specs)/2:])
	return append(a, b...), err
}

// tokenNames are the distinct DCR token names of specs, in normal form.
func tokenNames(specs []dcrflow.PortalSpec) []string {
	var names []string
	for _, s := range specs {
		if n := dcrflow.DCRTokenName(s.DCRTokenName); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// StartFleet starts the fleet's workflow, or attaches to it while it runs. The
// portals go in chunks: the first with the start, the others as signals. The fleet's
// first step asks a worker for the DCR tokens the portals name (AwaitPreflight).
func StartFleet(ctx context.Context, c client.Client, taskQueue string, in dcrflow.FleetInput) (Fleet, error) {
	id := dcrflow.FleetWorkflowID(in.Name)
	portals := len(in.Portals)
	chunks, err := packChunks(in.Portals)
	if err != nil {
		return Fleet{}, fmt.Errorf("fleet %s: pack portals: %w", in.Name, err)
	}
	in.TokenNames = tokenNames(in.Portals)
	in.Portals, in.Packed, in.Chunks, in.Summary.Total = nil, chunks[0], len(chunks), portals
	f := Fleet{Name: in.Name, WorkflowID: id, Started: true, c: c}
	h, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                taskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            fmt.Sprintf("Onboard fleet %s: %d portal(s) to Okta DCR, %d at a time", in.Name, portals, in.MaxConcurrent),
	}, workflows.OnboardFleet, in)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		h, f.Started, err = c.GetWorkflow(ctx, id, ""), false, nil
	}
	if err != nil {
		return Fleet{}, fmt.Errorf("start fleet %s: %w", in.Name, err)
	}
	f.RunID, f.handle = h.GetRunID(), h
	if !f.Started {
		// A starter stopped while sending the chunks: send them again (the fleet
		// ignores those it has).
		if p, err := FleetProgress(ctx, c, in.Name); err != nil || p.ChunksMissing == 0 {
			return f, nil
		}
	}
	for i := 1; i < len(chunks); i++ {
		if err := c.SignalWorkflow(ctx, id, f.RunID, dcrflow.SignalFleetChunk, dcrflow.FleetChunk{Index: i, Packed: chunks[i]}); err != nil {
			return f, fmt.Errorf("fleet %s: send portals (chunk %d of %d): %w; start the file again to send the rest", in.Name, i+1, len(chunks), err)
		}
	}
	return f, nil
}

// AwaitPreflight waits (at most PreflightTimeout) for the fleet's first step: which
// DCR tokens the worker holds. A fleet naming tokens the worker lacks has refused to
// start: the error lists every such portal of specs, with the variable to set. When
// no worker answers, a fleet this starter started is terminated, having started
// nothing.
func (f Fleet) AwaitPreflight(ctx context.Context, file string, specs []dcrflow.PortalSpec) error {
	ctx, cancel := context.WithTimeout(ctx, PreflightTimeout)
	defer cancel()
	for {
		qctx, qcancel := context.WithTimeout(ctx, 5*time.Second)
		p, err := FleetProgress(qctx, f.c, f.Name)
		qcancel()
		if err == nil && p.Preflight != nil {
			return tokenProblems(file, specs, p.Preflight.Worker)
		}
		if err == nil && !f.Started {
			return nil // attached to a run past its first step (or one started before it had one)
		}
		select {
		case <-ctx.Done():
			if !f.Started {
				return nil
			}
			_ = f.c.TerminateWorkflow(context.Background(), f.WorkflowID, f.RunID, "no dcrflow worker answered the preflight")
			return fmt.Errorf("no dcrflow worker answered on the fleet's task queue within %v: start one (make run starts one) or check temporal.task_queue; nothing was started", PreflightTimeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Wait blocks until the fleet ends (across continue-as-new) and returns its summary.
func (f Fleet) Wait(ctx context.Context) (dcrflow.FleetSummary, error) {
	var s dcrflow.FleetSummary
	err := f.handle.Get(ctx, &s)
	return s, err
}

// FleetFailures reads one page of a fleet's kept failures.
func FleetFailures(ctx context.Context, c client.Client, name string, offset, limit int) (dcrflow.FailuresPage, error) {
	return query[dcrflow.FailuresPage](ctx, c, dcrflow.FleetWorkflowID(name), dcrflow.QueryFleetFailures, offset, limit)
}

// FleetProgress queries the fleet's current run.
func FleetProgress(ctx context.Context, c client.Client, name string) (dcrflow.FleetProgress, error) {
	return query[dcrflow.FleetProgress](ctx, c, dcrflow.FleetWorkflowID(name), dcrflow.QueryProgress)
}

// PortalProgress queries one portal's current (or last) run.
func PortalProgress(ctx context.Context, c client.Client, portal string) (dcrflow.Progress, error) {
	return query[dcrflow.Progress](ctx, c, dcrflow.OnboardWorkflowID(portal), dcrflow.QueryProgress)
}

// query asks a workflow's current run and decodes its answer.
func query[T any](ctx context.Context, c client.Client, workflowID, name string, args ...any) (T, error) {
	var out T
	v, err := c.QueryWorkflow(ctx, workflowID, "", name, args...)
	if err == nil {
		err = v.Get(&out)
	}
	return out, err
}
