package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
)

// Step states in the checklist shown as the workflow's current details.
const (
	statePending     = "pending"
	stateRunning     = "running"
	stateDone        = "done"
	stateHeld        = "held"
	stateFailed      = "failed"
	stateCompensated = "compensated"
)

var (
	saPortal  = temporal.NewSearchAttributeKeyKeyword(dcrflow.SearchAttrPortal)
	saStep    = temporal.NewSearchAttributeKeyKeyword(dcrflow.SearchAttrStep)
	saOutcome = temporal.NewSearchAttributeKeyKeyword(dcrflow.SearchAttrOutcome)
)

// checklist is the saga's steps with their states, in order.
type checklist struct {
	names  []string
	states map[string]string
	notes  map[string]string
}

func newChecklist(names []string) *checklist {
	c := &checklist{names: names, states: map[string]string{}, notes: map[string]string{}}
	for _, n := range names {
		c.states[n] = statePending
	}
	return c
}

func (c *checklist) set(step, state, note string) {
	c.states[step], c.notes[step] = state, note
}

// markdown renders the checklist for the UI's Current Details. Retries of a running
// step and their last error show in the UI's pending-activity panel and in
// `starter -status`: workflow code does not see attempts.
func (c *checklist) markdown(portal string, outcome dcrflow.Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**: %s\n\n", portal, outcome)
	for i, n := range c.names {
		// Words, not "[x]" or emoji: the UI draws no task-list boxes, and not every
		// machine has an emoji font.
		fmt.Fprintf(&b, "- step %d of %d, %s: **%s**", i+1, len(c.names), n, c.states[n])
		if note := c.notes[n]; note != "" {
			fmt.Fprintf(&b, " — %s", note)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// show publishes the progress: current details, and search attributes when asked.
// Lean runs upsert them only when the outcome changes (each upsert is an event and
// a billed action): running at the start, held and running again, and the end, with
// the step it ended or is held at; the step being run is in the current details and
// the progress query. Earlier runs upsert at every step.
func (o *onboarding) show(ctx workflow.Context, outcome dcrflow.Outcome) {
	o.outcome = outcome
	workflow.SetCurrentDetails(ctx, o.checks.markdown(o.spec.Key, outcome))
	if !o.spec.UpsertSearchAttributes {
		return
	}
	var err error
	switch {
	case !o.lean:
		err = workflow.UpsertTypedSearchAttributes(ctx, saPortal.ValueSet(o.spec.Key), saStep.ValueSet(o.step), saOutcome.ValueSet(string(outcome)))
	case outcome == o.shownOutcome:
		return
	case o.shownOutcome == "": // the start: no step done yet
		err = workflow.UpsertTypedSearchAttributes(ctx, saPortal.ValueSet(o.spec.Key), saOutcome.ValueSet(string(outcome)))
	default:
		err = workflow.UpsertTypedSearchAttributes(ctx, saStep.ValueSet(o.step), saOutcome.ValueSet(string(outcome)))
	}
	o.shownOutcome = outcome
	if err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
}

// finish publishes the final outcome and counts it (dcrflow_portals_total).
func (o *onboarding) finish(ctx workflow.Context, outcome dcrflow.Outcome) {
	o.show(ctx, outcome)
	countOutcome(ctx, outcome)
}

// withSummary gives one activity call a summary the UI shows beside it.
func withSummary(ctx workflow.Context, summary string) workflow.Context {
	o := workflow.GetActivityOptions(ctx)
	o.Summary = summary
	return workflow.WithActivityOptions(ctx, o)
}
