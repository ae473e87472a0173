package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/converter"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/codec"
	"github.com/dcrflow/dcrflow/launcher"
)

func (a *app) rotateCommand() *cobra.Command {
	var (
		name            string
		continueOnError bool
		wait            bool
		maxConcurrent   int
	)
	cmd := &cobra.Command{
		Use:   "rotate-dcr-token --name NAME",
		Short: "Move every DCR provider holding a DCR token onto its new token (dcr_tokens.<name>_next)",
		Long: `rotate-dcr-token starts one RotateDCRToken workflow (dcrflow-rotate/<name>) that moves
every Konnect DCR provider holding the DCR token NAME onto the new token the workers
hold beside it (dcr_tokens.<name>_next, or DCRFLOW_DCR_TOKEN_<NAME>_NEXT). The
providers and their portals come from dcrflow's onboarding records in Temporal (every
portal whose last onboarding named the token). Per provider, at most
--max-concurrent at once: PATCH its dcr_config with the new token, verify it, and
validate one of its portals end to end with the new token. A provider that fails is
put back on the old token; the rotation then stops (or goes on, with
--continue-on-error). Only when every provider is on the new token does it report
the old token safe to revoke. A rotation of NAME already running is attached to;
one interrupted (a worker killed) goes on where it was.

With --wait it shows the rotation live and prints each provider's outcome; exit 1
when any provider stayed on the old token.

` + exitCodesHelp,
		Example: `  dcrflow rotate-dcr-token --name partners --wait
  dcrflow rotate-dcr-token --name partners --wait --continue-on-error --max-concurrent 2`,
		Args: noStrayArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dcrflow.DCRTokenName(name) == "" {
				return usageErr("%s: --name is required: the DCR token's name, as in dcr_tokens.<name>", cmd.CommandPath())
			}
			if _, next := dcrflow.IsNextDCRTokenName(name); next {
				return usageErr("--name %s: name the token being replaced, not its new one (%s)", name, dcrflow.NextTokenSuffix)
			}
			if maxConcurrent <= 0 {
				return usageErr("--max-concurrent %d: want a number above 0", maxConcurrent)
			}
			return a.rotate(cmd, dcrflow.RotateInput{Name: dcrflow.DCRTokenName(name), ContinueOnError: continueOnError, MaxConcurrent: maxConcurrent}, wait)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the DCR token's name (as in dcr_tokens.<name>), required")
	cmd.Flags().BoolVar(&continueOnError, "continue-on-error", false, "after a provider fails (and is put back on the old token), go on with the others")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "wait, watching live, and print each provider's outcome (exit 1 if any stayed on the old token)")
	cmd.Flags().IntVar(&maxConcurrent, "max-concurrent", 4, "providers rotated at once")
	return cmd
}

func (a *app) rotate(cmd *cobra.Command, in dcrflow.RotateInput, wait bool) error {
	c, cfg, err := a.connect(cmd)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := cmd.Context()
	var dc converter.DataConverter
	if pc := cfg.Codec.PayloadCodec(); pc != nil {
		dc = codec.NewDataConverter(pc)
	}
	if in.Providers, err = launcher.TokenUsers(ctx, c, dc, in.Name); err != nil {
		return failed(err)
	}
	if len(in.Providers) == 0 {
		return failed(fmt.Errorf("no onboarding record names DCR token %s: no provider to rotate (the records are the portals' completed onboardings that Temporal keeps; onboard a portal again to record it)", in.Name))
	}
	if in.UpsertSearchAttributes, err = launcher.SearchAttributesRegistered(ctx, c, cfg.Temporal.Namespace); err != nil {
		return failed(err)
	}
	r, err := launcher.StartRotation(ctx, c, cfg.Temporal.TaskQueue, in)
	if err != nil {
		return failed(err)
	}
	verb := "started"
	if !r.Started {
		verb = "attached to running"
	}
	if a.jsonOut {
		_ = a.emit(map[string]any{"type": "started", "kind": "rotation", "attached": !r.Started, "name": in.Name, "providers": len(in.Providers), "workflow_id": r.WorkflowID, "run_id": r.RunID})
	} else {
		a.printf("%s rotation of DCR token %s: %d provider(s), workflow %s (run %s)\n", verb, in.Name, len(in.Providers), r.WorkflowID, r.RunID)
	}
	if !wait {
		return nil
	}
	wctx, stop := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		if !a.jsonOut {
			launcher.WatchRotation(wctx, c, in.Name, a.liveWriter(), a.stdoutTTY, time.Second)
		}
	}()
	res, err := r.Wait(ctx)
	stop()
	<-watched
	if res == nil {
		return failed(fmt.Errorf("rotation of %s: %w", in.Name, err))
	}
	if a.jsonOut {
		_ = a.emit(map[string]any{"type": "rotation_result", "name": in.Name, "workflow_id": r.WorkflowID, "result": res})
	} else {
		launcher.PrintRotation(a.stdout, res)
	}
	if !res.SafeToRevoke {
		return failed(fmt.Errorf("rotation of %s: provider(s) still on the old token: %v", in.Name, res.OnOldToken()))
	}
	return nil
}
