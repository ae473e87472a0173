package launcher

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"go.temporal.io/sdk/client"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/workflows"
)

// PlanChunk is how many portals one PlanPortals workflow plans: its result (about a
// kilobyte per portal) stays far below Temporal's payload limit.
const PlanChunk = 500

// Plan runs the dry run of specs on the worker (the PlanPortals workflow: only the
// worker holds the tokens to read Okta and Konnect) and returns one plan per portal,
// in the order given. Nothing is written to Okta or Konnect. A file of more than
// PlanChunk portals is planned in chunks, one after the other; MarkShared runs over
// the whole.
func Plan(ctx context.Context, c client.Client, taskQueue, name string, specs []dcrflow.PortalSpec, maxConcurrent int) ([]dcrflow.PortalPlan, error) {
	plans, err := inChunks[dcrflow.PortalPlan](ctx, c, taskQueue, "plan", name, specs, dcrflow.PlanWorkflowID, workflows.PlanPortals,
		func(packed []byte) any {
			return dcrflow.PlanInput{Name: name, Packed: packed, MaxConcurrent: maxConcurrent}
		},
		func(n int) string { return fmt.Sprintf("Plan %s: dry run of %d portal(s), read-only", name, n) })
	if err != nil {
		return nil, err
	}
	return workflows.MarkShared(plans), nil
}

// PlanProblems counts the portals whose run would fail.
func PlanProblems(plans []dcrflow.PortalPlan) int {
	n := 0
	for _, p := range plans {
		if len(p.Problems) > 0 {
			n++
		}
	}
	return n
}

// PlanChanges counts the portals whose run would change something: create a
// resource, publish or republish an API. Right after a run, a portal that succeeded
// must count for nothing.
func PlanChanges(plans []dcrflow.PortalPlan) int {
	n := 0
	for _, p := range plans {
		if len(PortalChanges(p)) > 0 {
			n++
		}
	}
	return n
}

// PortalChanges are the items of a portal's plan that a run would change.
func PortalChanges(p dcrflow.PortalPlan) []dcrflow.PlanItem {
	var out []dcrflow.PlanItem
	for _, it := range p.Items {
		switch it.Action {
		case dcrflow.PlanCreate, dcrflow.PlanPublish, dcrflow.PlanRepublish:
			out = append(out, it)
		}
	}
	return out
}

// PrintPlanJSON writes the plans as a JSON array.
func PrintPlanJSON(w io.Writer, plans []dcrflow.PortalPlan) error {
	if plans == nil {
		plans = []dcrflow.PortalPlan{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(plans)
}

// PrintPlan writes a table per portal — each resource, what the run would do to it
// and why — then the problems that would fail the run, and a summary line.
func PrintPlan(w io.Writer, plans []dcrflow.PortalPlan) {
	counts := map[dcrflow.PlanAction]int{}
	for i, p := range plans {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "portal %s", p.Portal)
		if p.AuthServerID != "" {
			fmt.Fprintf(w, " (Okta server %s", p.AuthServerID)
			if p.PortalID != "" {
				fmt.Fprintf(w, ", Konnect portal %s", p.PortalID)
			}
			fmt.Fprint(w, ")")
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  KIND\tNAME\tACTION\tDETAIL")
		for _, it := range p.Items {
			counts[it.Action]++
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", it.Kind, it.Name, it.Action, detail(it))
		}
		_ = tw.Flush()
		for _, pr := range p.Problems {
			fmt.Fprintf(w, "  PROBLEM: %s\n", pr)
		}
	}
	var parts []string
	for _, a := range []dcrflow.PlanAction{dcrflow.PlanCreate, dcrflow.PlanAdopt, dcrflow.PlanPublish, dcrflow.PlanRepublish,
		dcrflow.PlanUnchanged, dcrflow.PlanConflict, dcrflow.PlanMissing} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
		}
	}
	if len(parts) == 0 {
		parts = []string{"nothing"}
	}
	fmt.Fprintf(w, "\nplan: %d portal(s), %d with problems: %s\n", len(plans), PlanProblems(plans), strings.Join(parts, ", "))
}

func detail(it dcrflow.PlanItem) string {
	var d []string
	if it.ByPortal != "" {
		verb := "created"
		if it.Kind == dcrflow.KindPublication {
			verb = "published"
		}
		d = append(d, fmt.Sprintf("%s by portal %s earlier in this plan", verb, it.ByPortal))
	}
	d = append(d, it.Diffs...)
	if len(d) == 0 && it.ID != "" {
		return "id " + it.ID
	}
	return strings.Join(d, "; ")
}
