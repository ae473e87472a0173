package launcher

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/workflows"
)

// Check runs the drift check of specs on the worker (the read-only CheckPortals
// workflow, PlanChunk portals per run) and returns one report per portal, in the
// order given.
func Check(ctx context.Context, c client.Client, taskQueue, name string, specs []dcrflow.PortalSpec, maxConcurrent int) ([]dcrflow.PortalDrift, error) {
	stamp := strings.ReplaceAll(time.Now().UTC().Format("20060102T150405.000"), ".", "")
	var out []dcrflow.PortalDrift
	for start, part := 0, 1; start < len(specs); start, part = start+PlanChunk, part+1 {
		chunk := specs[start:min(start+PlanChunk, len(specs))]
		packed, err := dcrflow.PackPortals(chunk)
		if err != nil {
			return nil, fmt.Errorf("check %s: pack portals: %w", name, err)
		}
		id := dcrflow.CheckWorkflowID(name + "-" + stamp)
		if len(specs) > PlanChunk {
			id += fmt.Sprintf("-%d", part)
		}
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: id, TaskQueue: taskQueue, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			StaticSummary: fmt.Sprintf("Check %s: drift of %d portal(s), read-only", name, len(chunk)),
		}, workflows.CheckPortals, dcrflow.CheckInput{Name: name, Packed: packed, MaxConcurrent: maxConcurrent})
		if err != nil {
			return nil, fmt.Errorf("start check %s: %w", name, err)
		}
		var got []dcrflow.PortalDrift
		if err := run.Get(ctx, &got); err != nil {
			return nil, fmt.Errorf("check %s (workflow %s): %w", name, id, err)
		}
		out = append(out, got...)
	}
	return out, nil
}

// DriftCounts counts the portals by state.
func DriftCounts(ds []dcrflow.PortalDrift) map[string]int {
	out := map[string]int{}
	for _, d := range ds {
		out[d.State]++
	}
	return out
}

// PrintCheck writes a table per portal — each resource, its state and what differs —
// then a summary line.
func PrintCheck(w io.Writer, ds []dcrflow.PortalDrift) {
	items := map[string]int{}
	for i, d := range ds {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "portal %s: %s", d.Portal, d.State)
		if !d.Onboarded {
			fmt.Fprint(w, " (no completed onboarding found)")
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  KIND\tNAME\tSTATE\tDETAIL")
		for _, it := range d.Items {
			items[it.State]++
			detail := strings.Join(it.Fields, "; ")
			if detail == "" && it.ID != "" {
				detail = "id " + it.ID
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", it.Kind, it.Name, it.State, detail)
		}
		_ = tw.Flush()
		for _, p := range d.Problems {
			fmt.Fprintf(w, "  PROBLEM: %s\n", p)
		}
	}
	n := DriftCounts(ds)
	fmt.Fprintf(w, "\ncheck: %d portal(s): %d ok, %d drifted, %d missing, %d unknown; resources: %d ok, %d drifted, %d missing, %d extra\n",
		len(ds), n[dcrflow.DriftOK], n[dcrflow.DriftDrifted], n[dcrflow.DriftMissing], n[dcrflow.DriftUnknown],
		items[dcrflow.DriftOK], items[dcrflow.DriftDrifted], items[dcrflow.DriftMissing], items[dcrflow.DriftExtra])
}
