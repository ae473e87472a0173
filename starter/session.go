package main

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/onboarding"
)

// fileFlags are what the file commands share: -f, --portal and --fleet.
type fileFlags struct {
	file          string
	portals       []string
	fleet         string
	maxConcurrent int // when the command takes --max-concurrent
}

// addConcurrency adds --max-concurrent (default 10); open checks it.
func (f *fileFlags) addConcurrency(cmd *cobra.Command, help string) {
	cmd.Flags().IntVar(&f.maxConcurrent, "max-concurrent", 10, help)
}

func (f *fileFlags) add(cmd *cobra.Command, fileHelp, portalHelp, fleetHelp string) {
	cmd.Flags().StringVarP(&f.file, "file", "f", "", fileHelp)
	cmd.Flags().StringSliceVar(&f.portals, "portal", nil, portalHelp)
	cmd.Flags().StringVar(&f.fleet, "fleet", "", fleetHelp)
	_ = cmd.MarkFlagFilename("file", "yaml", "yml")
}

// session is an opened file command: its portals, its connection.
type session struct {
	file, name string
	specs      []dcrflow.PortalSpec
	c          client.Client
	cfg        config.Starter
	ctx        context.Context
}

// open reads and checks the onboarding file (exit 2 when it is wrong: nothing
// starts), keeps the --portal ones, then connects (exit 1 when that fails).
func (a *app) open(cmd *cobra.Command, f fileFlags) (*session, error) {
	if f.file == "" {
		return nil, usageErr("%s: -f/--file is required: the onboarding file (YAML)", cmd.CommandPath())
	}
	if cmd.Flags().Lookup("max-concurrent") != nil && f.maxConcurrent <= 0 {
		return nil, usageErr("--max-concurrent %d: want a number above 0", f.maxConcurrent)
	}
	specs, err := onboarding.Load(f.file)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	if specs, err = pick(specs, f.portals); err != nil {
		return nil, err
	}
	c, cfg, err := a.connect(cmd)
	if err != nil {
		return nil, err
	}
	name := f.fleet
	if name == "" {
		name = launcher.FleetName(f.file)
	}
	return &session{file: f.file, name: name, specs: specs, c: c, cfg: cfg, ctx: cmd.Context()}, nil
}

// openWithWorker is open, then makes sure a worker answers (it alone can read Okta
// and Konnect); the DCR tokens it lacks are problems of the read, not a refusal.
func (a *app) openWithWorker(cmd *cobra.Command, f fileFlags) (*session, error) {
	s, err := a.open(cmd, f)
	if err != nil {
		return nil, err
	}
	if err := launcher.Preflight(s.ctx, s.c, s.cfg.Temporal.TaskQueue, s.file, nil); err != nil {
		s.c.Close()
		return nil, failed(err)
	}
	return s, nil
}

// pick keeps the portals named (all when none is).
func pick(specs []dcrflow.PortalSpec, names []string) ([]dcrflow.PortalSpec, error) {
	if len(names) == 0 {
		return specs, nil
	}
	var out []dcrflow.PortalSpec
	for _, n := range names {
		n = strings.TrimSpace(n)
		i := slices.IndexFunc(specs, func(s dcrflow.PortalSpec) bool { return s.Key == n })
		if i < 0 {
			return nil, usageErr("--portal: %q is not in the onboarding file (it has: %s)", n, strings.Join(keys(specs), ", "))
		}
		out = append(out, specs[i])
	}
	return out, nil
}

func keys(specs []dcrflow.PortalSpec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Key
	}
	return out
}

// uiBase is the UI's address for the namespace, for links ("" without a UI).
func (a *app) uiBase(namespace string) string {
	if a.ui == "" || a.jsonOut {
		return ""
	}
	return strings.TrimSuffix(a.ui, "/") + "/namespaces/" + url.PathEscape(namespace)
}
