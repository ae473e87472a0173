package launcher

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

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
	handle     client.WorkflowRun
}

// StartFleet starts the fleet's workflow, or attaches to it while it runs.
func StartFleet(ctx context.Context, c client.Client, taskQueue string, in dcrflow.FleetInput) (Fleet, error) {
	id := dcrflow.FleetWorkflowID(in.Name)
	portals := len(in.Portals)
	if portals > 0 {
		packed, err := dcrflow.PackPortals(in.Portals)
		if err != nil {
			return Fleet{}, fmt.Errorf("fleet %s: pack portals: %w", in.Name, err)
		}
		in.Portals, in.Packed = nil, packed
	}
	h, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            fmt.Sprintf("Onboard fleet %s: %d portal(s) to Okta DCR, %d at a time", in.Name, portals, in.MaxConcurrent),
	}, workflows.OnboardFleet, in)
	if err != nil {
		return Fleet{}, fmt.Errorf("start fleet %s: %w", in.Name, err)
	}
	return Fleet{Name: in.Name, WorkflowID: id, RunID: h.GetRunID(), handle: h}, nil
}

// AttachFleet returns the latest run of a fleet.
func AttachFleet(c client.Client, name string) Fleet {
	id := dcrflow.FleetWorkflowID(name)
	h := c.GetWorkflow(context.Background(), id, "")
	return Fleet{Name: name, WorkflowID: id, RunID: h.GetRunID(), handle: h}
}

// Wait blocks until the fleet ends (across continue-as-new) and returns its summary.
func (f Fleet) Wait(ctx context.Context) (dcrflow.FleetSummary, error) {
	var s dcrflow.FleetSummary
	err := f.handle.Get(ctx, &s)
	return s, err
}

// FleetProgress queries the fleet's current run.
func FleetProgress(ctx context.Context, c client.Client, name string) (dcrflow.FleetProgress, error) {
	var p dcrflow.FleetProgress
	v, err := c.QueryWorkflow(ctx, dcrflow.FleetWorkflowID(name), "", dcrflow.QueryProgress)
	if err == nil {
		err = v.Get(&p)
	}
	return p, err
}

// PortalProgress queries one portal's current (or last) run.
func PortalProgress(ctx context.Context, c client.Client, portal string) (dcrflow.Progress, error) {
	var p dcrflow.Progress
	v, err := c.QueryWorkflow(ctx, dcrflow.OnboardWorkflowID(portal), "", dcrflow.QueryProgress)
	if err == nil {
		err = v.Get(&p)
	}
	return p, err
}
