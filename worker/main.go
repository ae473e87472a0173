// Command worker runs dcrflow's workflows and activities on a Temporal task queue.
//
//	worker [-config worker.yaml] [-codec-addr 127.0.0.1:8081] [-metrics-addr 127.0.0.1:9090]   (or DCRFLOW_* environment variables; see README)
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"

	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/codec"
	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/internal/health"
	"github.com/dcrflow/dcrflow/internal/logging"
	"github.com/dcrflow/dcrflow/internal/tracing"
	"github.com/dcrflow/dcrflow/internal/unstick"
	"github.com/dcrflow/dcrflow/internal/wiring"
	"github.com/dcrflow/dcrflow/ratelimit"
	"github.com/dcrflow/dcrflow/ratelimit/peers"
	"github.com/dcrflow/dcrflow/usage"
	"github.com/dcrflow/dcrflow/workflows"
)

// countEvery is how often the worker recounts the live workers its budgets are
// shared by.
const countEvery = 5 * time.Second

// gcPercent is the worker's garbage-collection target unless GOGC says otherwise:
// half Go's default headroom above the live heap. The worker waits on the network far
// more than it computes (under Go's default its collector took about 1 % of its CPU),
// and a fleet's usage records are its live heap: at 10,000 portals Go's default let
// the process grow to twice them (bench phase 5, docs/performance.md).
const gcPercent = 50

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

// dataConverter is the one the client writes payloads with: the fleet's chunks are
// read back from history through it.
func dataConverter(pc *codec.Codec) converter.DataConverter {
	if pc == nil {
		return converter.GetDefaultDataConverter()
	}
	return codec.NewDataConverter(pc)
}

func run() error {
	configPath := flag.String("config", "", "worker config file (YAML); DCRFLOW_* variables override it")
	level := flag.String("log-level", "", "debug, info, warn or error (overrides log.level, DCRFLOW_LOG_LEVEL; default info)")
	format := flag.String("log-format", "", "auto (console on a terminal, else JSON), console or json (overrides log.format, DCRFLOW_LOG_FORMAT)")
	codecAddr := flag.String("codec-addr", "", "serve the payload codec endpoint for the Temporal UI on host:port (overrides codec.listen)")
	metricsAddr := flag.String("metrics-addr", "", "serve Prometheus metrics on host:port at /metrics (overrides metrics.listen)")
	flag.Parse()

	cfg, err := config.LoadWorker(*configPath)
	if err != nil {
		return err
	}
	if *codecAddr != "" {
		cfg.Codec.Listen = *codecAddr
	}
	if *metricsAddr != "" {
		cfg.Metrics.Listen = *metricsAddr
	}
	if *level != "" {
		cfg.Log.Level = *level
	}
	if *format != "" {
		cfg.Log.Format = *format
	}
	log, err := logging.NewFor(cfg.Log.Level, cfg.Log.Format, os.Stderr)
	if err != nil {
		return fmt.Errorf("-log-level / log.level: %w", err)
	}
	defer func() { _ = log.Sync() }()
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}

	// met is nil without metrics.listen: its observers and handler then record nothing.
	met, err := serveMetrics(cfg.Metrics, func(err error) { log.Sugar().Warnw("metrics", "error", err) })
	if err != nil {
		return err
	}
	defer func() { _ = met.Close() }()
	// The request budgets sit under both clients. A wait for a slot stays well below
	// validation's heartbeat timeout; a longer one defers the step (BudgetError).
	// A request needing several slots of one budget at once (verify) may wait their
	// gaps too, up to ¾ of a step's attempt; a share too small for that fails the step
	// with the arithmetic (ratelimit.ErrTooSmall) instead of deferring it forever.
	budget := ratelimit.New(ratelimit.Config{Budgets: cfg.RateLimits.Budgets(), MaxWait: workflows.ValidateHeartbeatTimeout / 2,
		StepWait: workflows.StepTimeout * 3 / 4, Observer: met})
	// OpenTelemetry only when OTEL_EXPORTER_OTLP_ENDPOINT is set (tr is nil otherwise).
	tr, err := tracing.Setup(context.Background(), "dcrflow-worker")
	if err != nil {
		return err
	}
	defer func() { _ = tr.Shutdown(context.Background()) }()
	oktaHTTP := &http.Client{Transport: budget.Transport(tr.Transport("okta", nil), ratelimit.OktaRoutes(cfg.Okta.OrgURL))}
	oktaCfg := cfg.Okta.ClientConfig() // SSWS token or OAuth service app (okta.auth_mode)
	oktaCfg.HTTPClient, oktaCfg.Observer = oktaHTTP, met.ObserveOkta
	oktaClient, err := okta.New(oktaCfg)
	if err != nil {
		return fmt.Errorf("okta settings: %w", err)
	}
	konnectHTTP := &http.Client{}
	konnectClient, err := konnect.New(konnect.Config{Region: cfg.Konnect.Region, BaseURL: cfg.Konnect.BaseURL, Token: cfg.Konnect.Token, HTTPClient: konnectHTTP, Observer: met.ObserveKonnect})
	if err != nil {
		return fmt.Errorf("konnect.region / konnect.base_url / konnect.token: %w", err)
	}
	konnectHTTP.Transport = budget.Transport(tr.Transport("konnect", nil), ratelimit.KonnectRoutes(konnectClient.BaseURL())) // the base a region names is known now
	// The SDK's logger, watched for the dev server's failed update tasks (package unstick).
	sdkLog := logging.Temporal(log)
	unsticker := unstick.New(sdkLog)
	unsticker.Cleared = met.StickyCleared
	c, err := wiring.DialTemporal(context.Background(), cfg.Temporal, unsticker.Logger(sdkLog), cfg.Codec.PayloadCodec(), wiring.WithMetrics(met.Handler()), tr.ClientOption())
	if err != nil {
		return err
	}
	defer c.Close()
	unstickCtx, stopUnsticking := context.WithCancel(context.Background())
	defer stopUnsticking()
	go unsticker.Run(unstickCtx, unstick.Reset(c, cfg.Temporal.Namespace))
	codecSrv, err := serveCodec(cfg.Codec)
	if err != nil {
		return err
	}
	if codecSrv != nil {
		log.Sugar().Infow("codec endpoint for the Temporal UI", "url", codecSrv.URL(), "cors_origin", cfg.Codec.CORSOrigin, "auth", cfg.Codec.AuthToken != "")
		if cfg.Codec.OpenToAll() {
			log.Warn("the codec endpoint listens beyond loopback without codec.auth_token: whoever reaches it can decrypt every payload")
		}
		defer func() { _ = codecSrv.Close() }()
	}

	identity := peers.Identity()
	if budget.Active() {
		// Each worker spends budget ÷ live workers: count them now, before polling, and
		// keep counting.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		counter := &peers.Counter{Client: c, TaskQueue: cfg.Temporal.TaskQueue, Identity: identity}
		var lastErr string
		warn := func(err error) {
			if err.Error() != lastErr { // once per kind of failure, not every few seconds
				lastErr = err.Error()
				log.Sugar().Warnw("request budget: keeping the last worker count", "workers", budget.Workers(), "error", err)
			}
		}
		if err := budget.Refresh(ctx, counter.Count); err != nil {
			warn(err)
		}
		go budget.Follow(ctx, counter.Count, countEvery, warn)
	}

	if met != nil { // /healthz and /readyz beside /metrics
		ready := &health.Checker{Client: c, TaskQueue: cfg.Temporal.TaskQueue, Identity: identity, Every: 2 * time.Second}
		met.Mount("/healthz", health.Healthz())
		met.Mount("/readyz", ready.Readyz())
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go ready.Run(ctx)
	}
	// Pollers scale with the work (the SDK's default is 2 of each): every step of every
	// portal waits on a workflow task, the shared-use records' updates too, and a task
	// left more than 5 s on this worker's sticky queue goes back to the shared one, to
	// be replayed whole.
	w := worker.New(c, cfg.Temporal.TaskQueue, worker.Options{Identity: identity,
		WorkflowTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{}),
		ActivityTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{})})
	workflows.Register(w)
	w.RegisterActivity(&activities.Activities{Okta: oktaClient, Konnect: activities.KonnectFrom(konnectClient), DCRTokens: cfg.DCRTokens,
		Usage: &usage.Temporal{Client: c, TaskQueue: cfg.Temporal.TaskQueue, OktaOrg: usage.OrgOf(cfg.Okta.OrgURL), KonnectOrg: usage.OrgOf(konnectClient.BaseURL())}})
	w.RegisterActivity(&activities.Fleet{Temporal: c, DataConverter: dataConverter(cfg.Codec.PayloadCodec())})
	log.Sugar().Infow("worker started", "temporal", cfg.Temporal.Address, "namespace", cfg.Temporal.Namespace,
		"task_queue", cfg.Temporal.TaskQueue, "okta", cfg.Okta.OrgURL, "dcr_tokens", cfg.DCRTokenNames(),
		"tls", cfg.Temporal.TLS.On() || cfg.Temporal.APIKey != "", "encryption_key_id", cfg.Codec.KeyID, "metrics", met.URL(),
		"rate_limits_rpm", cfg.RateLimits, "workers_sharing_them", budget.Workers(),
		"most_workers_the_budgets_allow", ratelimit.MaxWorkers(cfg.RateLimits.Budgets(), workflows.StepTimeout*3/4))
	// Run returns after SIGINT/SIGTERM once in-flight tasks are handed back.
	if err := w.Run(worker.InterruptCh()); err != nil {
		return err
	}
	log.Info("worker stopped")
	return nil
}
