package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/launcher"
)

func (a *app) onboardCommand() *cobra.Command {
	var f fileFlags
	var wait bool
	var pf pruneFlags
	var startInterval time.Duration
	cmd := &cobra.Command{
		Use:   "onboard -f FILE",
		Short: "Onboard the portals of a file: one fleet workflow, or one workflow per --portal",
		Long: `onboard reads the onboarding file strictly (every problem with its line; nothing
starts on a wrong file), asks a worker whether it holds every DCR token the file names,
then starts the file as one fleet workflow (dcrflow-fleet-<file name>, a child workflow
per portal, at most --max-concurrent at once) — or, with --portal, one workflow per
named portal (dcrflow-onboard-<portal>). A fleet or portal already running is attached
to, never started twice; one that ended runs again and adopts what exists.

With --prune it first lists the portals that this fleet (the same fleet name) onboarded
earlier and the file no longer lists, offboards them (asking, or with --yes; refused
when stdin is not a terminal and --yes is missing) — what other portals share stays —
and then onboards the file.

With --wait it shows the fleet live (on a terminal a bar and each running portal's
step; with -o json one "progress" object per change), then the outcome of each portal.

` + exitCodesHelp,
		Example: `  dcrflow onboard -f portals.yaml --wait                     # the whole file, watched
  dcrflow onboard -f portals.yaml --wait --max-concurrent 25  # at most 25 portals at once
  dcrflow onboard -f portals.yaml --wait --start-interval 1s  # the first portals a second apart
  dcrflow onboard -f portals.yaml --portal payments --wait    # just these portals
  dcrflow onboard -f portals.yaml -o json                     # start, print the workflow ids as JSON`,
		Args: noStrayArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if startInterval < 0 || startInterval > maxStartInterval {
				return usageErr("--start-interval %s: want a duration from 0 to %s, e.g. 1s", startInterval, maxStartInterval)
			}
			if startInterval > 0 && len(f.portals) > 0 {
				return usageErr("--start-interval spaces the starts of a fleet; with --portal every named portal starts at once: drop one of them")
			}
			return a.onboard(cmd, f, wait, pf, startInterval)
		},
	}
	f.add(cmd, "onboarding file (YAML), required", "onboard only these portals (comma-separated or repeated), one workflow each",
		"fleet name, in its workflow id (default: the file's base name)")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "wait for every portal, watching live, and print its outcome (exit 1 if any failed)")
	f.addConcurrency(cmd, "fleet: portals onboarded at once")
	cmd.Flags().DurationVar(&startInterval, "start-interval", 0,
		"fleet: least time between two portals' starts, e.g. 1s: when the org's rate limits bind, the first portals reach the DCR steps (the tightest limit) sooner")
	pf.add(cmd)
	return cmd
}

// maxStartInterval bounds --start-interval: longer spacing is a schedule, not a ramp.
const maxStartInterval = 10 * time.Minute

func (a *app) onboard(cmd *cobra.Command, f fileFlags, wait bool, pf pruneFlags, startInterval time.Duration) error {
	s, err := a.open(cmd, f)
	if err != nil {
		return err
	}
	defer s.c.Close()
	ctx, tq := s.ctx, s.cfg.Temporal.TaskQueue
	if len(f.portals) == 0 {
		// A fleet asks the worker in its own first step (no workflow of its own).
		if err := launcher.CheckOffboarding(ctx, s.c, s.file, s.specs); err != nil {
			return withCode(exitUsage, err)
		}
	} else if err := launcher.Preflight(ctx, s.c, tq, s.file, s.specs); err != nil {
		return withCode(exitUsage, err)
	}
	if pf.prune { // after the preflight: a file that cannot run prunes nothing
		if err := a.prune(s, f, pf); err != nil {
			return err
		}
	}
	sa, err := launcher.SearchAttributesRegistered(ctx, s.c, s.cfg.Temporal.Namespace)
	if err != nil {
		return failed(err)
	}
	specs := launcher.WithSearchAttributes(s.specs, sa)
	ui := a.uiBase(s.cfg.Temporal.Namespace)
	if len(f.portals) == 0 {
		return a.runFleet(ctx, s, dcrflow.FleetInput{Name: s.name, Portals: specs, MaxConcurrent: f.maxConcurrent, StartInterval: startInterval}, wait, ui)
	}
	runs, err := launcher.Start(ctx, s.c, tq, specs)
	for _, r := range runs {
		if a.jsonOut {
			_ = a.emit(map[string]any{"type": "started", "kind": "portal", "portal": r.Portal, "workflow_id": r.WorkflowID, "run_id": r.RunID})
		} else {
			a.printf("started %s: workflow %s (run %s)\n", r.Portal, r.WorkflowID, r.RunID)
		}
	}
	if err != nil {
		return failed(err)
	}
	if !wait {
		return nil
	}
	return a.report(ctx, runs, ui)
}

// runFleet starts (or attaches to) a fleet and, when asked, watches it to the end.
func (a *app) runFleet(ctx context.Context, s *session, in dcrflow.FleetInput, wait bool, ui string) error {
	specs := in.Portals
	fl, err := launcher.StartFleet(ctx, s.c, s.cfg.Temporal.TaskQueue, in)
	if err != nil {
		return failed(err)
	}
	if err := fl.AwaitPreflight(ctx, s.file, specs); err != nil {
		return withCode(exitUsage, err)
	}
	verb := "started"
	if !fl.Started {
		verb = "attached to running"
	}
	if a.jsonOut {
		_ = a.emit(map[string]any{"type": "started", "kind": "fleet", "attached": !fl.Started, "fleet": in.Name, "portals": len(specs), "workflow_id": fl.WorkflowID, "run_id": fl.RunID})
	} else {
		a.printf("%s fleet %s: %d portal(s), workflow %s (run %s)\n", verb, in.Name, len(specs), fl.WorkflowID, fl.RunID)
	}
	if !wait {
		return nil
	}
	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		a.watch(wctx, s, in.Name)
	}()
	sum, err := fl.Wait(ctx)
	stopWatch()
	<-watched
	if err != nil {
		return failed(fmt.Errorf("fleet %s: %w", in.Name, err))
	}
	if a.jsonOut {
		_ = a.emit(map[string]any{"type": "fleet_result", "fleet": in.Name, "workflow_id": fl.WorkflowID, "summary": sum})
	} else {
		launcher.PrintFleet(a.stdout, sum, ui, fl.WorkflowID)
	}
	if sum.Failed > 0 {
		return failed(fmt.Errorf("%d of %d portal(s) failed", sum.Failed, sum.Total))
	}
	return nil
}

// watch shows the fleet's progress until ctx ends: JSON lines, or the launcher's
// live view fitted to the terminal.
func (a *app) watch(ctx context.Context, s *session, name string) {
	if !a.jsonOut {
		launcher.Watch(ctx, s.c, name, a.liveWriter(), a.stdoutTTY, time.Second)
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := ""
	for {
		if p, err := launcher.FleetProgress(ctx, s.c, name); err == nil {
			key := fmt.Sprintf("%d/%d/%d/%d/%v", p.Succeeded, p.Failed, p.Pending, p.Total, p.Running)
			if key != last {
				last = key
				_ = a.emit(map[string]any{"type": "progress", "fleet": p})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// report waits for the runs and prints their outcome; exit 1 when any failed.
func (a *app) report(ctx context.Context, runs []launcher.Run, ui string) error {
	outcomes := launcher.Wait(ctx, runs)
	if a.jsonOut {
		for _, o := range outcomes {
			line := map[string]any{"type": "result", "portal": o.Portal, "workflow_id": o.WorkflowID, "run_id": o.RunID,
				"succeeded": o.Succeeded, "result": o.Result}
			if o.Err != nil {
				line["error"] = o.Err.Error()
			}
			_ = a.emit(line)
		}
	} else {
		a.printf("\n")
		launcher.Print(a.stdout, outcomes, ui)
	}
	if n := launcher.Failed(outcomes); n > 0 {
		return failed(fmt.Errorf("%d of %d portal(s) failed", n, len(outcomes)))
	}
	return nil
}
