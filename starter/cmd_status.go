package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/onboarding"
)

func (a *app) statusCommand() *cobra.Command {
	var f fileFlags
	cmd := &cobra.Command{
		Use:   "status -f FILE | --portal NAME,...",
		Short: "Show where the runs of a file (or of named portals) stand",
		Long: `status reads, from Temporal, where runs already started stand: the file's fleet (its
counts), then each portal's outcome and step, the message of a held portal and, for a
step being retried, its attempt and last error; then, when the fleet has a reconcile
schedule (dcrflow schedule), the drift its last reconcile found. It starts nothing and needs no worker.

` + exitCodesHelp,
		Example: `  dcrflow status -f portals.yaml                 # the fleet and every portal of the file
  dcrflow status --portal payments,partners      # just these portals, no file needed
  dcrflow status -f portals.yaml -o json         # one JSON object`,
		Args: noStrayArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.status(cmd, f) },
	}
	f.add(cmd, "onboarding file (YAML): its fleet and portals", "only these portals", "fleet name (default: the file's base name)")
	return cmd
}

func (a *app) status(cmd *cobra.Command, f fileFlags) error {
	portals := f.portals
	withFleet := f.file != "" && len(f.portals) == 0
	name := f.fleet
	if f.file != "" {
		specs, err := onboarding.Load(f.file)
		if err != nil {
			return withCode(exitUsage, err)
		}
		if specs, err = pick(specs, f.portals); err != nil {
			return err
		}
		portals = keys(specs)
		if name == "" {
			name = launcher.FleetName(f.file)
		}
	}
	if len(portals) == 0 {
		return usageErr("%s: give -f FILE or --portal NAME,...", cmd.CommandPath())
	}
	c, _, err := a.connect(cmd)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := cmd.Context()
	var drift *dcrflow.ReconcileSummary // the last reconcile of the fleet's schedule
	if withFleet {
		drift = launcher.LatestReconcile(ctx, c, name)
	}
	if !a.jsonOut {
		err := launcher.Status(ctx, c, a.stdout, name, portals, withFleet)
		if drift != nil {
			fmt.Fprintln(a.stdout)
			launcher.PrintReconcile(a.stdout, *drift)
		}
		return failed(err)
	}
	out := map[string]any{"type": "status", "portals": launcher.StatusRows(ctx, c, portals)}
	if withFleet {
		if p, err := launcher.FleetProgress(ctx, c, name); err == nil {
			out["fleet"] = p
		}
		if drift != nil {
			out["drift"] = drift
		}
	}
	return a.emit(out)
}
