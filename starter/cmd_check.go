package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/launcher"
)

// exitDrift is check's exit code when it found drift (and nothing failed).
const exitDrift = 4

func (a *app) checkCommand() *cobra.Command {
	var f fileFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check -f FILE",
		Short: "Report drift between the file, the last onboarding and what exists now",
		Long: `check compares, per portal and resource, what the file declares and what the portal's
last completed onboarding recorded with what exists in Okta and Konnect now. It asks a
worker to run the read-only CheckPortals workflow (the plan's own lookups; only GETs):

  ok        exists as the file declares it
  drifted   exists and differs (the fields that differ are shown)
  missing   declared (or needed) and absent
  extra     dcrflow's last onboarding made it and the file no longer declares it

A portal's state is ok, drifted, missing (never onboarded and nothing of it exists)
or unknown (its check failed). check changes nothing; a schedule's reconcile with
--heal repairs drift (dcrflow schedule).

Exit 0 when every portal is ok, 4 when any drifted (or is missing), 1 when the check
could not be made, 2 for a bad file or flags.

` + exitCodesHelp + `
  4  check: drift found`,
		Example: `  dcrflow check -f portals.yaml                      # a table per portal, then a summary
  dcrflow check -f portals.yaml --portal payments     # just these portals
  dcrflow check -f portals.yaml -o json               # one JSON object: the reports`,
		Args: noStrayArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				a.jsonOut = true
			}
			return a.check(cmd, f)
		},
	}
	f.add(cmd, "onboarding file (YAML), required", "check only these portals", "check name, in its workflow id (default: the file's base name)")
	f.addConcurrency(cmd, "portals looked up at once")
	cmd.Flags().BoolVar(&asJSON, "json", false, "same as -o json")
	_ = cmd.Flags().MarkHidden("json")
	return cmd
}

func (a *app) check(cmd *cobra.Command, f fileFlags) error {
	s, err := a.openWithWorker(cmd, f)
	if err != nil {
		return err
	}
	defer s.c.Close()
	ds, err := launcher.Check(s.ctx, s.c, s.cfg.Temporal.TaskQueue, s.name, s.specs, f.maxConcurrent)
	if err != nil {
		return failed(err)
	}
	n := launcher.DriftCounts(ds)
	notOK := len(ds) - n[dcrflow.DriftOK] - n[dcrflow.DriftUnknown]
	tooOld := a.warnOldTokens(s)
	if a.jsonOut {
		if err := a.emit(map[string]any{"type": "check", "name": s.name, "portals": len(ds), "ok": n[dcrflow.DriftOK],
			"drifted": notOK, "unknown": n[dcrflow.DriftUnknown], "reports": ds, "tokens_not_rotated": tooOld}); err != nil {
			return failed(err)
		}
	} else {
		launcher.PrintCheck(a.stdout, ds)
	}
	if n[dcrflow.DriftUnknown] > 0 {
		return failed(fmt.Errorf("check: %d of %d portal(s) could not be checked", n[dcrflow.DriftUnknown], len(ds)))
	}
	if notOK > 0 {
		return withCode(exitDrift, fmt.Errorf("check: %d of %d portal(s) drifted", notOK, len(ds)))
	}
	return nil
}

// warnOldTokens warns, on stderr, about each DCR token the file's portals use that
// was not rotated through dcrflow for rotation.max_token_age_days (dcrflow
// rotate-dcr-token), and returns what it said. Not knowing the age is no failure of
// the check.
func (a *app) warnOldTokens(s *session) []string {
	var names []string
	for _, spec := range s.specs {
		if n := dcrflow.DCRTokenName(spec.DCRTokenName); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	ages, err := launcher.TokenAges(s.ctx, s.c, names)
	if err != nil {
		fmt.Fprintln(a.stderr, "dcrflow: warning: the DCR tokens' age is unknown:", err)
		return nil
	}
	var out []string
	for _, age := range ages {
		if text, old := age.Describe(time.Now(), s.cfg.Rotation.MaxTokenAgeDays); old {
			msg := fmt.Sprintf("DCR token %s: %s; rotate it: dcrflow rotate-dcr-token --name %s", age.Name, text, age.Name)
			fmt.Fprintln(a.stderr, "dcrflow: warning:", msg)
			out = append(out, msg)
		}
	}
	return out
}
