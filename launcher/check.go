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
	return inChunks[dcrflow.PortalDrift](ctx, c, taskQueue, "check", name, specs, dcrflow.CheckWorkflowID, workflows.CheckPortals,
		func(packed []byte) any {
			return dcrflow.CheckInput{Name: name, Packed: packed, MaxConcurrent: maxConcurrent}
		},
		func(n int) string { return fmt.Sprintf("Check %s: drift of %d portal(s), read-only", name, n) })
}

// inChunks runs a read-only workflow over specs, PlanChunk portals per run, one run
// after the other (its result stays far below Temporal's payload limit), and joins
// their results in order. what names it in errors; id makes a run's workflow id.
func inChunks[T any](ctx context.Context, c client.Client, taskQueue, what, name string, specs []dcrflow.PortalSpec,
	id func(string) string, wf any, input func(packed []byte) any, summary func(n int) string) ([]T, error) {
	stamp := strings.ReplaceAll(time.Now().UTC().Format("20060102T150405.000"), ".", "")
	var out []T
	for start, part := 0, 1; start < len(specs); start, part = start+PlanChunk, part+1 {
		chunk := specs[start:min(start+PlanChunk, len(specs))]
		packed, err := dcrflow.PackPortals(chunk)
		if err != nil {
			return nil, fmt.Errorf("%s %s: pack portals: %w", what, name, err)
		}
		wid := id(name + "-" + stamp)
		if len(specs) > PlanChunk {
			wid += fmt.Sprintf("-%d", part)
		}
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: wid, TaskQueue: taskQueue, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			StaticSummary: summary(len(chunk)),
		}, wf, input(packed))
		if err != nil {
			return nil, fmt.Errorf("start %s %s: %w", what, name, err)
		}
		var got []T
		if err := run.Get(ctx, &got); err != nil {
			return nil, fmt.Errorf("%s %s (workflow %s): %w", what, name, wid, err)
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
