package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dcrflow/dcrflow/launcher"
)

func (a *app) offboardCommand() *cobra.Command {
	var f fileFlags
	var wait bool
	cmd := &cobra.Command{
		Use:   "offboard -f FILE",
		Short: "Remove what dcrflow made for the file's portals (what others still use stays)",
		Long: `offboard starts one OffboardPortal workflow (dcrflow-offboard-<portal>) per portal of
the file (or --portal): publications restored or unpublished, then the auth strategy,
DCR provider, access policy, claim and scopes deleted where dcrflow made them and no
other portal uses them; everything else is kept, with the reason. It refuses, naming
each, while a portal's onboarding or the file's fleet runs.

With --wait it offboards at most --max-concurrent at once, waits, and prints what was
deleted, unpublished, restored or kept; exit 1 when an offboarding failed. Without
--wait it starts them all and exits.

` + exitCodesHelp,
		Example: `  dcrflow offboard -f portals.yaml --wait                    # every portal of the file
  dcrflow offboard -f portals.yaml --portal payments --wait  # just these
  dcrflow offboard -f portals.yaml --wait -o json            # one result object per portal`,
		Args: noStrayArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.offboard(cmd, f, wait)
		},
	}
	f.add(cmd, "onboarding file (YAML), required: the portals to offboard", "offboard only these portals",
		"the file's fleet name (default: the file's base name); refused while it runs")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "wait for every portal and print what was removed and kept")
	f.addConcurrency(cmd, "with --wait: portals offboarded at once")
	return cmd
}

func (a *app) offboard(cmd *cobra.Command, f fileFlags, wait bool) error {
	s, err := a.open(cmd, f)
	if err != nil {
		return err
	}
	defer s.c.Close()
	tq := s.cfg.Temporal.TaskQueue
	inputs, err := launcher.PrepareOffboard(s.ctx, s.c, s.name, s.specs)
	if err != nil {
		return failed(err)
	}
	if !wait {
		for _, in := range inputs {
			r, err := launcher.StartOffboard(s.ctx, s.c, tq, in)
			if err != nil {
				return failed(err)
			}
			if a.jsonOut {
				_ = a.emit(map[string]any{"type": "started", "kind": "offboard", "portal": r.Portal, "workflow_id": r.WorkflowID, "run_id": r.RunID})
			} else {
				a.printf("started offboarding of %s: workflow %s (run %s)\n", r.Portal, r.WorkflowID, r.RunID)
			}
		}
		return nil
	}
	outcomes := launcher.Offboard(s.ctx, s.c, tq, inputs, f.maxConcurrent)
	if n := a.printOffboard(s, outcomes); n > 0 {
		return failed(fmt.Errorf("offboard: %d of %d portal(s) failed", n, len(outcomes)))
	}
	return nil
}

// printOffboard prints what each offboarding removed and kept (JSON lines with -o
// json) and returns how many failed.
func (a *app) printOffboard(s *session, outcomes []launcher.OffboardOutcome) int {
	if a.jsonOut {
		for _, o := range outcomes {
			line := map[string]any{"type": "offboard_result", "portal": o.Portal, "workflow_id": o.WorkflowID, "run_id": o.RunID,
				"succeeded": o.Err == nil, "result": o.Result}
			if o.Err != nil {
				line["error"] = o.Err.Error()
			}
			_ = a.emit(line)
		}
	} else {
		launcher.PrintOffboard(a.stdout, outcomes, a.uiBase(s.cfg.Temporal.Namespace))
	}
	return launcher.OffboardFailed(outcomes)
}
