package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/launcher"
)

// scheduleFlags are those of schedule create and update.
type scheduleFlags struct {
	f     fileFlags
	every time.Duration
	heal  bool
}

func (a *app) scheduleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule create|update|describe|trigger|delete",
		Short: "Run a reconcile of a file's portals on a Temporal Schedule (drift report, --heal)",
		Long: `schedule keeps a Temporal Schedule (id dcrflow-schedule-<fleet>) that runs the Reconcile
workflow over the file's portals every --every: the drift check of ` + "`dcrflow check`" + `, reported in
the workflow's result and details, the DcrflowDrift search attribute, the metric
dcrflow_drift_resources{kind} and ` + "`dcrflow status`" + `. With --heal it also onboards again the
portals that drifted or went missing (putting back scopes dcrflow made that someone
changed); it never deletes anything and never changes what dcrflow did not make.

The file travels packed in the schedule's input (names only: DCR token names, no
tokens, no path); ` + "`schedule update`" + ` replaces it. The fleet name is the file's base name
unless --fleet gives it.

` + exitCodesHelp,
		Example: `  dcrflow schedule create -f portals.yaml --every 1h           # report drift every hour
  dcrflow schedule update -f portals.yaml --every 30m --heal    # new file, heal drift
  dcrflow schedule describe -f portals.yaml                    # the schedule and its last reconcile
  dcrflow schedule trigger -f portals.yaml                     # run a reconcile now
  dcrflow schedule delete -f portals.yaml`,
		Args: noStrayArgs,
	}
	cmd.AddCommand(a.scheduleWrite("create"), a.scheduleWrite("update"), a.scheduleRead("describe"), a.scheduleRead("trigger"), a.scheduleRead("delete"))
	return cmd
}

func (a *app) scheduleWrite(verb string) *cobra.Command {
	var sf scheduleFlags
	cmd := &cobra.Command{
		Use:   verb + " -f FILE --every DURATION [--heal]",
		Short: map[string]string{"create": "Create the file's reconcile schedule", "update": "Replace the schedule's file, interval and mode"}[verb],
		Args:  noStrayArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sf.every < time.Minute {
				return usageErr("--every %s: want at least 1m (e.g. --every 1h)", sf.every)
			}
			s, err := a.open(cmd, sf.f)
			if err != nil {
				return err
			}
			defer s.c.Close()
			// The configuration's schedule.every / schedule.heal, which the flags override.
			if s.cfg.Schedule.Every > 0 {
				sf.every = s.cfg.Schedule.Every
			}
			sf.heal = s.cfg.Schedule.Heal
			sa, err := launcher.DriftAttributeRegistered(s.ctx, s.c, s.cfg.Temporal.Namespace)
			if err != nil {
				return failed(err)
			}
			// The portals a heal onboards set their search attributes as onboard's do.
			portalSA, err := launcher.SearchAttributesRegistered(s.ctx, s.c, s.cfg.Temporal.Namespace)
			if err != nil {
				return failed(err)
			}
			spec := launcher.ScheduleSpec{Name: s.name, TaskQueue: s.cfg.Temporal.TaskQueue, Specs: launcher.WithSearchAttributes(s.specs, portalSA), Every: sf.every,
				Heal: sf.heal, MaxConcurrent: sf.f.maxConcurrent, SearchAttr: sa}
			id := ""
			if verb == "create" {
				id, err = launcher.CreateSchedule(s.ctx, s.c, spec)
			} else {
				err = launcher.UpdateSchedule(s.ctx, s.c, spec)
			}
			if err != nil {
				return failed(err)
			}
			if id == "" {
				id = dcrflow.ScheduleID(s.name)
			}
			if a.jsonOut {
				return a.emit(map[string]any{"type": "schedule", "action": verb, "schedule_id": id, "fleet": s.name,
					"portals": len(s.specs), "every": sf.every.String(), "heal": sf.heal})
			}
			a.printf("%sd schedule %s: reconcile of %d portal(s) every %s (%s)\n", map[string]string{"create": "create", "update": "update"}[verb],
				id, len(s.specs), sf.every, map[bool]string{false: "report only", true: "heal"}[sf.heal])
			return nil
		},
	}
	sf.f.add(cmd, "onboarding file (YAML), required", "reconcile only these portals", "fleet name (default: the file's base name)")
	sf.f.addConcurrency(cmd, "portals checked at once")
	cmd.Flags().DurationVar(&sf.every, "every", time.Hour, "how often the reconcile runs (configuration: schedule.every)")
	cmd.Flags().BoolVar(&sf.heal, "heal", false, "onboard drifted and missing portals again, never deleting (configuration: schedule.heal)")
	return cmd
}

func (a *app) scheduleRead(verb string) *cobra.Command {
	var f fileFlags
	cmd := &cobra.Command{
		Use: verb + " -f FILE | --fleet NAME",
		Short: map[string]string{"describe": "Show the schedule and its last reconcile", "trigger": "Run the schedule's reconcile now",
			"delete": "Delete the schedule (running reconciles go on)"}[verb],
		Args: noStrayArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name := f.fleet
			if name == "" && f.file != "" {
				name = launcher.FleetName(f.file)
			}
			if name == "" {
				return usageErr("%s: give -f FILE or --fleet NAME", cmd.CommandPath())
			}
			c, _, err := a.connect(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			switch verb {
			case "describe":
				v, err := launcher.DescribeSchedule(ctx, c, name)
				if err != nil {
					return failed(err)
				}
				if a.jsonOut {
					return a.emit(map[string]any{"type": "schedule", "schedule": v})
				}
				launcher.PrintSchedule(a.stdout, v)
				return nil
			case "trigger":
				err = launcher.TriggerSchedule(ctx, c, name)
			default:
				err = launcher.DeleteSchedule(ctx, c, name)
			}
			if err != nil {
				return failed(err)
			}
			if a.jsonOut {
				return a.emit(map[string]any{"type": "schedule", "action": verb, "fleet": name})
			}
			a.printf("%s: schedule %s\n", map[string]string{"trigger": "triggered", "delete": "deleted"}[verb], dcrflow.ScheduleID(name))
			return nil
		},
	}
	cmd.Flags().StringVarP(&f.file, "file", "f", "", "onboarding file (YAML): its fleet name")
	cmd.Flags().StringVar(&f.fleet, "fleet", "", "fleet name (default: the file's base name)")
	return cmd
}
