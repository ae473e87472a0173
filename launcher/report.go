package launcher

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/dcrflow/dcrflow"
)

// Print writes one line per portal and, for failures, what failed and what was undone.
// uiBase (e.g. http://localhost:8233/namespaces/default) adds a link per workflow.
func Print(w io.Writer, outcomes []Outcome, uiBase string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PORTAL\tOUTCOME\tCREATED\tADOPTED\tPUBLISHED\tVALIDATION")
	for _, o := range outcomes {
		created, adopted, published := counts(o.Result)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", o.Portal, outcome(o), created, adopted, published, validation(o.Result))
	}
	_ = tw.Flush()
	for _, o := range outcomes {
		if o.Succeeded {
			continue
		}
		fmt.Fprintf(w, "\n%s failed", o.Portal)
		if o.Result != nil && o.Result.Failure != nil {
			fmt.Fprintf(w, " at step %s: %s\n", o.Result.Failure.Step, o.Result.Failure.Message)
			if len(o.Result.Compensated) > 0 {
				fmt.Fprintf(w, "  undone: %s\n", strings.Join(o.Result.Compensated, "; "))
			}
			for _, e := range o.Result.CompensationErrors {
				fmt.Fprintf(w, "  NOT undone (check by hand): %s\n", e)
			}
		} else {
			fmt.Fprintf(w, ": %v\n", o.Err)
		}
	}
	if uiBase != "" && len(outcomes) > 0 {
		fmt.Fprintf(w, "\nIn the Temporal UI: %s/workflows?query=%s\n", uiBase, "WorkflowType%3D%22OnboardPortal%22")
		for _, o := range outcomes {
			fmt.Fprintf(w, "  %s: %s/workflows/%s\n", o.Portal, uiBase, o.WorkflowID)
		}
	}
}

func outcome(o Outcome) string {
	if o.Succeeded {
		return "onboarded"
	}
	if o.Result != nil && len(o.Result.CompensationErrors) > 0 {
		return "FAILED (partly undone)"
	}
	return "FAILED (undone)"
}

func counts(r *dcrflow.OnboardResult) (created, adopted, published int) {
	if r == nil {
		return
	}
	for _, res := range r.Resources {
		switch res.Action {
		case dcrflow.ActionCreated:
			created++
		case dcrflow.ActionAdopted:
			adopted++
		case dcrflow.ActionPublished, dcrflow.ActionUpdated:
			published++
		}
	}
	return
}

func validation(r *dcrflow.OnboardResult) string {
	switch {
	case r == nil || r.Validation == nil:
		return "-"
	case r.Validation.Passed:
		return "passed"
	default:
		return "failed"
	}
}
