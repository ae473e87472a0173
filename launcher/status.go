package launcher

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"

	"go.temporal.io/sdk/client"

	"github.com/dcrflow/dcrflow"
)

// statusFailures is how many of a fleet's failures -status prints.
const statusFailures = 10

// FleetName derives a fleet's name from its onboarding file: "portals.yaml" → "portals".
func FleetName(file string) string {
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	name := strings.Trim(regexp.MustCompile(`[^a-z0-9-]+`).ReplaceAllString(strings.ToLower(base), "-"), "-")
	if name == "" {
		return "fleet"
	}
	return name
}

// Status prints where runs already started stand: the fleet (when asked and found),
// then each portal's step, outcome and, for a step being retried, the attempt and the
// last error (read from the server's view of the pending activity).
func Status(ctx context.Context, c client.Client, w io.Writer, fleet string, portals []string, withFleet bool) error {
	if withFleet {
		if p, err := FleetProgress(ctx, c, fleet); err == nil {
			fmt.Fprintf(w, "%s %s\n", bar(p.Done(), p.Total, 40), summaryLine(p))
			if page, err := FleetFailures(ctx, c, fleet, 0, statusFailures); err == nil && len(page.Failures) > 0 {
				fmt.Fprintf(w, "failed (the first %d of %d; more: the failures query, or temporal workflow list --query %q):\n", len(page.Failures), page.Failed, dcrflow.FleetFailedQuery(fleet))
				for _, f := range page.Failures {
					fmt.Fprintf(w, "  %-24s %s: %s\n", f.Portal, f.Step, f.Message)
				}
			}
			fmt.Fprintln(w)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PORTAL\tOUTCOME\tSTEP\tDETAIL")
	for _, portal := range portals {
		p, err := PortalProgress(ctx, c, portal)
		if err != nil {
			fmt.Fprintf(tw, "%s\tnot started\t-\t-\n", portal)
			continue
		}
		detail := "-"
		if p.Held != nil {
			detail = "held: " + p.Held.Message
		} else if r := retrying(ctx, c, portal); r != "" {
			detail = r
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", portal, p.Outcome, p.Step, detail)
	}
	return tw.Flush()
}

// retrying describes the portal's pending activity when it has failed at least once.
func retrying(ctx context.Context, c client.Client, portal string) string {
	d, err := c.DescribeWorkflowExecution(ctx, dcrflow.OnboardWorkflowID(portal), "")
	if err != nil {
		return ""
	}
	for _, pa := range d.GetPendingActivities() {
		if pa.GetAttempt() > 1 && pa.GetLastFailure() != nil {
			return fmt.Sprintf("retrying (attempt %d): %s", pa.GetAttempt(), pa.GetLastFailure().GetMessage())
		}
	}
	return ""
}
