// Command worker runs dcrflow's workflows and activities on a Temporal task queue.
//
//	worker [-config worker.yaml]   (or DCRFLOW_* environment variables; see README)
package main

import (
	"flag"
	"fmt"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/internal/logging"
	"github.com/dcrflow/dcrflow/workflows"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	configPath := flag.String("config", "", "worker config file (YAML); DCRFLOW_* variables override it")
	level := flag.String("log-level", "info", "debug, info, warn or error")
	flag.Parse()

	cfg, err := config.LoadWorker(*configPath)
	if err != nil {
		return err
	}
	log, err := logging.New(*level)
	if err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	defer func() { _ = log.Sync() }()

	oktaClient, err := okta.New(okta.Config{OrgURL: cfg.Okta.OrgURL, Token: cfg.Okta.Token})
	if err != nil {
		return err
	}
	konnectClient, err := konnect.New(konnect.Config{Region: cfg.Konnect.Region, BaseURL: cfg.Konnect.BaseURL, Token: cfg.Konnect.Token})
	if err != nil {
		return err
	}
	c, err := client.Dial(cfg.Temporal.ClientOptions(logging.Temporal(log)))
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s (namespace %s): %w", cfg.Temporal.Address, cfg.Temporal.Namespace, err)
	}
	defer c.Close()

	w := worker.New(c, cfg.Temporal.TaskQueue, worker.Options{})
	workflows.Register(w)
	w.RegisterActivity(&activities.Activities{Okta: oktaClient, Konnect: activities.KonnectFrom(konnectClient), DCRTokens: cfg.DCRTokens})
	log.Sugar().Infow("worker started", "temporal", cfg.Temporal.Address, "namespace", cfg.Temporal.Namespace,
		"task_queue", cfg.Temporal.TaskQueue, "okta", cfg.Okta.OrgURL, "dcr_tokens", cfg.DCRTokenNames())
	// Run returns after SIGINT/SIGTERM once in-flight tasks are handed back.
	if err := w.Run(worker.InterruptCh()); err != nil {
		return err
	}
	log.Info("worker stopped")
	return nil
}
