package launcher

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/dcrflow/dcrflow"
)

// Watch shows a fleet's progress until ctx ends: on a terminal one status block
// redrawn in place (an overall bar and the running portals with their step), else a
// plain line whenever the counts change.
func Watch(ctx context.Context, c client.Client, name string, out io.Writer, tty bool, every time.Duration) {
	redraw(ctx, out, tty, every, func() (block, line string, ok bool) {
		p, err := FleetProgress(ctx, c, name)
		if err != nil {
			return "", "", false
		}
		if tty {
			return render(ctx, c, p), "", true
		}
		return "", summaryLine(p), true
	})
}

// redraw shows what next reports every tick until ctx ends: on a terminal its block
// redrawn in place, else its line whenever that changes. next's ok false skips a tick
// (the query failed; the next one may not).
func redraw(ctx context.Context, out io.Writer, tty bool, every time.Duration, next func() (block, line string, ok bool)) {
	t := time.NewTicker(every)
	defer t.Stop()
	last, drawn := "", 0
	for {
		if block, line, ok := next(); ok {
			if tty {
				if drawn > 0 {
					fmt.Fprintf(out, "\033[%dA\033[J", drawn) // back to the block's top, clear below
				}
				fmt.Fprint(out, block)
				drawn = strings.Count(block, "\n")
			} else if line != last {
				fmt.Fprintln(out, line)
				last = line
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func summaryLine(p dcrflow.FleetProgress) string {
	line := fmt.Sprintf("fleet %s: %d/%d done (%d succeeded, %d failed), %d running, %d waiting",
		p.Name, p.Done(), p.Total, p.Succeeded, p.Failed, len(p.Running), p.Pending)
	if p.ChunksMissing > 0 {
		line += fmt.Sprintf("; %d chunk(s) of portals not received yet (start the file again to send them)", p.ChunksMissing)
	}
	return line
}

// render draws the bar and one line per running portal with its step.
func render(ctx context.Context, c client.Client, p dcrflow.FleetProgress) string {
	var b strings.Builder
	b.WriteString(bar(p.Done(), p.Total, 40) + " " + summaryLine(p) + "\n")
	for _, portal := range p.Running {
		step := "starting"
		if pp, err := PortalProgress(ctx, c, portal); err == nil && pp.Step != "" {
			step = pp.Step
			if pp.Held != nil {
				step = "HELD at " + pp.Held.Step + ": " + pp.Held.Message
			}
		}
		fmt.Fprintf(&b, "  %-24s %s\n", portal, step)
	}
	return b.String()
}

func bar(done, total, width int) string {
	if total <= 0 {
		total = 1
	}
	n := done * width / total
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

// PrintFleet writes the final table of a fleet: the counts, then each kept failure
// (the first dcrflow.MaxFleetFailures) and where to find every failed portal.
func PrintFleet(w io.Writer, s dcrflow.FleetSummary, uiBase, fleetID string) {
	fmt.Fprintf(w, "\nfleet: %d portal(s): %d succeeded, %d failed", s.Total, s.Succeeded, s.Failed)
	if s.Attached > 0 {
		fmt.Fprintf(w, " (%d were already running: the fleet waited for them)", s.Attached)
	}
	fmt.Fprintln(w)
	for _, f := range s.Failures {
		undone := "undone"
		if !f.Compensated {
			undone = "NOT fully undone: " + strings.Join(f.Left, "; ")
		}
		step := ""
		if f.Step != "" {
			step = " at step " + f.Step
		}
		fmt.Fprintf(w, "  %-24s FAILED%s: %s (%s)\n", f.Portal, step, f.Message, undone)
	}
	fleet := strings.TrimPrefix(fleetID, dcrflow.FleetWorkflowID(""))
	if more := s.Failed - len(s.Failures); more > 0 {
		fmt.Fprintf(w, "  … and %d more failed portal(s): temporal workflow list --query %q\n", more, dcrflow.FleetFailedQuery(fleet))
	}
	if uiBase != "" {
		fmt.Fprintf(w, "\nIn the Temporal UI: %s/workflows/%s\n  failed portals: %s/workflows?query=%s\n", uiBase, fleetID, uiBase,
			url.QueryEscape(dcrflow.FleetFailedQuery(fleet)))
	}
}
