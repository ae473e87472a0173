package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/textsafe"
	"github.com/dcrflow/dcrflow/launcher"
)

func (a *app) decideCommand() *cobra.Command {
	var portals []string
	var wait bool
	decisions := []string{string(dcrflow.DecisionRetry), string(dcrflow.DecisionAbandon)}
	cmd := &cobra.Command{
		Use:   "decide retry|abandon --portal NAME,...",
		Short: "Decide on held portals: retry the failed step, or abandon (undo, then end)",
		Long: `A portal with on_failure: hold keeps what it built when a step fails for good, and
waits. Fix the cause, then decide: retry runs the failed step again; abandon undoes
what the run built, then ends it. Each named portal must be held; the decision is the
signal "decision" (the same as temporal workflow signal --name decision).

` + exitCodesHelp,
		Example: `  dcrflow decide retry --portal payments --wait     # run the failed step again, wait for the outcome
  dcrflow decide abandon --portal payments --wait   # undo what the run built, then end`,
		ValidArgs: decisions,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("%s needs exactly one decision, retry or abandon; got %d word(s)", cmd.CommandPath(), len(args))
			}
			if d := dcrflow.Decision(args[0]); d != dcrflow.DecisionRetry && d != dcrflow.DecisionAbandon {
				msg := fmt.Sprintf("decision %q: want retry or abandon", args[0])
				for _, d := range decisions {
					if textsafe.EditDistance(args[0], d) <= 2 {
						msg += fmt.Sprintf(": did you mean %s?", d)
					}
				}
				return usageErr("%s", msg)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return a.decide(cmd, args[0], portals, wait) },
	}
	cmd.Flags().StringSliceVar(&portals, "portal", nil, "the held portal(s), comma-separated or repeated; required")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "wait for each portal's run to end and print its outcome")
	return cmd
}

func (a *app) decide(cmd *cobra.Command, decision string, portals []string, wait bool) error {
	if len(portals) == 0 {
		return usageErr("%s needs --portal: the held portal(s) to decide on", cmd.CommandPath())
	}
	c, cfg, err := a.connect(cmd)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := cmd.Context()
	var sent []string
	for _, k := range portals {
		k = strings.TrimSpace(k)
		if err := launcher.Decide(ctx, c, k, dcrflow.Decision(decision)); err != nil {
			return failed(err)
		}
		if a.jsonOut {
			_ = a.emit(map[string]any{"type": "decided", "portal": k, "decision": decision, "workflow_id": dcrflow.OnboardWorkflowID(k)})
		} else {
			a.printf("sent %s to %s\n", decision, k)
		}
		sent = append(sent, k)
	}
	if !wait {
		return nil
	}
	return a.report(ctx, launcher.Attach(c, sent), a.uiBase(cfg.Temporal.Namespace))
}
