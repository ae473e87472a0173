package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/sandbox"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	"github.com/dcrflow/dcrflow/sandbox/ratelimit"
)

// latencyFaults make every call as slow as a real one over the internet: reads
// 30–40 ms, writes 60–80 ms, OAuth (DCR, token, keys) 50 ms. First match wins.
var latencyFaults = []faults.Fault{
	{Method: "GET", Path: "/api/v1/**", LatencyMS: 40},
	{Path: "/api/v1/**", LatencyMS: 80},
	{Path: "/oauth2/**", LatencyMS: 50},
	{Method: "GET", Path: "/v2/**", LatencyMS: 30},
	{Method: "GET", Path: "/v3/**", LatencyMS: 30},
	{Path: "/v2/**", LatencyMS: 60},
	{Path: "/v3/**", LatencyMS: 70},
}

// budget is dcrflow's own request budget per minute, per system (0 = none), given to
// every worker of a phase; the workers hold it together.
type budget struct {
	OktaManagement int `json:"okta_management_rpm"`
	OktaDCR        int `json:"okta_dcr_rpm"`
	Konnect        int `json:"konnect_rpm"`
}

func oktaLimit(rpm int) sandbox.RateLimits {
	return sandbox.RateLimits{OktaManagement: ratelimit.Settings{PerMinute: rpm}}
}

type phaseCfg struct {
	name, prefix  string
	portals       int
	workers       int
	maxConcurrent int
	startInterval time.Duration      // between the fleet's first starts (FleetInput.StartInterval)
	limits        sandbox.RateLimits // the sandbox's: what Okta and Konnect enforce
	budget        budget             // the workers'
	noValidate    bool               // step 8 off (phase 5: time)
	wait          time.Duration      // for the fleet to end (default 20 minutes)
}

type bench struct {
	ctx       context.Context
	o         options
	work      string
	workerBin string
	srv       *temporalServer
	sb        *sandboxProc
	c         client.Client
}

// sample is how many portals had ended (succeeded or failed) at T seconds.
type sample struct {
	T    float64 `json:"t"`
	Done int     `json:"done"`
	// ServerCPU is the dev server's CPU seconds since the phase began (/proc): the
	// CPU per portal of successive slices of one fleet shows what grows with its size,
	// and a ratio within one run is independent of the machine's load.
	ServerCPU float64 `json:"server_cpu,omitempty"`
}

// workerFigures are one worker process's readings at the end of a phase.
type workerFigures struct {
	CPU       time.Duration
	PeakRSS   int64
	OktaCalls float64 // from its metrics: every Okta exchange it made
	Limited   float64 // 429s it was answered
	// Mean time tasks waited in the task queue for this worker (SDK metrics): long
	// waits mean the worker, not Okta or Konnect, held the fleet back.
	ActivityWait, WorkflowTaskWait time.Duration
	// The request budget as the worker saw it at the end (its metrics; Budgeted false:
	// the worker exports none, so it kept no budget).
	Budgeted      bool
	BudgetRate    float64 // its share of the Okta management budget, per minute
	BudgetWorkers float64 // the live workers it shares the budget with
	BudgetWait    float64 // seconds its Okta management requests waited for a slot
	Deferred      float64 // Okta management requests it did not send (the step retried later)
}

// fleetRun is one phase's fleet and what it cost.
type fleetRun struct {
	Name, Prefix  string
	Portals       int
	Workers       []workerFigures
	MaxConcurrent int
	Limits        sandbox.RateLimits
	Budget        budget
	Wall          time.Duration
	Samples       []sample
	Succeeded     int
	Failed        []dcrflow.FleetFailure // the first ones (the fleet keeps dcrflow.MaxFleetFailures)
	FailedCount   int
	Requests      map[string]bucketStats
	Log           []sandbox.Request
	Start         time.Time
	ServerCPU     time.Duration
	SandboxCPU    time.Duration
}

// prepare returns the sandbox to its fixture with latency and the phase's limits.
func (b *bench) prepare(limits sandbox.RateLimits) error {
	ctl := b.sb.control
	if err := ctl.Reset(b.ctx); err != nil {
		return err
	}
	for _, f := range latencyFaults {
		if _, err := ctl.AddFault(b.ctx, f); err != nil {
			return err
		}
	}
	return ctl.SetRateLimits(b.ctx, limits)
}

// fleet runs one fleet on fresh worker processes and a fresh sandbox.
func (b *bench) fleet(cfg phaseCfg) (*fleetRun, error) {
	logf("phase %s: %d portals, %d worker(s), max %d at once, Okta management limit %s, worker budget %s",
		cfg.name, cfg.portals, cfg.workers, cfg.maxConcurrent, perMinute(cfg.limits.OktaManagement.PerMinute), perMinute(cfg.budget.OktaManagement))
	if err := b.prepare(cfg.limits); err != nil {
		return nil, err
	}
	taskQueue := "bench-" + cfg.name
	var workers []*proc
	var metricsAddrs []string
	defer func() {
		for _, w := range workers {
			w.stop()
		}
	}()
	for i := range cfg.workers {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		w, err := startWorker(b.ctx, b.workerBin, filepath.Join(b.work, fmt.Sprintf("worker-%s-%d.log", cfg.name, i+1)),
			workerEnv(b.srv.srv.FrontendHostPort(), taskQueue, b.sb, addr, cfg.budget))
		if err != nil {
			return nil, err
		}
		workers = append(workers, w)
		metricsAddrs = append(metricsAddrs, addr)
	}

	r := &fleetRun{Name: cfg.name, Prefix: cfg.prefix, Portals: cfg.portals, MaxConcurrent: cfg.maxConcurrent,
		Limits: cfg.limits, Budget: cfg.budget}
	serverCPU, sandboxCPU := cpuOf(b.srv.pid), cpuOf(b.sb.pid())
	workerCPU := make([]time.Duration, len(workers))
	for i, w := range workers {
		workerCPU[i] = cpuOf(w.pid())
	}

	r.Start = time.Now()
	specs := fleetSpecs(cfg.prefix, cfg.portals)
	for i := range specs {
		specs[i].Validate = !cfg.noValidate
	}
	f, err := launcher.StartFleet(b.ctx, b.c, taskQueue, dcrflow.FleetInput{Name: "bench-" + cfg.name,
		Portals: specs, MaxConcurrent: cfg.maxConcurrent, StartInterval: cfg.startInterval})
	if err != nil {
		return nil, err
	}
	if err := f.AwaitPreflight(b.ctx, "bench", specs); err != nil {
		return nil, err
	}
	stopPoll := make(chan struct{})
	var polled sync.WaitGroup
	polled.Add(1)
	go func() {
		defer polled.Done()
		r.Samples = b.pollProgress(f.Name, cfg.portals, r.Start, stopPoll)
	}()
	waitCtx, cancel := context.WithTimeout(b.ctx, cmp.Or(cfg.wait, 20*time.Minute))
	sum, err := f.Wait(waitCtx)
	cancel()
	r.Wall = time.Since(r.Start)
	close(stopPoll)
	polled.Wait()
	if err != nil {
		return nil, fmt.Errorf("fleet %s: %w", f.Name, err)
	}
	r.Samples = append(r.Samples, sample{T: r.Wall.Seconds(), Done: sum.Done()})
	r.Succeeded, r.Failed, r.FailedCount = sum.Succeeded, sum.Failures, sum.Failed

	r.ServerCPU, r.SandboxCPU = cpuOf(b.srv.pid)-serverCPU, cpuOf(b.sb.pid())-sandboxCPU
	for i, w := range workers {
		wf := workerFigures{CPU: cpuOf(w.pid()) - workerCPU[i]}
		wf.PeakRSS, _ = peakRSS(w.pid())
		m := scrapeMetrics(b.ctx, metricsAddrs[i])
		wf.OktaCalls = m.sum("dcrflow_api_requests_total", `system="okta"`)
		wf.Limited = m.sum("dcrflow_rate_limited_total", "")
		mgmt := `budget="okta_management"`
		wf.Budgeted = m.has("dcrflow_budget_rate_per_minute", mgmt)
		wf.BudgetRate = m.sum("dcrflow_budget_rate_per_minute", mgmt)
		wf.BudgetWorkers = m.sum("dcrflow_budget_workers", "")
		wf.BudgetWait = m.sum("dcrflow_budget_wait_seconds_total", mgmt)
		wf.Deferred = m.sum("dcrflow_budget_deferred_total", mgmt)
		wf.ActivityWait = m.mean("temporal_activity_schedule_to_start_latency_seconds")
		wf.WorkflowTaskWait = m.mean("temporal_workflow_task_schedule_to_start_latency_seconds")
		r.Workers = append(r.Workers, wf)
	}
	if r.Log, err = b.sb.control.Requests(b.ctx, 0); err != nil {
		return nil, err
	}
	r.Requests = countRequests(r.Log)
	logf("phase %s: %d/%d succeeded in %s; %d Okta management calls, %d answered 429",
		cfg.name, r.Succeeded, cfg.portals, r.Wall.Round(100*time.Millisecond), r.Requests[bucketOktaMgmt].Calls, r.Requests[bucketOktaMgmt].Limited)
	return r, nil
}

// pollProgress samples the fleet's progress query twice a second until stop.
func (b *bench) pollProgress(name string, total int, start time.Time, stop <-chan struct{}) []sample {
	var out []sample
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	lastLog := time.Now()
	cpu0 := cpuOf(b.srv.pid)
	lastDone, lastCPU := 0, time.Duration(0)
	for {
		select {
		case <-stop:
			return out
		case <-b.ctx.Done():
			return out
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		p, err := launcher.FleetProgress(ctx, b.c, name)
		cancel()
		if err != nil {
			continue // between continue-as-new runs, or a slow answer: the next sample tells
		}
		done := p.Done()
		cpu := cpuOf(b.srv.pid) - cpu0
		out = append(out, sample{T: time.Since(start).Seconds(), Done: done, ServerCPU: cpu.Seconds()})
		if time.Since(lastLog) >= 15*time.Second {
			perPortal := "-"
			if done > lastDone {
				perPortal = fmt.Sprintf("%.3f s", (cpu-lastCPU).Seconds()/float64(done-lastDone))
			}
			logf("  %d/%d portals done after %s (server CPU %.1f s; %s per portal since the last line)", done, total,
				time.Since(start).Round(time.Second), cpu.Seconds(), perPortal)
			lastLog, lastDone, lastCPU = time.Now(), done, cpu
		}
	}
}

func perMinute(n int) string {
	if n <= 0 {
		return "none"
	}
	return fmt.Sprintf("%d/min", n)
}

// metrics is a Prometheus text exposition, line by line.
type metrics []string

// scrapeMetrics reads a worker's /metrics (nothing when it does not answer).
func scrapeMetrics(ctx context.Context, addr string) metrics {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var m metrics
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, "#") {
			m = append(m, line)
		}
	}
	return m
}

// sum adds the values of every series of name whose labels contain label.
func (m metrics) sum(name, label string) float64 {
	var total float64
	for _, line := range m {
		// Label values may hold spaces: the value follows the closing brace.
		series, value, ok := strings.Cut(line, " ")
		if i := strings.LastIndexByte(line, '}'); i >= 0 {
			series, value, ok = line[:i+1], line[i+1:], true
		}
		if !ok || len(strings.Fields(value)) == 0 {
			continue
		}
		metric, labels, _ := strings.Cut(series, "{")
		if metric != name || !strings.Contains(labels, label) {
			continue
		}
		if v, err := strconv.ParseFloat(strings.Fields(value)[0], 64); err == nil {
			total += v
		}
	}
	return total
}

// has tells whether any series of name has label.
func (m metrics) has(name, label string) bool {
	for _, line := range m {
		if metric, labels, _ := strings.Cut(line, "{"); metric == name && strings.Contains(labels, label) {
			return true
		}
	}
	return false
}

// mean is a histogram's _sum ÷ _count, in seconds.
func (m metrics) mean(histogram string) time.Duration {
	n := m.sum(histogram+"_count", "")
	if n == 0 {
		return 0
	}
	return time.Duration(m.sum(histogram+"_sum", "") / n * float64(time.Second))
}
