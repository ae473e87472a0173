package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/launcher"
)

func (a *app) planCommand() *cobra.Command {
	var f fileFlags
	var detailed, asJSON, prune bool
	cmd := &cobra.Command{
		Use:   "plan -f FILE",
		Short: "Show what onboarding the file would do, without writing anything",
		Long: `plan is the dry run: it reads the file as onboard does, then asks a worker (only the
worker holds the tokens) to run the read-only PlanPortals workflow: per portal and
resource, whether a run would create, adopt, publish, republish or leave it unchanged,
and what would fail it (a conflict, something missing). Only GETs reach Okta and
Konnect; nothing is written.

Exit 0 when every portal would go through, 1 when any has problems (or the plan could
not be made), 2 for a bad file or flags; with --detailed-exitcode, 3 when there are no
problems but a run would still create, publish or republish something (so right after
a run, 0 means every portal is fully onboarded: an audit).

` + exitCodesHelp,
		Example: `  dcrflow plan -f portals.yaml                             # a table per portal, then a summary
  dcrflow plan -f portals.yaml --portal payments           # just these portals
  dcrflow plan -f portals.yaml -o json                     # one JSON object: the plans
  dcrflow plan -f portals.yaml --detailed-exitcode         # exit 3 if a run would change something`,
		Args: noStrayArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				a.jsonOut = true
			}
			return a.plan(cmd, f, detailed, prune)
		},
	}
	f.add(cmd, "onboarding file (YAML), required", "plan only these portals", "plan name, in its workflow id (default: the file's base name)")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, fmt.Sprintf("exit %d when a run would change something (and nothing would fail)", exitChanges))
	f.addConcurrency(cmd, "portals looked up at once")
	cmd.Flags().BoolVar(&asJSON, "json", false, "same as -o json")
	_ = cmd.Flags().MarkDeprecated("json", "use -o json")
	cmd.Flags().BoolVar(&prune, "prune", false, "also list, as offboard, the portals this fleet onboarded earlier that the file no longer lists")
	return cmd
}

func (a *app) plan(cmd *cobra.Command, f fileFlags, detailed, prune bool) error {
	s, err := a.openWithWorker(cmd, f)
	if err != nil {
		return err
	}
	defer s.c.Close()
	plans, err := launcher.Plan(s.ctx, s.c, s.cfg.Temporal.TaskQueue, s.name, s.specs, f.maxConcurrent)
	if err != nil {
		return failed(err)
	}
	problems, changes := launcher.PlanProblems(plans), launcher.PlanChanges(plans)
	var offboard []dcrflow.PortalSpec
	if prune {
		if len(f.portals) > 0 {
			return usageErr("--prune works on the whole file: leave out --portal")
		}
		if offboard, err = a.pruneCandidates(s); err != nil {
			return failed(err)
		}
		changes += len(offboard)
	}
	if a.jsonOut {
		doc := map[string]any{"type": "plan", "name": s.name, "portals": len(plans), "with_problems": problems,
			"with_changes": changes, "plans": plans}
		if prune {
			doc["offboard"] = keys(offboard)
		}
		if err := a.emit(doc); err != nil {
			return failed(err)
		}
	} else {
		launcher.PrintPlan(a.stdout, plans)
		if prune {
			fmt.Fprintln(a.stdout)
			launcher.PrintPrune(a.stdout, s.name, offboard)
		}
	}
	if problems > 0 {
		return failed(fmt.Errorf("plan: %d of %d portal(s) would fail", problems, len(plans)))
	}
	if changes > 0 && detailed {
		return withCode(exitChanges, fmt.Errorf("plan: %d of %d portal(s) would change", changes, len(plans)))
	}
	return nil
}
