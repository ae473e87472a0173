package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/doctor"
	"github.com/dcrflow/dcrflow/internal/logging"
	"github.com/dcrflow/dcrflow/onboarding"
)

func (a *app) doctorCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "doctor [-f FILE]",
		Short: "Read-only checks of a worker's configuration against Okta, Konnect and Temporal",
		Long: `doctor reads the worker's configuration (--config and DCRFLOW_*, secrets included)
and checks, each with a pass, a warning or a failure and its fix: the Okta org, token and
auth mode (scopes or admin role), each authorization server of the file and whether an
access policy would issue client_credentials tokens, each DCR token against
/oauth2/v1/clients, the Konnect token, its region and read rights, the rate-limit
headroom in the answers' headers, and the Temporal namespace. It writes nothing, anywhere.

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 bad flags,
file or configuration.`,
		Example: `  dcrflow doctor --config worker.yaml
  dcrflow doctor --config worker.yaml -f portals.yaml -o json`,
		Args: noStrayArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadWorker(a.configPath)
			if err != nil {
				return withCode(exitUsage, err)
			}
			log, err := logging.New("error")
			if err != nil {
				return failed(err)
			}
			deps, err := doctor.FromConfig(cfg, logging.Temporal(log))
			if err != nil {
				return withCode(exitUsage, err)
			}
			if file != "" {
				if deps.Portals, err = onboarding.Load(file); err != nil {
					return withCode(exitUsage, err)
				}
			}
			r := doctor.Run(cmd.Context(), deps)
			if err := r.Print(a.stdout, a.jsonOut); err != nil {
				return failed(err)
			}
			if !r.OK {
				return failed(fmt.Errorf("doctor: a check failed; see its fix above"))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "onboarding file (YAML): also check its authorization servers, access policies and portals")
	return cmd
}
