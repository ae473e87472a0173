package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/sandbox"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/workflows"
)

// The soak's fleet (issue 20): portals on few authorization servers in groups that
// share nearly everything, a few made to fail after joining what they share.
const (
	soakServers   = 5  // authorization servers: each one's portals share the claim, a scope and the DCR provider
	soakGroupSize = 10 // a group shares a scope, the auth strategy, the Konnect portal and its API's publication
	// soakHoldMS holds an answer past the step's attempt timeout (workflows.StepTimeout).
	soakHoldMS = int(workflows.StepTimeout/time.Millisecond) + 2000
)

// soakSpec is portal i of the soak: group g = i / soakGroupSize on server g mod
// soakServers. Every failEvery-th portal is made to fail: alternately at resolve (an
// API that does not exist) and at publish, after it joined the group's scopes, the
// claim and the provider, with an auth strategy of its own and its own API, whose
// publication is refused for good.
func soakSpec(i, failEvery int) (s dcrflow.PortalSpec, fails string, ownAPI int) {
	g := i / soakGroupSize
	srv := g % soakServers
	key := fmt.Sprintf("soak-%03d", i)
	s = dcrflow.PortalSpec{Key: key, Portal: benchPortalName(g), AuthServer: benchServerID(srv), ClaimName: "client_id",
		Scopes: []dcrflow.ScopeSpec{
			{Name: fmt.Sprintf("soak-s%d-all:read", srv), Description: "Shared by every soak portal of the server"},
			{Name: fmt.Sprintf("soak-g%02d:read", g), Description: "Shared by the soak group"},
		},
		DCRProvider: fmt.Sprintf("dcrflow-soak-s%d", srv), DCRTokenName: "default",
		Strategy: dcrflow.StrategySpec{Name: fmt.Sprintf("dcrflow-soak-g%02d", g), DisplayName: fmt.Sprintf("Okta DCR soak %d", g),
			AuthMethods: []string{"client_credentials"}},
		APIs:         []dcrflow.APISpec{{API: benchAPIName(g % apiPool), Visibility: "public"}},
		AccessPolicy: dcrflow.AccessPolicyCheck, Validate: true, OnFailure: dcrflow.OnFailureCompensate, UpsertSearchAttributes: true,
	}
	ownAPI = -1
	if failEvery > 0 && i%failEvery == failEvery-1 {
		if (i/failEvery)%2 == 0 {
			s.APIs = append(s.APIs, dcrflow.APISpec{API: "soak-no-such-api-" + key, Visibility: "public"})
			return s, workflows.StepResolve, ownAPI
		}
		// Its own strategy (only it uses it: the compensation must remove it) and only
		// its own API, whose publication is refused: an API has one publication per
		// Konnect portal, so it cannot share the group's with another strategy (the
		// onboarding file refuses that too).
		ownAPI = apiPool - 1 - (i/failEvery)%(apiPool/2)
		s.Strategy.Name, s.Strategy.DisplayName = "dcrflow-soak-own-"+key, "Okta DCR "+key
		s.APIs = []dcrflow.APISpec{{API: benchAPIName(ownAPI), Visibility: "public"}}
		return s, workflows.StepPublish, ownAPI
	}
	return s, "", ownAPI
}

// soakFaults are the random faults on every endpoint of both systems, at rate in
// all: 5xx, 429s naming a reset, dropped connections, answers held past the step's
// timeout (after the call's side effect) and errors that quote the whole request,
// credentials included (no token may reach a history or a log through them).
func soakFaults(rate float64) []faults.Fault {
	share := func(w float64) float64 { return rate * w }
	// Each fault takes its share of the calls the ones before it spared.
	return []faults.Fault{
		{Path: "**", Status: 503, Rate: share(0.30)},
		{Path: "**", Status: 500, Rate: share(0.10) / (1 - share(0.30))},
		{Path: "**", Status: 429, RetryAfterSeconds: 2, Rate: share(0.25) / (1 - share(0.40))},
		{Path: "**", Drop: true, Rate: share(0.20) / (1 - share(0.65))},
		{Path: "**", LatencyMS: soakHoldMS, DelayResponse: true, Rate: share(0.10) / (1 - share(0.85))},
		{Path: "**", Status: 502, EchoRequest: true, Rate: share(0.05) / (1 - share(0.95))},
	}
}

// chaosEvent is one thing done to the stack while the fleet runs, when at least
// At of its portals had ended.
type chaosEvent struct {
	At     float64
	What   string
	Done   int       // portals ended when it happened
	When   time.Time // zero: never happened (the fleet ended first)
	Took   time.Duration
	Detail string
}

type soakResult struct {
	Portals      int
	Rate         float64
	Started      time.Time
	Wall         time.Duration
	Summary      dcrflow.FleetSummary
	Events       []chaosEvent
	Faults       []faults.Fault
	FaultedCalls map[string]int // system → calls a fault answered (or dropped, or held)
	Calls        map[string]int // system → calls
	Outcomes     []soakOutcome
	Audit        []auditCheck
	Histories    int
	Events2      int // history events read
	LogsScanned  []string
	KonnectLeft  int // Konnect's verification clients left in Okta (its delete failed)
}

// konnectVerifyClient opens the name of the client Konnect's verify registers.
const konnectVerifyClient = "konnect-dcr-verification-"

type soakOutcome struct {
	Key, Want, Step, Message string
	Succeeded, Compensated   bool
}

type auditCheck struct {
	Name     string
	OK       bool
	Problems []string
}

func (c *auditCheck) fail(format string, args ...any) {
	c.OK = false
	if len(c.Problems) < 20 {
		c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
	} else if len(c.Problems) == 20 {
		c.Problems = append(c.Problems, "…")
	}
}

// soak runs issue 20's soak and writes its report; an audit failure is an error.
func soak(ctx context.Context, o options, root, work string, cl *cleanups) error {
	began := time.Now()
	logf("soak: building the worker and the sandbox")
	workerBin, sandboxBin, err := buildBinaries(ctx, root, work)
	if err != nil {
		return err
	}
	fixture := filepath.Join(work, "fixture.json")
	if err := writeFixture(fixture, o.soakPortals/soakGroupSize+1); err != nil {
		return err
	}
	hostPort, err := freeAddr()
	if err != nil {
		return err
	}
	db, tlog := filepath.Join(work, "temporal.db"), filepath.Join(work, "temporal.log")
	srv, err := startTemporalAt(ctx, o.temporalBin, tlog, hostPort, db)
	if err != nil {
		return err
	}
	var srvMu sync.Mutex
	cl.add(func() {
		srvMu.Lock()
		defer srvMu.Unlock()
		srv.stop()
	})
	sb, err := startSandbox(ctx, sandboxBin, work, fixture)
	if err != nil {
		return err
	}
	cl.add(sb.stop)
	// The soak's own client: it outlives the dev server's restart (it redials).
	c, err := client.Dial(client.Options{HostPort: hostPort, Namespace: "default", Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer c.Close()

	r := &soakResult{Portals: o.soakPortals, Rate: o.faultRate, FaultedCalls: map[string]int{}, Calls: map[string]int{}}
	specs, want, refused := soakFleet(o.soakPortals)
	failing := 0
	for _, step := range want {
		if step != "" {
			failing++
		}
	}
	ctl := sb.control
	if err := ctl.Reset(ctx); err != nil {
		return err
	}
	var before soakState
	if err := ctl.State(ctx, &before); err != nil {
		return err
	}
	if err := addSoakFaults(ctx, ctl, refused, o.faultRate); err != nil {
		return err
	}

	taskQueue := "soak"
	var wlogs []string
	newWorker := func(name string) (*proc, error) {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		path := filepath.Join(work, fmt.Sprintf("worker-%s-%d.log", name, len(wlogs)+1))
		wlogs = append(wlogs, path)
		return startWorker(ctx, workerBin, path, workerEnv(hostPort, taskQueue, sb, addr, budget{}))
	}
	w1, err := newWorker("main")
	if err != nil {
		return err
	}
	var w2 *proc
	defer func() {
		if w1 != nil {
			w1.stop()
		}
		if w2 != nil {
			w2.stop()
		}
	}()

	name := "soak"
	r.Started = time.Now()
	logf("soak: %d portals (%d made to fail), faults on %.0f%% of the calls, MaxConcurrent %d", len(specs), failing, o.faultRate*100, o.maxConcurrentSoak)
	f, err := launcher.StartFleet(ctx, c, taskQueue, dcrflow.FleetInput{Name: name, Portals: specs, MaxConcurrent: o.maxConcurrentSoak})
	if err != nil {
		return err
	}
	if err := f.AwaitPreflight(ctx, "soak", specs); err != nil {
		return err
	}

	// The chaos, driven by the fleet's progress so that all of it happens while it runs.
	r.Events = []chaosEvent{
		{At: 0.08, What: "SIGKILL the worker, start a new one"},
		{At: 0.18, What: "a second worker joins"},
		{At: 0.30, What: "SIGKILL the worker, start a new one"},
		{At: 0.42, What: "stop the Temporal dev server, start it again on its database file"},
		{At: 0.55, What: "SIGKILL the worker, start a new one"},
		{At: 0.66, What: "the second worker leaves (SIGTERM)"},
		{At: 0.78, What: "SIGKILL the worker, start a new one"},
	}
	kill := func() error {
		_ = w1.cmd.Process.Signal(syscall.SIGKILL)
		<-w1.exited
		w1.log.Close()
		w1 = nil
		nw, err := newWorker("main")
		w1 = nw
		return err
	}
	fleetDone := make(chan struct{})
	chaosErr := make(chan error, 1)
	go func() {
		defer close(chaosErr)
		next := 0
		for next < len(r.Events) {
			select {
			case <-fleetDone:
				return
			case <-ctx.Done():
				return
			case <-time.After(300 * time.Millisecond):
			}
			qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			p, err := launcher.FleetProgress(qctx, c, name)
			cancel()
			if err != nil {
				continue
			}
			ev := &r.Events[next]
			if float64(p.Done()) < ev.At*float64(len(specs)) {
				continue
			}
			ev.Done, ev.When = p.Done(), time.Now()
			switch {
			case strings.HasPrefix(ev.What, "SIGKILL"):
				err = kill()
			case strings.Contains(ev.What, "joins"):
				w2, err = newWorker("second")
			case strings.Contains(ev.What, "leaves"):
				w2.stop()
				w2 = nil
			case strings.Contains(ev.What, "dev server"):
				srvMu.Lock()
				srv.stop()
				ev.Detail = "stopped"
				srv, err = startTemporalAt(ctx, o.temporalBin, tlog, hostPort, db)
				srvMu.Unlock()
			}
			ev.Took = time.Since(ev.When)
			logf("soak: %s at %d/%d portals (%s)", ev.What, ev.Done, len(specs), ev.Took.Round(10*time.Millisecond))
			if err != nil {
				chaosErr <- fmt.Errorf("chaos %q: %w", ev.What, err)
				return
			}
			next++
		}
	}()

	r.Summary, err = awaitFleet(ctx, c, name, len(specs), r.Started, o.soakWait)
	r.Wall = time.Since(r.Started)
	close(fleetDone)
	if err != nil {
		return err
	}
	if err := <-chaosErr; err != nil {
		return err
	}
	logf("soak: fleet ended after %s: %d succeeded, %d failed", r.Wall.Round(time.Second), r.Summary.Succeeded, r.Summary.Failed)

	// The audit runs without faults (it reads; the faults were the fleet's).
	if r.Faults, err = ctl.Faults(ctx); err != nil {
		return err
	}
	reqs, err := ctl.Requests(ctx, 0)
	if err != nil {
		return err
	}
	for _, q := range reqs {
		r.Calls[q.System]++
		if q.Fault != "" {
			r.FaultedCalls[q.System]++
		}
	}
	if err := ctl.ClearFaults(ctx); err != nil {
		return err
	}
	if w1 == nil {
		if w1, err = newWorker("main"); err != nil {
			return err
		}
	}
	if err := r.audit(ctx, c, ctl, taskQueue, specs, want, before); err != nil {
		return err
	}
	tokens := []string{sbokta.DefaultManagementToken, sbokta.DefaultDCRToken, sbkonnect.DefaultToken}
	fx := sandbox.DefaultFixture()
	tokens = append(append(append(tokens, fx.Okta.ManagementTokens...), fx.Okta.DCRTokens...), fx.Konnect.Tokens...)
	r.Audit = append(r.Audit, r.noTokens(ctx, c, tokens, append(wlogs, tlog)))

	out := o.soakOut
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	md := r.markdown(o, began)
	if err := os.WriteFile(filepath.Join(out, "REPORT.md"), []byte(md), 0o644); err != nil {
		return err
	}
	failed := printAudit(r.Audit)
	fmt.Printf("\nreport: %s (soak took %s)\n", filepath.Join(out, "REPORT.md"), time.Since(began).Round(time.Second))
	if failed > 0 {
		return fmt.Errorf("%d audit check(s) failed", failed)
	}
	return nil
}

// soakFleet is the soak's n portals, the step each is made to fail at ("" none), and
// the APIs whose publication is refused.
func soakFleet(n int) (specs []dcrflow.PortalSpec, want map[string]string, refused []int) {
	want = map[string]string{}
	for i := range n {
		s, fails, own := soakSpec(i, 20)
		specs = append(specs, s)
		want[s.Key] = fails
		if own >= 0 {
			refused = append(refused, own)
		}
	}
	return specs, want, refused
}

// addSoakFaults sets the sandbox's faults; first match wins: the refusals, then the
// random faults, then internet latency.
func addSoakFaults(ctx context.Context, ctl sandbox.Control, refused []int, rate float64) error {
	var all []faults.Fault
	for _, api := range refused {
		all = append(all, faults.Fault{Method: "PUT", Path: "/v3/apis/" + benchUUID(2, api) + "/publications/*", Status: 403})
	}
	all = append(all, soakFaults(rate)...)
	all = append(all, latencyFaults...)
	for _, f := range all {
		if _, err := ctl.AddFault(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// awaitFleet waits for the fleet's summary across continue-as-new and the dev
// server's restart (a wait cut by the restart is taken up again), at most wait.
func awaitFleet(ctx context.Context, c client.Client, name string, n int, started time.Time, wait time.Duration) (dcrflow.FleetSummary, error) {
	var sum dcrflow.FleetSummary
	deadline := time.Now().Add(wait)
	lastLog := time.Now()
	for {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := c.GetWorkflow(wctx, dcrflow.FleetWorkflowID(name), "").Get(wctx, &sum)
		cancel()
		if err == nil {
			return sum, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return sum, fmt.Errorf("the soak's fleet did not end within %v: %w", wait, err)
		}
		if time.Since(lastLog) > 15*time.Second {
			if p, perr := launcher.FleetProgress(ctx, c, name); perr == nil {
				logf("  %d/%d portals done after %s", p.Done(), n, time.Since(started).Round(time.Second))
			}
			lastLog = time.Now()
		}
	}
}

// printAudit prints the checks and counts the failed ones.
func printAudit(checks []auditCheck) int {
	failed := 0
	for _, a := range checks {
		mark := "ok  "
		if !a.OK {
			mark, failed = "FAIL", failed+1
		}
		fmt.Printf("%s %s\n", mark, a.Name)
		for _, p := range a.Problems {
			fmt.Printf("       %s\n", p)
		}
	}
	return failed
}

// soakState is the sandbox's state (GET /_sandbox/state).
type soakState struct {
	Okta    sbokta.State    `json:"okta"`
	Konnect sbkonnect.State `json:"konnect"`
}

// uses is every resource a portal uses, named as the audit counts them.
func uses(s dcrflow.PortalSpec) []string {
	out := []string{"claim " + s.AuthServer + "/" + s.ClaimName, "provider " + s.DCRProvider, "strategy " + s.Strategy.Name}
	for _, sc := range s.Scopes {
		out = append(out, "scope "+s.AuthServer+"/"+sc.Name)
	}
	for _, a := range s.APIs {
		out = append(out, "publication "+a.API+"@"+s.Portal)
	}
	return out
}

// inventory counts every resource of the sandbox by the names uses gives them.
func inventory(st soakState) map[string]int {
	out := map[string]int{}
	for _, s := range st.Okta.AuthorizationServers {
		for _, sc := range s.Scopes {
			out["scope "+s.ID+"/"+sc.Name]++
		}
		for _, c := range s.Claims {
			out["claim "+s.ID+"/"+c.Name]++
		}
		for _, p := range s.Policies {
			out["policy "+s.ID+"/"+p.Name]++
		}
	}
	for _, p := range st.Konnect.DCRProviders {
		out["provider "+p.Name]++
	}
	for _, s := range st.Konnect.AuthStrategies {
		out["strategy "+s.Name]++
	}
	apis, portals := map[string]string{}, map[string]string{}
	for _, a := range st.Konnect.APIs {
		apis[a.ID] = a.Name
	}
	for _, p := range st.Konnect.Portals {
		portals[p.ID] = p.Name
	}
	for _, p := range st.Konnect.Publications {
		out["publication "+apis[p.APIID]+"@"+portals[p.PortalID]]++
	}
	return out
}

// audit checks, by dcrflow's own means, that every portal is accounted for, that the
// ones that succeeded have exactly their resources and the failed ones left nothing.
func (r *soakResult) audit(ctx context.Context, c client.Client, ctl sandbox.Control, taskQueue string,
	specs []dcrflow.PortalSpec, want map[string]string, before soakState) error {
	logf("soak: audit")
	// 1. Every portal accounted for: its workflow ended, succeeded or failed.
	acc := auditCheck{Name: "every portal accounted for (its workflow's outcome; the fleet's counts)", OK: true}
	keys := make([]string, len(specs))
	for i, s := range specs {
		keys[i] = s.Key
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	outcomes := launcher.Wait(wctx, launcher.Attach(c, keys))
	cancel()
	var ok, bad []dcrflow.PortalSpec
	for i, o := range outcomes {
		so := soakOutcome{Key: keys[i], Want: want[keys[i]], Succeeded: o.Succeeded}
		switch {
		case o.Succeeded:
			ok = append(ok, specs[i])
		case o.Result != nil && o.Result.Failure != nil:
			so.Step, so.Message = o.Result.Failure.Step, o.Result.Failure.Message
			so.Compensated = len(o.Result.CompensationErrors) == 0
			bad = append(bad, specs[i])
		default:
			acc.fail("%s: no outcome: %v", keys[i], o.Err)
			so.Message = fmt.Sprint(o.Err)
			bad = append(bad, specs[i])
		}
		r.Outcomes = append(r.Outcomes, so)
	}
	if r.Summary.Succeeded+r.Summary.Failed != len(specs) || r.Summary.Succeeded != len(ok) {
		acc.fail("the fleet counts %d succeeded and %d failed of %d; the portals' workflows say %d succeeded", r.Summary.Succeeded, r.Summary.Failed, len(specs), len(ok))
	}
	r.Audit = append(r.Audit, acc)

	exp := auditCheck{Name: "the portals made to fail failed at their step, and only they", OK: true}
	for _, so := range r.Outcomes {
		switch {
		case so.Want == "" && !so.Succeeded:
			exp.fail("%s failed at %s: %s", so.Key, so.Step, so.Message)
		case so.Want != "" && so.Succeeded:
			exp.fail("%s succeeded; it should have failed at %s", so.Key, so.Want)
		case so.Want != "" && so.Step != so.Want:
			exp.fail("%s failed at %s, not %s: %s", so.Key, so.Step, so.Want, so.Message)
		}
	}
	r.Audit = append(r.Audit, exp)

	// 2. Every portal that succeeded has all of its resources: a plan of it (the dry
	// run `dcrflow plan` makes) has nothing to create, publish or republish.
	plan := auditCheck{Name: "every succeeded portal is complete: `dcrflow plan` has nothing to create or publish, and no problem", OK: true}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	plans, err := launcher.Plan(pctx, c, taskQueue, "soak-audit", ok, 10)
	cancel()
	if err != nil {
		plan.fail("plan: %v", err)
	} else if len(plans) != len(ok) {
		plan.fail("%d plans for %d portals", len(plans), len(ok))
	}
	for _, p := range plans {
		if ch := launcher.PortalChanges(p); len(ch) > 0 || len(p.Problems) > 0 {
			plan.fail("%s: would change %d item(s) (%+v); problems %v", p.Portal, len(ch), ch, p.Problems)
		}
	}
	r.Audit = append(r.Audit, plan)

	// 3. Nothing twice, nothing left that only a failed portal used, no DCR client left.
	var after soakState
	if err := ctl.State(ctx, &after); err != nil {
		return err
	}
	inv, was := inventory(after), inventory(before)
	twice := auditCheck{Name: "nothing exists twice in the sandbox's state", OK: true}
	for _, k := range sortedKeys(inv) {
		if inv[k] > 1 {
			twice.fail("%s: %d of them", k, inv[k])
		}
	}
	r.Audit = append(r.Audit, twice)
	used := map[string]bool{}
	exact := auditCheck{Name: "every succeeded portal's resources exist (each once)", OK: true}
	for _, s := range ok {
		for _, u := range uses(s) {
			used[u] = true
			if inv[u] != 1 {
				exact.fail("%s uses %s: %d found", s.Key, u, inv[u])
			}
		}
	}
	r.Audit = append(r.Audit, exact)
	left := auditCheck{Name: "every failed portal left nothing that only it used", OK: true}
	for _, s := range bad {
		for _, u := range uses(s) {
			if !used[u] && was[u] == 0 && inv[u] > 0 {
				left.fail("%s (failed) left %s", s.Key, u)
			}
		}
	}
	r.Audit = append(r.Audit, left)
	// Konnect's verify registers a client in Okta and deletes it; when Okta fails that
	// delete (the faults hit Konnect's calls too), Konnect leaves it: not dcrflow's
	// to remove, so counted apart. Every other client is dcrflow's (validation).
	var ours, konnects []sbokta.ClientState
	for _, cl := range after.Okta.Clients {
		if strings.HasPrefix(cl.ClientName, konnectVerifyClient) {
			konnects = append(konnects, cl)
		} else {
			ours = append(ours, cl)
		}
	}
	r.KonnectLeft = len(konnects)
	clients := auditCheck{Name: fmt.Sprintf("no DCR client of dcrflow's left behind (validation clients: %d before, %d after)",
		len(before.Okta.Clients), len(ours)), OK: len(before.Okta.Clients) == len(ours)}
	if !clients.OK {
		for _, cl := range ours {
			clients.fail("left: %s (%s)", cl.ClientName, cl.ClientID)
		}
	}
	r.Audit = append(r.Audit, clients)
	return nil
}

// noTokens reads every workflow history through the Temporal client and the logs of
// the workers and the dev server, looking for the sandbox's tokens.
func (r *soakResult) noTokens(ctx context.Context, c client.Client, tokens []string, logs []string) auditCheck {
	chk := auditCheck{Name: "no token in any workflow history or log", OK: true}
	var needles [][]byte
	seen := map[string]bool{}
	for _, t := range tokens {
		if t != "" && !seen[t] {
			seen[t] = true
			needles = append(needles, []byte(t))
		}
	}
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1000, NextPageToken: token})
		if err != nil {
			chk.fail("list workflows: %v", err)
			return chk
		}
		for _, e := range resp.GetExecutions() {
			r.Histories++
			id, run := e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId()
			it := c.GetWorkflowHistory(ctx, id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					chk.fail("history of %s: %v", id, err)
					break
				}
				r.Events2++
				b, _ := proto.Marshal(ev)
				for _, n := range needles {
					if bytes.Contains(b, n) {
						chk.fail("a token in %s (run %s), event %d %s", id, run, ev.GetEventId(), ev.GetEventType())
					}
				}
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			chk.fail("read %s: %v", l, err)
			continue
		}
		r.LogsScanned = append(r.LogsScanned, fmt.Sprintf("%s (%d KB)", filepath.Base(l), len(b)>>10))
		for _, n := range needles {
			if bytes.Contains(b, n) {
				chk.fail("a token in %s", filepath.Base(l))
			}
		}
	}
	if r.Histories == 0 {
		chk.fail("no workflow history was read")
	}
	return chk
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// markdown is the soak's REPORT.md.
func (r *soakResult) markdown(o options, began time.Time) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	passed := 0
	for _, a := range r.Audit {
		if a.OK {
			passed++
		}
	}
	p("# dcrflow soak\n\n")
	p("`make soak`, %s UTC, took %s on this machine (load average %s at the end). ", began.UTC().Format("2006-01-02 15:04"),
		time.Since(began).Round(time.Second), loadAvg())
	p("A fleet of %d portals with heavy sharing ran while every endpoint of both systems failed at random, the worker was "+
		"SIGKILLed and restarted, a second worker joined and left, and the Temporal dev server was stopped and restarted on its "+
		"database file. Then the audit, by dcrflow's own means. **Audit: %d of %d checks passed.**\n\n", r.Portals, passed, len(r.Audit))
	p("## Fleet\n\n")
	p("- %d portals (`bench/soak.go`, `soakSpec`): group *g* of %d portals on authorization server *g* mod %d. Every portal of a server "+
		"shares the `client_id` claim, a scope and the DCR provider; every portal of a group also shares a second scope, the auth "+
		"strategy, the Konnect portal and the publication of its API. Validation on, compensation on failure.\n", r.Portals, soakGroupSize, soakServers)
	p("- Made to fail: every 20th portal, alternately at resolve (an API that does not exist) and at publish, after joining the " +
		"shared scopes, claim and provider, with an auth strategy of its own and only its own API, whose publication is refused (403) for good.\n")
	p("- `OnboardFleet`, MaxConcurrent %d, through `launcher.StartFleet`; internet-like latency on every call (as the bench's).\n", o.maxConcurrentSoak)
	p("- Wall time: %s; the fleet counts %d succeeded, %d failed.\n\n", dur(r.Wall), r.Summary.Succeeded, r.Summary.Failed)

	p("## Faults injected\n\n")
	p("Random faults on every endpoint (`**`) of Okta and Konnect, %.1f %% of the calls in all (`sandbox/faults`, `rate`), first match wins:\n\n", r.Rate*100)
	p("| fault | rate (of the calls it sees) | calls hit |\n|---|---|---|\n")
	for _, f := range r.Faults {
		if f.LatencyMS > 0 && !f.DelayResponse {
			continue // latency
		}
		p("| %s | %s | %d |\n", describeFault(f), rateText(f.Rate), f.Hits)
	}
	injected, calls := 0, 0
	for _, f := range r.Faults {
		if f.Status != 0 || f.Drop || f.DelayResponse {
			injected += f.Hits
		}
	}
	for _, c := range r.Calls {
		calls += c
	}
	p("\nCalls: %s. Faults injected: %d (%.1f %% of the calls); the request log marks %s of them (all but the dropped connections).\n\n",
		systemCounts(r.Calls), injected, 100*float64(injected)/float64(max(calls, 1)), systemCounts(r.FaultedCalls))

	p("## Kills and restarts\n\n| when (portals ended) | what | took |\n|---|---|---|\n")
	for _, e := range r.Events {
		if e.When.IsZero() {
			p("| — | %s | did not happen: the fleet ended first |\n", e.What)
			continue
		}
		p("| %.0f s (%d/%d) | %s | %s |\n", e.When.Sub(r.Started).Seconds(), e.Done, r.Portals, e.What, e.Took.Round(10*time.Millisecond))
	}

	p("\n## Audit\n\n")
	for _, a := range r.Audit {
		p("- %s **%s**\n", map[bool]string{true: "✅", false: "❌"}[a.OK], a.Name)
		for _, pr := range a.Problems {
			p("  - %s\n", pr)
		}
	}
	p("\nKonnect's own verification clients left in Okta: %d (Konnect registers one per verify and deletes it; when the faults failed "+
		"Okta's answer to that delete, Konnect left it, as the real one would: not dcrflow's to remove).\n", r.KonnectLeft)
	p("\nHistories read through the Temporal client: %d (%d events); logs scanned: %s.\n", r.Histories, r.Events2, strings.Join(r.LogsScanned, ", "))

	p("\n## Outcome per portal\n\n| portal | made to fail at | outcome | step | compensated | message |\n|---|---|---|---|---|---|\n")
	for _, so := range r.Outcomes {
		out := "succeeded"
		if !so.Succeeded {
			out = "failed"
		}
		msg := so.Message
		if len(msg) > 120 {
			msg = msg[:120] + "…"
		}
		p("| %s | %s | %s | %s | %s | %s |\n", so.Key, orDash(so.Want), out, orDash(so.Step), yesNo(!so.Succeeded && so.Compensated, so.Succeeded),
			strings.ReplaceAll(msg, "|", "\\|"))
	}
	p("\n## Reproduce\n\n```sh\nmake soak                                   # or: go run . -soak -soak-portals 200 -fault-rate 0.05 (in bench/)\n```\n")
	return b.String()
}

func describeFault(f faults.Fault) string {
	where := strings.TrimSpace(f.Method + " " + f.Path)
	switch {
	case f.Drop:
		return "dropped connection, " + where
	case f.DelayResponse:
		return fmt.Sprintf("answer held %d s after the side effect (past the %v step timeout), %s", f.LatencyMS/1000, workflows.StepTimeout, where)
	case f.EchoRequest:
		return fmt.Sprintf("%d quoting the whole request, credentials included, %s", f.Status, where)
	case f.Status == 429:
		return fmt.Sprintf("429 with a %d s reset, %s", f.RetryAfterSeconds, where)
	default:
		return fmt.Sprintf("%d, %s", f.Status, where)
	}
}

func rateText(r float64) string {
	if r == 0 {
		return "every call"
	}
	return fmt.Sprintf("%.2f %%", r*100)
}

func systemCounts(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func yesNo(yes, na bool) string {
	switch {
	case na:
		return "—"
	case yes:
		return "yes"
	}
	return "no"
}
