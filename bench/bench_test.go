package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/sandbox"
	"github.com/dcrflow/dcrflow/sandbox/ratelimit"
	"github.com/dcrflow/dcrflow/workflows"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestMaxInWindow(t *testing.T) {
	ts := []time.Time{at(0), at(10_000), at(59_999), at(60_000), at(61_000), at(70_000)}
	// [0, 60 s) holds 3; [10 s, 70 s) holds 4 (10, 59.999, 60, 61); [59.999 s, 119.999 s) holds 4.
	if got := maxInWindow(ts, time.Minute); got != 4 {
		t.Errorf("maxInWindow = %d, want 4", got)
	}
	if got := maxInWindow(nil, time.Minute); got != 0 {
		t.Errorf("maxInWindow(nil) = %d", got)
	}
	if got := perSecond(ts, t0); len(got) != 71 || got[0] != 1 || got[59] != 1 || got[60] != 1 || got[70] != 1 {
		t.Errorf("perSecond = %v", got)
	}
}

func TestCountRequests(t *testing.T) {
	log := []sandbox.Request{
		{System: "okta", Path: "/api/v1/authorizationServers/x/scopes", Status: 200, Time: at(0)},
		{System: "okta", Path: "/api/v1/authorizationServers/x/scopes", Status: 429, Time: at(1)},
		{System: "okta", Path: "/api/v1/authorizationServers/x", Status: 404, Time: at(2)},
		{System: "okta", Path: "/oauth2/v1/clients", Status: 201, Time: at(3)},
		{System: "okta", Path: "/oauth2/v1/clients/abc", Status: 0, Time: at(4)},
		{System: "okta", Path: "/oauth2/x/v1/token", Status: 200, Time: at(5)},
		{System: "konnect", Path: "/v2/dcr-providers", Status: 503, Time: at(6)},
	}
	got := countRequests(log)
	want := map[string]bucketStats{
		bucketOktaMgmt: {Calls: 3, Limited: 1, Rejected: 1},
		bucketOktaDCR:  {Calls: 2, Errors: 1},
		bucketOktaAuth: {Calls: 1},
		bucketKonnect:  {Calls: 1, Errors: 1},
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %+v, want %+v", k, got[k], w)
		}
	}
	if n := len(times(log, bucketOktaMgmt, true)); n != 2 {
		t.Errorf("accepted management calls = %d, want 2", n)
	}
}

func TestMetricsSum(t *testing.T) {
	m := metrics{
		`dcrflow_api_requests_total{operation="create scope",status="200",system="okta"} 12`,
		`dcrflow_api_requests_total{operation="get",status="200",system="konnect"} 5`,
		`dcrflow_api_requests_total{operation="FindScope",status="429",system="okta"} 3`,
		`dcrflow_rate_limited_total{system="okta"} 3`,
		`dcrflow_rate_limited_total_other 9`,
	}
	if got := m.sum("dcrflow_api_requests_total", `system="okta"`); got != 15 {
		t.Errorf("okta requests = %v, want 15", got)
	}
	if got := m.sum("dcrflow_rate_limited_total", ""); got != 3 {
		t.Errorf("rate limited = %v, want 3", got)
	}
}

func TestReadStatOfThisProcess(t *testing.T) {
	st, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != os.Getppid() {
		t.Errorf("ppid = %d, want %d", st.ppid, os.Getppid())
	}
	if rss, err := peakRSS(os.Getpid()); err != nil || rss <= 0 {
		t.Errorf("peakRSS = %d, %v", rss, err)
	}
}

// A made-up run: the report states its figures and targets, and the chart is a PNG.
func TestReportAndChart(t *testing.T) {
	log := make([]sandbox.Request, 0, 600)
	for i := range 600 { // 600 management calls over 100 s at 360/min, 3 refused
		st := 200
		if i%200 == 0 {
			st = 429
		}
		log = append(log, sandbox.Request{System: "okta", Path: "/api/v1/authorizationServers/x/scopes", Status: st, Time: at(i * 166)})
	}
	run := func(name string, workers int) *fleetRun {
		r := &fleetRun{Name: name, Portals: 60, MaxConcurrent: 100, Start: t0, Wall: 105 * time.Second, Succeeded: 60,
			Limits: sandbox.RateLimits{OktaManagement: ratelimit.Settings{PerMinute: 360}}, Budget: budget{OktaManagement: 360},
			Samples: []sample{{T: 50, Done: 30}, {T: 105, Done: 60}}, Log: log, Requests: countRequests(log), ServerCPU: 6 * time.Second}
		for range workers {
			r.Workers = append(r.Workers, workerFigures{CPU: 3 * time.Second, PeakRSS: 50 << 20})
		}
		return r
	}
	rep := &report{Options: options{oktaRPM: 360, maxConcurrent: 100}, Started: t0, Elapsed: 5 * time.Minute, CPUs: 2, GoVersion: "go",
		Latency: latencyFaults, Budget: run("budget", 1), TwoWorkers: run("two-workers", 2),
		Unlimited: &fleetRun{Name: "unlimited", Portals: 60, Wall: 10 * time.Second, Requests: map[string]bucketStats{}},
		Loop:      &loopRun{Portals: 5, Wall: 10 * time.Second, PerPortal: 2 * time.Second, Samples: []sample{{T: 2, Done: 1}}},
		Large: &fleetRun{Name: "large", Portals: 100, Wall: 20 * time.Second, Workers: []workerFigures{{CPU: 5 * time.Second, PeakRSS: 300 << 20}},
			ServerCPU: 10 * time.Second, Requests: map[string]bucketStats{}, Failed: []dcrflow.FleetFailure{{Portal: "x", Step: "resolve", Message: "boom"}}, FailedCount: 1},
	}
	// 597 accepted calls at 6/s: 99.5 s of 105 s.
	if e := rep.Budget.efficiency(); e < 0.947 || e > 0.948 {
		t.Errorf("efficiency = %v, want 99.5/105", e)
	}
	if g := rep.gain(); g != 12 {
		t.Errorf("gain = %v, want 12", g)
	}
	md := rep.markdown()
	for _, want := range []string{"| 0.95 (99.5 s vs 105.0 s) | ≥ 0.90: met |", "3 of 600 calls (0.50 %)", "12.0×", "| 0 of 60 (0) | 0: met |",
		"| 3. worker peak memory (VmHWM) | 300 MB | ≤ 200 MB: **missed** |", "x failed at resolve: boom", "| 3. worker CPU per portal (100 portals) | 0.050 s |",
		"most Okta management calls in any 60 s | 362 (budget 360) | ≤ budget: **missed** |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if s := rep.summary(); !strings.Contains(s, "efficiency 0.95") || !strings.Contains(s, "12.0×") {
		t.Errorf("summary:\n%s", s)
	}

	path := filepath.Join(t.TempDir(), chartFile)
	if err := writeChart(path, rep); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("chart is not a PNG: %v", err)
	}
}

func TestFleetSpecsAreValidAndDistinct(t *testing.T) {
	specs := fleetSpecs("p1", 300)
	keys, providers := map[string]bool{}, map[string]bool{}
	for _, s := range specs {
		if keys[s.Key] || providers[s.DCRProvider] {
			t.Fatalf("duplicate %s", s.Key)
		}
		keys[s.Key], providers[s.DCRProvider] = true, true
		if len(s.Scopes) != scopesPerPortal || len(s.APIs) != apisPerPortal {
			t.Fatalf("%s: %d scopes, %d APIs", s.Key, len(s.Scopes), len(s.APIs))
		}
	}
	path := filepath.Join(t.TempDir(), "fixture.json")
	if err := writeFixture(path, 300); err != nil {
		t.Fatal(err)
	}
	fx, err := sandbox.LoadFixture(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(fx.Konnect.Portals) < 300 || len(fx.Okta.AuthorizationServers) < authServers {
		t.Errorf("fixture: %d portals, %d servers", len(fx.Konnect.Portals), len(fx.Okta.AuthorizationServers))
	}
}

func TestRejectedKinds(t *testing.T) {
	log := []sandbox.Request{
		{Method: "GET", Path: "/v3/apis/00000002-0000-4000-8000-000000000001/publications/00000001-0000-4000-8000-000000000007", Status: 404},
		{Method: "GET", Path: "/v3/apis/00000002-0000-4000-8000-000000000002/publications/00000001-0000-4000-8000-000000000008", Status: 404},
		{Method: "POST", Path: "/api/v1/authorizationServers/ausbench000000000003/claims", Status: 400},
		{Method: "POST", Path: "/api/v1/authorizationServers/default/claims", Status: 429},
		{Method: "GET", Path: "/v3/portals", Status: 200},
	}
	got := rejectedKinds(log)
	want := []kindCount{{"404 GET /v3/apis/*/publications/*", 2}, {"400 POST /api/v1/authorizationServers/*/claims", 1}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("rejectedKinds = %v, want %v", got, want)
	}
}

// The bench finds the repository root from bench/ (its own module) as from the root.
func TestModuleRootIsTheMainModule(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || modulePath(b) != rootModule {
		t.Fatalf("moduleRoot() = %s: go.mod of %q (%v), want %s", root, modulePath(b), err, rootModule)
	}
	if _, err := os.Stat(filepath.Join(root, "worker")); err != nil {
		t.Fatalf("moduleRoot() = %s has no worker/: %v", root, err)
	}
	if got := modulePath([]byte("// x\nmodule \"example.com/m\"\n\ngo 1.26\n")); got != "example.com/m" {
		t.Fatalf("modulePath = %q", got)
	}
}

// The soak's fleet shares heavily but never asks for one resource two ways (what the
// onboarding file refuses): a publication (API on a Konnect portal) has one strategy,
// a strategy one set of scopes and one provider, a provider one server. Every 20th
// portal is made to fail, alternately at resolve and at publish.
func TestSoakSpecsShareConsistently(t *testing.T) {
	pubs, strategies, providers := map[string]string{}, map[string]string{}, map[string]string{}
	fails := map[string]int{}
	users := map[string]int{}
	for i := range 200 {
		s, step, _ := soakSpec(i, 20)
		fails[step]++
		for _, u := range uses(s) {
			users[u]++
		}
		strat := s.Strategy.Name + "|" + s.DCRProvider + "|" + s.Scopes[0].Name + "," + s.Scopes[1].Name
		if prev, ok := strategies[s.Strategy.Name]; ok && prev != strat {
			t.Errorf("%s: strategy %s asked for as %s and %s", s.Key, s.Strategy.Name, prev, strat)
		}
		strategies[s.Strategy.Name] = strat
		if prev, ok := providers[s.DCRProvider]; ok && prev != s.AuthServer {
			t.Errorf("%s: provider %s on servers %s and %s", s.Key, s.DCRProvider, prev, s.AuthServer)
		}
		providers[s.DCRProvider] = s.AuthServer
		for _, a := range s.APIs {
			k := a.API + "@" + s.Portal
			if prev, ok := pubs[k]; ok && prev != s.Strategy.Name {
				t.Errorf("%s: publication %s with strategies %s and %s", s.Key, k, prev, s.Strategy.Name)
			}
			pubs[k] = s.Strategy.Name
		}
	}
	if fails[""] != 190 || fails[workflows.StepResolve] != 5 || fails[workflows.StepPublish] != 5 {
		t.Errorf("outcomes made: %v", fails)
	}
	// Heavy sharing: the claim and a scope by a whole server, the strategy by a group.
	if users["claim "+benchServerID(0)+"/client_id"] != 40 || users["strategy dcrflow-soak-g00"] != 10 || users["provider dcrflow-soak-s0"] != 40 {
		t.Errorf("sharing: claim %d, strategy %d, provider %d", users["claim "+benchServerID(0)+"/client_id"],
			users["strategy dcrflow-soak-g00"], users["provider dcrflow-soak-s0"])
	}
}

// The soak's faults add up to the rate asked for, each taking its share of what the
// ones before it spared, and each is one the sandbox accepts.
func TestSoakFaultsAddUpToTheRate(t *testing.T) {
	left := 1.0
	for _, f := range soakFaults(0.05) {
		if f.Rate <= 0 || f.Rate > 1 || f.Path != "**" {
			t.Fatalf("fault %+v", f)
		}
		left *= 1 - f.Rate
	}
	if got := 1 - left; got < 0.0499 || got > 0.0501 {
		t.Fatalf("the faults hit %.4f of the calls, want 0.05", got)
	}
}

// The critical path follows the calls' arrivals, not the order they ended in: a
// verify (60 ms) that registers a client (50 ms) and deletes it (50 ms) while in
// flight ends last, and costs all three in a row.
func TestCriticalPath_NestedCallsCountInTheOrderTheyArrived(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	log := []sandbox.Request{ // as the sandbox logs them: when each ended
		{Time: t0.Add(60 * time.Millisecond), System: "okta", Method: "POST", Path: "/oauth2/v1/clients"},
		{Time: t0.Add(110 * time.Millisecond), System: "okta", Method: "DELETE", Path: "/oauth2/v1/clients/c1"},
		{Time: t0, System: "konnect", Method: "POST", Path: "/v2/dcr-providers/p1/verify"},
	}
	l := criticalPath(log, 200*time.Millisecond)
	if l.Critical != 160*time.Millisecond || l.Groups != 3 {
		t.Fatalf("critical path = %v in %d groups, want 160ms in 3", l.Critical, l.Groups)
	}
}
