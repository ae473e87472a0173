package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/converter"
	"golang.org/x/term"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/codec"
	"github.com/dcrflow/dcrflow/launcher"
)

// pruneFlags are onboard's --prune and --yes.
type pruneFlags struct {
	prune, yes bool
}

func (p *pruneFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&p.prune, "prune", false, "also offboard the portals this fleet onboarded earlier that the file no longer lists (shown first; shared resources stay)")
	cmd.Flags().BoolVarP(&p.yes, "yes", "y", false, "with --prune: offboard without asking (required when stdin is not a terminal)")
}

// pruneCandidates are the portals --prune offboards (see launcher.PruneCandidates).
func (a *app) pruneCandidates(s *session) ([]dcrflow.PortalSpec, error) {
	var dc converter.DataConverter
	if pc := s.cfg.Codec.PayloadCodec(); pc != nil {
		dc = codec.NewDataConverter(pc)
	}
	return launcher.PruneCandidates(s.ctx, s.c, dc, s.name, s.specs)
}

// prune shows the portals to offboard, asks (or takes --yes), then offboards them,
// waiting, through the offboard workflow (what other portals share stays).
func (a *app) prune(s *session, f fileFlags, p pruneFlags) error {
	if len(f.portals) > 0 {
		return usageErr("--prune works on the whole file: leave out --portal")
	}
	// A worker must hold the file's DCR tokens: a file that cannot run prunes nothing.
	if err := launcher.Preflight(s.ctx, s.c, s.cfg.Temporal.TaskQueue, s.file, s.specs); err != nil {
		return withCode(exitUsage, err)
	}
	specs, err := a.pruneCandidates(s)
	if err != nil {
		return failed(err)
	}
	if a.jsonOut {
		_ = a.emit(map[string]any{"type": "prune", "fleet": s.name, "offboard": keys(specs)})
	} else {
		launcher.PrintPrune(a.stdout, s.name, specs)
	}
	if len(specs) == 0 {
		return nil
	}
	if !p.yes {
		if !term.IsTerminal(int(os.Stdin.Fd())) {
			return withCode(exitUsage, fmt.Errorf("--prune would offboard %d portal(s) (%s) and stdin is not a terminal to confirm it: add --yes to offboard them",
				len(specs), strings.Join(keys(specs), ", ")))
		}
		fmt.Fprintf(a.stderr, "offboard these %d portal(s)? [y/N] ", len(specs))
		answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return withCode(exitUsage, fmt.Errorf("prune: not confirmed; nothing was offboarded or onboarded"))
		}
	}
	// The fleet of an earlier file, still running, may still start them: refused.
	inputs, err := launcher.PrepareOffboard(s.ctx, s.c, s.name, specs)
	if err != nil {
		return failed(err)
	}
	outcomes := launcher.Offboard(s.ctx, s.c, s.cfg.Temporal.TaskQueue, inputs, max(f.maxConcurrent, 1))
	if n := a.printOffboard(s, outcomes); n > 0 {
		return failed(fmt.Errorf("prune: %d of %d offboarding(s) failed; nothing was onboarded", n, len(outcomes)))
	}
	return nil
}
