package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/doctor"
	"github.com/dcrflow/dcrflow/internal/logging"
	"github.com/dcrflow/dcrflow/onboarding"
)

// doctorCmd is `starter doctor`: read-only checks of the worker's configuration
// against the real orgs and Temporal. Exit 0: every check passed (warnings
// allowed); 1: some check failed; 2: the flags, the file or the configuration are
// wrong. It reads the worker's configuration, secrets included, and writes nothing.
func doctorCmd(args []string) (int, error) {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	configPath := fs.String("config", "", "the worker's config file (YAML); DCRFLOW_* override it")
	file := fs.String("f", "", "onboarding file (YAML): also check its authorization servers, access policies and portals")
	out := fs.String("o", "text", "output: text or json")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if *out != "text" && *out != "json" {
		return 2, fmt.Errorf("-o %q: want text or json", *out)
	}
	cfg, err := config.LoadWorker(*configPath)
	if err != nil {
		return 2, err
	}
	log, err := logging.New("error")
	if err != nil {
		return 2, err
	}
	deps, err := doctor.FromConfig(cfg, logging.Temporal(log))
	if err != nil {
		return 2, err
	}
	if *file != "" {
		if deps.Portals, err = onboarding.Load(*file); err != nil {
			return 2, err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := doctor.Run(ctx, deps)
	if err := r.Print(os.Stdout, *out == "json"); err != nil {
		return 1, err
	}
	if !r.OK {
		return 1, nil
	}
	return 0, nil
}
