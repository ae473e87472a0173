// Command bench measures dcrflow against the sandbox with realistic latency and rate
// limits, all in one run, and writes a Markdown report and a PNG chart:
//
//  1. budget efficiency: a fleet under an Okta management limit, against the lower
//     bound the limit allows (calls ÷ rate);
//  2. orchestration gain: the same fleet without limits against a plain sequential
//     loop over the same activities and clients, without Temporal;
//  3. cost: worker and server CPU per portal, worker peak memory, for a large fleet;
//  4. two workers sharing one budget: the rate they reach together.
//
// It is a benchmark, not a test: it reports figures and asserts nothing about them.
// Every process (dev server, sandbox, workers) is its own, so their CPU does not mix.
//
//	go run ./bench [-portals 300] [-large 1000] [-okta-rpm 2400] [-out bench/report]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type options struct {
	portals       int
	large         int
	loopPortals   int
	oktaRPM       int
	maxConcurrent int
	budgetConc    int
	out           string
	phases        string
	temporalBin   string
	xl            string
	orgPortals    int
	orgConc       int
	orgRequests   string

	// The soak (make soak): -soak runs it instead of the bench's phases.
	soak              bool
	keep              bool
	orgStartInterval  time.Duration
	soakPortals       int
	faultRate         float64
	maxConcurrentSoak int
	soakWait          time.Duration
	soakOut           string
}

func main() {
	var o options
	flag.IntVar(&o.portals, "portals", 300, "fleet size of phases 1, 2 and 4")
	flag.IntVar(&o.large, "large", 1000, "fleet size of phase 3 (cost)")
	flag.IntVar(&o.loopPortals, "loop-portals", 40, "portals the sequential loop onboards (its throughput is per portal)")
	flag.IntVar(&o.oktaRPM, "okta-rpm", 2400, "Okta management requests per minute: the sandbox's limit and the workers' budget in phases 1 and 4")
	flag.IntVar(&o.maxConcurrent, "max-concurrent", 100, "the fleets' MaxConcurrent without limits (phases 2 and 3)")
	flag.IntVar(&o.budgetConc, "budget-max-concurrent", 30, "the fleets' MaxConcurrent under the budget (phases 1 and 4): enough to keep it busy, few enough that requests seldom wait long for a slot")
	flag.StringVar(&o.out, "out", "bench/report", "where REPORT.md and the chart go (relative to the module root)")
	flag.StringVar(&o.phases, "phases", "1,2,3,4,6", "which phases to run (5: the -xl fleets; 6: the real org)")
	flag.IntVar(&o.orgConc, "org-max-concurrent", 8, "phase 6: the fleet's MaxConcurrent; the DCR bucket (100/min, 4 calls a portal) serves 25 portals a minute, and its steps wait their turn in it: 8 keep it nearly busy, 16 fill it but reach it later (the start's management and Konnect calls of 16 portals at once)")
	flag.StringVar(&o.orgRequests, "org-requests", "", "phase 6: also write the fleet's request log (the sandbox's, JSON) to this file, to read the calls again")
	flag.DurationVar(&o.orgStartInterval, "org-start-interval", time.Second, "phase 6: the fleet's start interval (--start-interval): a portal makes about 8 management and 5 Konnect calls before its first DCR call; started a second apart, the first portals reach the DCR bucket (the tightest) after their own calls, not after everyone's")
	flag.IntVar(&o.orgPortals, "org-portals", 60, "phase 6: the fleet under a real org's limits (its DCR bucket allows about 25 portals a minute)")
	flag.StringVar(&o.xl, "xl", "1000,10000", "phase 5: fleet sizes, without limits and validation, each measured for memory, CPU per portal and the fleet workflow's history and payloads")
	flag.StringVar(&o.temporalBin, "temporal", os.Getenv("DCRFLOW_TEMPORAL_BIN"), "the Temporal CLI (default: bin/temporal at the module root)")
	flag.BoolVar(&o.keep, "keep", false, "keep the processes' logs (the bench's work directory) after a run that succeeded")
	flag.BoolVar(&o.soak, "soak", false, "run the soak (make soak) instead of the phases: a fleet under faults, kills and a server restart, then an audit")
	flag.IntVar(&o.soakPortals, "soak-portals", 200, "the soak's fleet size")
	flag.Float64Var(&o.faultRate, "fault-rate", 0.05, "the soak's share of calls answered by a random fault")
	flag.IntVar(&o.maxConcurrentSoak, "soak-max-concurrent", 25, "the soak fleet's MaxConcurrent")
	flag.DurationVar(&o.soakWait, "soak-wait", 25*time.Minute, "how long the soak waits for its fleet")
	flag.StringVar(&o.soakOut, "soak-out", "bench/report/soak", "where the soak's REPORT.md goes (relative to the module root)")
	flag.Parse()

	// Ctrl-C or SIGTERM cancels the run; everything started is stopped on the way out.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) (err error) {
	if runtime.GOOS != "linux" {
		return errors.New("the bench reads CPU and memory from /proc: it runs on Linux only")
	}
	began := time.Now()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if o.temporalBin == "" {
		o.temporalBin = filepath.Join(root, "bin", "temporal")
	}
	if _, err := os.Stat(o.temporalBin); err != nil {
		return fmt.Errorf("no Temporal CLI at %s: run `make bench` (it builds bin/temporal) or pass -temporal", o.temporalBin)
	}
	work, err := os.MkdirTemp("", "dcrflow-bench-")
	if err != nil {
		return err
	}
	var cl cleanups
	defer func() {
		cl.run()
		if err == nil && !o.keep {
			_ = os.RemoveAll(work)
		} else {
			fmt.Fprintf(os.Stderr, "bench: the processes' logs are in %s\n", work)
		}
	}()

	if o.soak {
		return soak(ctx, o, root, work, &cl)
	}
	logf("building the worker and the sandbox")
	workerBin, sandboxBin, err := buildBinaries(ctx, root, work)
	if err != nil {
		return err
	}
	fixture := filepath.Join(work, "fixture.json")
	sizes, err := xlSizes(o.xl)
	if err != nil {
		return err
	}
	largest := max(o.portals, o.large, o.loopPortals, o.orgPortals)
	if strings.Contains(","+o.phases+",", ",5,") {
		for _, n := range sizes {
			largest = max(largest, n)
		}
	}
	if err := writeFixture(fixture, largest); err != nil {
		return err
	}
	logf("starting the Temporal dev server and the sandbox (logs in %s)", work)
	srv, err := startTemporal(ctx, o.temporalBin, filepath.Join(work, "temporal.log"))
	if err != nil {
		return err
	}
	cl.add(srv.stop)
	sb, err := startSandbox(ctx, sandboxBin, work, fixture)
	if err != nil {
		return err
	}
	cl.add(sb.stop)

	b := &bench{ctx: ctx, o: o, work: work, workerBin: workerBin, srv: srv, sb: sb, c: srv.srv.Client()}
	rep := &report{Options: o, Started: began, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Latency: latencyFaults}
	rep.Load[0] = loadAvg()
	want := func(p string) bool { return strings.Contains(","+o.phases+",", ","+p+",") }
	limited := oktaLimit(o.oktaRPM)

	if want("1") {
		if rep.Budget, err = b.fleet(phaseCfg{name: "budget", prefix: "p1", portals: o.portals, workers: 1,
			maxConcurrent: o.budgetConc, limits: limited, budget: budget{OktaManagement: o.oktaRPM}}); err != nil {
			return fmt.Errorf("phase 1: %w", err)
		}
	}
	if want("2") {
		if rep.Unlimited, err = b.fleet(phaseCfg{name: "unlimited", prefix: "p2", portals: o.portals, workers: 1,
			maxConcurrent: o.maxConcurrent}); err != nil {
			return fmt.Errorf("phase 2 (fleet): %w", err)
		}
		if rep.Loop, err = b.loop(min(o.loopPortals, o.portals)); err != nil {
			return fmt.Errorf("phase 2 (loop): %w", err)
		}
	}
	if want("3") {
		if rep.Large, err = b.fleet(phaseCfg{name: "large", prefix: "p3", portals: o.large, workers: 1,
			maxConcurrent: o.maxConcurrent}); err != nil {
			return fmt.Errorf("phase 3: %w", err)
		}
	}
	if want("4") {
		if rep.TwoWorkers, err = b.fleet(phaseCfg{name: "two-workers", prefix: "p4", portals: o.portals, workers: 2,
			maxConcurrent: o.budgetConc, limits: limited, budget: budget{OktaManagement: o.oktaRPM}}); err != nil {
			return fmt.Errorf("phase 4: %w", err)
		}
	}
	if want("5") {
		for _, n := range sizes {
			r, err := b.xl(n)
			if err != nil {
				return fmt.Errorf("phase 5 (%d portals): %w", n, err)
			}
			rep.XL = append(rep.XL, r)
		}
	}
	if want("6") {
		if rep.Org, err = b.orgPhase(o.orgPortals); err != nil {
			return fmt.Errorf("phase 6: %w", err)
		}
	}
	rep.Elapsed = time.Since(began)
	rep.Load[1] = loadAvg()

	outDir := o.out
	if !filepath.IsAbs(outDir) {
		outDir = filepath.Join(root, outDir)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	if err := writeChart(filepath.Join(outDir, chartFile), rep); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	md := rep.markdown()
	if err := os.WriteFile(filepath.Join(outDir, "REPORT.md"), []byte(md), 0o644); err != nil {
		return err
	}
	if len(rep.XL) > 0 {
		// The samples (portals done, server CPU) of the large fleets, to read the growth again.
		raw := map[string][]sample{}
		for _, r := range rep.XL {
			raw[r.Name] = r.Samples
		}
		if b, err := json.Marshal(raw); err == nil {
			_ = os.WriteFile(filepath.Join(outDir, "xl-samples.json"), b, 0o644)
		}
	}
	fmt.Println()
	fmt.Print(rep.summary())
	fmt.Printf("\nreport: %s, chart: %s (bench took %s)\n", filepath.Join(outDir, "REPORT.md"), filepath.Join(outDir, chartFile), rep.Elapsed.Round(time.Second))
	return nil
}

func logf(format string, args ...any) {
	fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// loadAvg is the machine's 1-minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
