package launcher

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/dcrflow/dcrflow"
)

// PruneQuery lists the portal runs a fleet onboarded: the completed OnboardPortal
// children of the fleet's workflow (dcrflow-fleet-<fleet>). A fleet is the name the
// starter gives a file (its base name, or --fleet): two teams' files on one
// namespace are two fleets, and never prune each other's portals. Portals onboarded
// one by one (--portal) or only attached to by a fleet are no fleet's children, and
// are never pruned.
func PruneQuery(fleet string) string {
	return fmt.Sprintf("WorkflowType = 'OnboardPortal' AND ParentWorkflowId = '%s' AND ExecutionStatus = 'Completed'",
		strings.ReplaceAll(dcrflow.FleetWorkflowID(fleet), "'", ""))
}

// PruneCandidates are the portals the fleet onboarded (PruneQuery) that the file no
// longer lists and that no offboarding removed since: each one's spec as its newest
// fleet run got it (the run's input, decoded with dc), sorted by key.
func PruneCandidates(ctx context.Context, c client.Client, dc converter.DataConverter, fleet string, file []dcrflow.PortalSpec) ([]dcrflow.PortalSpec, error) {
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	listed := map[string]bool{}
	for _, s := range file {
		listed[s.Key] = true
	}
	type run struct {
		runID  string
		closed time.Time
	}
	newest := map[string]run{}
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: PruneQuery(fleet), PageSize: 1000, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("prune: list the portals of fleet %s: %w", fleet, err)
		}
		for _, e := range resp.GetExecutions() {
			id, t := e.GetExecution().GetWorkflowId(), e.GetCloseTime().AsTime()
			if r, ok := newest[id]; !ok || t.After(r.closed) {
				newest[id] = run{e.GetExecution().GetRunId(), t}
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	var out []dcrflow.PortalSpec
	for id, r := range newest {
		key := strings.TrimPrefix(id, dcrflow.OnboardWorkflowID(""))
		if listed[key] {
			continue
		}
		if d, err := c.DescribeWorkflowExecution(ctx, dcrflow.OffboardWorkflowID(key), ""); err == nil {
			info := d.GetWorkflowExecutionInfo()
			if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED && info.GetCloseTime().AsTime().After(r.closed) {
				continue // offboarded since
			}
		}
		spec, err := startInput(ctx, c, dc, id, r.runID)
		if err != nil {
			return nil, fmt.Errorf("prune: portal %s: read what its onboarding was given: %w", key, err)
		}
		out = append(out, spec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// startInput decodes the PortalSpec a run was started with (its first event).
func startInput(ctx context.Context, c client.Client, dc converter.DataConverter, id, runID string) (dcrflow.PortalSpec, error) {
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return dcrflow.PortalSpec{}, fmt.Errorf("run %s has no history", runID)
	}
	ev, err := it.Next()
	if err != nil {
		return dcrflow.PortalSpec{}, err
	}
	attrs := ev.GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil || len(attrs.GetInput().GetPayloads()) == 0 {
		return dcrflow.PortalSpec{}, fmt.Errorf("run %s: no start input", runID)
	}
	var spec dcrflow.PortalSpec
	if err := dc.FromPayload(attrs.GetInput().GetPayloads()[0], &spec); err != nil {
		return dcrflow.PortalSpec{}, err
	}
	return spec, nil
}

// PrintPrune lists the portals prune offboards.
func PrintPrune(w io.Writer, fleet string, specs []dcrflow.PortalSpec) {
	if len(specs) == 0 {
		fmt.Fprintf(w, "prune: fleet %s has no portal to offboard (every portal it onboarded is in the file)\n", fleet)
		return
	}
	fmt.Fprintf(w, "prune: %d portal(s) onboarded by fleet %s are no longer in the file:\n", len(specs), fleet)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  PORTAL\tACTION\tDETAIL")
	for _, s := range specs {
		fmt.Fprintf(tw, "  %s\toffboard\tKonnect portal %s, Okta server %s (what other portals share stays)\n", s.Key, s.Portal, s.AuthServer)
	}
	_ = tw.Flush()
}
