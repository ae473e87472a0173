package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/sandbox"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	"github.com/dcrflow/dcrflow/sandbox/ratelimit"
)

// bucketOktaToken is the authorization servers' token endpoints (/oauth2/{as}/v1/token),
// a bucket of its own on a real org.
const bucketOktaToken = "okta_token"

// orgBucketOf splits the token endpoints out of bucketOf's unbudgeted OAuth calls.
func orgBucketOf(r sandbox.Request) string {
	b := bucketOf(r)
	if b == bucketOktaAuth && r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/v1/token") && strings.HasPrefix(r.Path, "/oauth2/") {
		return bucketOktaToken
	}
	return b
}

// realOrg is every limit that binds a real paid Okta org at once, and Konnect's, per
// minute: Okta's management /api/v1 (600) and /oauth2/v1/clients (100) as Okta
// documents them for One App and Enterprise orgs; the custom authorization servers'
// token endpoint (2,000: Okta's default for /oauth2/{as}/v1 on paid orgs, an
// assumption, as its figure is no longer published per org); Konnect publishes no
// figure, so 600 (the docs' own example budget). The sandbox enforces them in
// windows of orgWindow, Okta's minute (the workers' budgets model that window: in
// 15 s windows, their reading of each window's last answers held the DCR bucket
// idle, efficiency 0.89 instead of 0.96); the workers' budgets are the same figures.
var realOrg = map[string]int{bucketOktaMgmt: 600, bucketOktaDCR: 100, bucketOktaToken: 2000, bucketKonnect: 600}

const orgWindow = 60 * time.Second

func orgLimits() sandbox.RateLimits {
	w := int(orgWindow / time.Second)
	s := func(rpm int) ratelimit.Settings { return ratelimit.Settings{PerMinute: rpm * w / 60, WindowSeconds: w} }
	return sandbox.RateLimits{OktaManagement: s(realOrg[bucketOktaMgmt]), OktaDCR: s(realOrg[bucketOktaDCR]),
		OktaToken: s(realOrg[bucketOktaToken]), Konnect: s(realOrg[bucketKonnect])}
}

// minimum is the fewest calls per portal each call shape could make, for the bench's
// fleet (3 scopes of its own, 3 APIs, its own DCR provider and strategy, the claim
// shared by the portals of each of the 25 authorization servers), with why (-1: once
// per server). Shapes not listed have a minimum of 0.
var minimum = []struct {
	Shape string
	Calls float64
	Why   string
}{
	{"GET /api/v1/authorizationServers/*", 1, "resolve: the server's issuer (shareable by the 25 portals of a server: 0.04)"},
	{"GET /api/v1/authorizationServers/*/scopes", 1, "one list (or one ?q= filter) for the portal's 3 scopes"},
	{"POST /api/v1/authorizationServers/*/scopes", 3, "one create per scope"},
	{"GET /api/v1/authorizationServers/*/claims", 1, "the claim step: one list"},
	{"POST /api/v1/authorizationServers/*/claims", -1, "the claim is created once per server: servers ÷ portals"},
	{"GET /api/v1/authorizationServers/*/policies", 1, "access policy check: the server's policies"},
	{"GET /api/v1/authorizationServers/*/policies/*/rules", 1, "access policy check: the matching policy's rules"},
	{"POST /oauth2/v1/clients", 2, "Konnect's verify registers a client; validation registers one"},
	{"DELETE /oauth2/v1/clients/*", 2, "both deleted"},
	{"POST /oauth2/*/v1/token", 1, "validation gets a token"},
	{"GET /v3/portals", 1, "resolve: the Konnect portal by name"},
	{"GET /v3/apis", 1, "resolve: the portal's 3 APIs in one filtered list"},
	{"GET /v2/dcr-providers", 1, "provider: find by name"},
	{"POST /v2/dcr-providers", 1, "provider: create"},
	{"POST /v2/dcr-providers/*/verify", 1, "provider: verify"},
	{"GET /v2/application-auth-strategies", 1, "strategy: find by name"},
	{"POST /v2/application-auth-strategies", 1, "strategy: create"},
	{"GET /v3/apis/*/publications/*", 3, "publish: each publication's state before (for the undo)"},
	{"PUT /v3/apis/*/publications/*", 3, "publish: each API"},
}

// shapeKey is a call's shape without its query, for the minimum table.
func shapeKey(r sandbox.Request) string {
	s := shape(r)
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	return s
}

// orgRun is the real-org phase: the fleet under every limit at once, one portal's
// latency against its critical path, and what Temporal did per portal.
type orgRun struct {
	*fleetRun
	Buckets  map[string]bucketStats
	Shapes   map[string]int // calls per shape (accepted)
	Latency  *portalLatency
	Temporal temporalCost
}

// portalLatency is one portal onboarded alone on an idle stack: the median of
// onePortalRuns portals, one after the other, by their ratio of wall time to
// critical path (one run is at the mercy of whatever else the machine does).
type portalLatency struct {
	Wall     time.Duration
	Critical time.Duration // Σ over the sequential groups of its calls of their latency
	Calls    int
	Groups   int
	// Runs measured, and the lowest and highest ratio among them.
	Runs               int
	MinRatio, MaxRatio float64
	Where              timeline // what the workflow was doing meanwhile
	log                []sandbox.Request
}

func (l *portalLatency) ratio() float64 { return l.Wall.Seconds() / l.Critical.Seconds() }

// temporalCost is what Temporal recorded for a phase, from the histories.
type temporalCost struct {
	Workflows                                                   int
	Events                                                      int
	ActivityAttempts, Starts, Signals, Timers, Upserts, Updates int
	LocalActivities                                             int
}

func (t temporalCost) actions() int {
	return t.ActivityAttempts + t.Starts + t.Signals + t.Timers + t.Upserts + t.Updates + t.LocalActivities
}

// orgPhase runs phase 6.
func (b *bench) orgPhase(n int) (*orgRun, error) {
	limits := orgLimits()
	r, err := b.fleet(phaseCfg{name: "real-org", prefix: "p6", portals: n, workers: 1, maxConcurrent: b.o.orgConc, startInterval: b.o.orgStartInterval, limits: limits,
		budget: budget{OktaManagement: realOrg[bucketOktaMgmt], OktaDCR: realOrg[bucketOktaDCR], Konnect: realOrg[bucketKonnect]}})
	if err != nil {
		return nil, err
	}
	out := &orgRun{fleetRun: r, Buckets: map[string]bucketStats{}, Shapes: map[string]int{}}
	if b.o.orgRequests != "" {
		raw, err := json.Marshal(r.Log)
		if err == nil {
			err = os.WriteFile(b.o.orgRequests, raw, 0o644)
		}
		if err != nil {
			return nil, fmt.Errorf("write the request log: %w", err)
		}
	}
	for _, q := range r.Log {
		k := orgBucketOf(q)
		s := out.Buckets[k]
		s.Calls++
		if q.Status == http.StatusTooManyRequests {
			s.Limited++
		} else {
			out.Shapes[shapeKey(q)]++
		}
		out.Buckets[k] = s
	}
	end := r.Start.Add(r.Wall)
	if out.Temporal, err = b.countTemporal(r.Start, end); err != nil {
		return nil, fmt.Errorf("count the histories: %w", err)
	}
	if out.Latency, err = b.onePortal(); err != nil {
		return nil, fmt.Errorf("one portal's latency: %w", err)
	}
	bound, which := out.bound()
	logf("phase real-org: efficiency %.2f against %s; one portal %s against a critical path of %s",
		bound.Seconds()/r.Wall.Seconds(), which, dur(out.Latency.Wall), dur(out.Latency.Critical))
	return out, nil
}

// bound is the shortest time the tightest bucket allows for the calls it counted.
func (o *orgRun) bound() (time.Duration, string) {
	var best time.Duration
	which := ""
	for _, k := range []string{bucketOktaMgmt, bucketOktaDCR, bucketOktaToken, bucketKonnect} {
		d := time.Duration(float64(o.Buckets[k].Accepted()) / (float64(realOrg[k]) / 60) * float64(time.Second))
		if d > best {
			best, which = d, k
		}
	}
	return best, which
}

// onePortalRuns is how many portals onePortal measures (after a warm-up one).
const onePortalRuns = 5

// onePortal onboards portals alone, one after the other, without limits, with the
// bench's latency, and sets each one's wall time against the sum of the latencies of
// its calls that had to follow one another (calls that arrived within 15 ms of each
// other went together); it keeps the median.
func (b *bench) onePortal() (*portalLatency, error) {
	if err := b.prepare(sandbox.RateLimits{}); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	w, err := startWorker(b.ctx, b.workerBin, b.work+"/worker-one.log", workerEnv(b.srv.srv.FrontendHostPort(), "bench-one", b.sb, addr, budget{}))
	if err != nil {
		return nil, err
	}
	defer w.stop()
	// A warm-up portal first (connections, caches, and the shared-use records of its
	// authorization server, as for every portal but a server's first), then the
	// measured ones, on the same server.
	var runs []*portalLatency
	specs := fleetSpecs("p6one", 1+onePortalRuns)
	for i := range specs {
		specs[i].AuthServer = specs[0].AuthServer
	}
	for i, s := range specs {
		log, err := b.sb.control.Requests(b.ctx, 0)
		if err != nil {
			return nil, err
		}
		since := 0
		if len(log) > 0 {
			since = log[len(log)-1].Seq
		}
		t0 := time.Now()
		started, err := launcher.Start(b.ctx, b.c, "bench-one", []dcrflow.PortalSpec{s})
		if err != nil {
			return nil, err
		}
		o := launcher.Wait(b.ctx, started)[0]
		wall := time.Since(t0)
		if !o.Succeeded {
			return nil, fmt.Errorf("portal %d (%s): %v", i+1, s.Key, o.Err)
		}
		if i == 0 {
			continue
		}
		if log, err = b.sb.control.Requests(b.ctx, since); err != nil {
			return nil, err
		}
		l := criticalPath(log, wall)
		l.log = log
		if l.Where, err = timelineOf(b.ctx, b.c, started[0].WorkflowID, started[0].RunID, t0, t0.Add(wall)); err != nil {
			return nil, fmt.Errorf("portal %d's history: %w", i+1, err)
		}
		runs = append(runs, l)
	}
	slices.SortFunc(runs, func(x, y *portalLatency) int { return cmp.Compare(x.ratio(), y.ratio()) })
	out := runs[len(runs)/2]
	out.Runs, out.MinRatio, out.MaxRatio = len(runs), runs[0].ratio(), runs[len(runs)-1].ratio()
	for _, st := range out.Where.Steps {
		var in []sandbox.Request
		for _, q := range out.log {
			if !q.Time.Before(st.Start) && !q.Time.After(st.End) {
				in = append(in, q)
			}
		}
		logf("    %-26s %5d ms, %2d calls, their critical path %4d ms", st.Name, st.End.Sub(st.Start).Milliseconds(), len(in), criticalPath(in, 0).Critical.Milliseconds())
	}
	return out, nil
}

// criticalPath is one portal's calls (from the request log) against its wall time.
func criticalPath(log []sandbox.Request, wall time.Duration) *portalLatency {
	out := &portalLatency{Wall: wall, Calls: len(log)}
	// The log is in the order calls ended, stamped with their arrival: a call made
	// while another was in flight (Konnect's verify registers a client in Okta and
	// deletes it) ends first. Groups follow arrivals.
	log = slices.Clone(log)
	slices.SortStableFunc(log, func(x, y sandbox.Request) int { return x.Time.Compare(y.Time) })
	var groupStart time.Time
	var groupMax time.Duration
	for _, q := range log {
		lat := latencyOf(q)
		if groupStart.IsZero() || q.Time.Sub(groupStart) > 15*time.Millisecond {
			out.Critical += groupMax
			out.Groups++
			groupStart, groupMax = q.Time, 0
		}
		groupMax = max(groupMax, lat)
	}
	out.Critical += groupMax
	return out
}

// latencyOf is the latency the bench's faults add to a call (first match wins).
func latencyOf(q sandbox.Request) time.Duration {
	for _, f := range latencyFaults {
		if faultMatches(f, q) {
			return time.Duration(f.LatencyMS) * time.Millisecond
		}
	}
	return 0
}

func faultMatches(f faults.Fault, q sandbox.Request) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, q.Method) {
		return false
	}
	p := strings.TrimSuffix(f.Path, "/**")
	return strings.HasPrefix(q.Path, p+"/") || q.Path == p
}

// countTemporal reads the histories of every workflow that ran in [start, end] and
// counts, for the events in that span, what Temporal Cloud bills as actions and the
// events themselves.
func (b *bench) countTemporal(start, end time.Time) (temporalCost, error) {
	var t temporalCost
	q := fmt.Sprintf("CloseTime >= '%s' OR ExecutionStatus = 'Running'", start.UTC().Format(time.RFC3339))
	var token []byte
	for {
		resp, err := b.c.ListWorkflow(b.ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 1000, NextPageToken: token})
		if err != nil {
			return t, err
		}
		for _, e := range resp.GetExecutions() {
			counted := false
			it := b.c.GetWorkflowHistory(b.ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					return t, err
				}
				at := ev.GetEventTime().AsTime()
				if at.Before(start) || at.After(end) {
					continue
				}
				counted = true
				t.Events++
				switch ev.GetEventType() {
				case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
					t.ActivityAttempts += int(max(1, ev.GetActivityTaskStartedEventAttributes().GetAttempt()))
				case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
					t.Starts++
				case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
					t.Signals++
				case enumspb.EVENT_TYPE_TIMER_STARTED:
					t.Timers++
				case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
					t.Upserts++
				case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
					t.Updates++
				case enumspb.EVENT_TYPE_MARKER_RECORDED:
					if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity" {
						t.LocalActivities++
					}
				}
			}
			if counted {
				t.Workflows++
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return t, nil
		}
	}
}

// Targets of phase 6 (issue 20's).
const (
	targetOrgEfficiency = 0.95
	targetCriticalRatio = 1.3
)

// orgMarkdown is phase 6's section of REPORT.md.
func (rep *report) orgMarkdown() string {
	o := rep.Org
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	n := float64(o.Portals)
	bound, which := o.bound()
	eff := bound.Seconds() / o.Wall.Seconds()
	limited := 0
	for _, s := range o.Buckets {
		limited += s.Limited
	}
	p("\n## 6. A real org: every limit at once\n\n")
	p("%d portals, one worker, MaxConcurrent %d, the first started %s apart (`--start-interval`), under every limit that binds a real paid Okta org at once and Konnect's (per minute: "+
		"management `/api/v1` %d, `/oauth2/v1/clients` %d, the authorization servers' token endpoint %d, Konnect %d — see `realOrg` in "+
		"`bench/realorg.go` for where each comes from), enforced by the sandbox in windows of %s, as Okta counts them; the worker's "+
		"budgets are the same figures. %d of %d portals succeeded.\n\n",
		o.Portals, o.MaxConcurrent, rep.Options.orgStartInterval, realOrg[bucketOktaMgmt], realOrg[bucketOktaDCR], realOrg[bucketOktaToken], realOrg[bucketKonnect], dur(orgWindow),
		o.Succeeded, o.Portals)
	p("| figure | value | target |\n|---|---|---|\n")
	p("| efficiency against the tightest bucket (its lower bound ÷ wall time) | %.2f (%s vs %s) | ≥ %.2f: %s |\n", eff, dur(bound), dur(o.Wall), targetOrgEfficiency, mark(eff >= targetOrgEfficiency))
	least := 0.0
	for _, m := range minimum {
		if bucketOfShape(m.Shape) == which && m.Calls > 0 {
			least += m.Calls
		}
	}
	if least > 0 && realOrg[which] > 0 {
		ideal := least * n / (float64(realOrg[which]) / 60)
		p("| the same against the minimum calls of that bucket (%.2f per portal, %.1f s) | %.2f | — |\n", least, ideal, ideal/o.Wall.Seconds())
	}
	p("| the bucket that bound | %s | — |\n", which)
	p("| 429 answers | %d | 0: %s |\n", limited, mark(limited == 0))
	if l := o.Latency; l != nil {
		p("| one portal alone, start to onboarded ÷ its critical path (median of %d) | %.2f× (%s vs %s: %d calls in %d sequential groups; the %d: %.2f–%.2f×) | ≤ %.1f×: %s |\n",
			l.Runs, l.ratio(), dur(l.Wall), dur(l.Critical), l.Calls, l.Groups, l.Runs, l.MinRatio, l.MaxRatio, targetCriticalRatio, mark(l.ratio() <= targetCriticalRatio))
	}
	t := o.Temporal
	p("| Temporal actions per portal (as Cloud bills them) | %.1f | — |\n", float64(t.actions())/n)
	p("| history events per portal | %.1f | — |\n\n", float64(t.Events)/n)

	p("Per bucket (the lower bound is the calls it counted at its rate):\n\n| bucket | per minute | calls | per portal | 429 | lower bound |\n|---|---|---|---|---|---|\n")
	for _, k := range []string{bucketOktaMgmt, bucketOktaDCR, bucketOktaToken, bucketKonnect, bucketOktaAuth} {
		s := o.Buckets[k]
		rpm, lb := "none", "—"
		if realOrg[k] > 0 {
			rpm = fmt.Sprint(realOrg[k])
			lb = dur(time.Duration(float64(s.Accepted()) / (float64(realOrg[k]) / 60) * float64(time.Second)))
		}
		p("| %s | %s | %d | %.2f | %d | %s |\n", k, rpm, s.Calls, float64(s.Calls)/n, s.Limited, lb)
	}

	p("\n### Calls per portal against the minimum\n\nMeasured from the sandbox's request log (429s left out); the minimum is the fewest calls each step could make " +
		"(`minimum` in `bench/realorg.go`, with why).\n\n| bucket | call | measured per portal | minimum | over |\n|---|---|---|---|---|\n")
	known := map[string]bool{}
	type row struct {
		bucket, shape, why string
		got, min           float64
	}
	var rows []row
	for _, m := range minimum {
		known[m.Shape] = true
		least := m.Calls
		if least < 0 { // once per authorization server
			least = float64(min(authServers, o.Portals)) / n
		}
		rows = append(rows, row{bucketOfShape(m.Shape), m.Shape, m.Why, float64(o.Shapes[m.Shape]) / n, least})
	}
	for s, c := range o.Shapes {
		if !known[s] {
			rows = append(rows, row{bucketOfShape(s), s, "not needed by the minimum", float64(c) / n, 0})
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		if a.bucket != b.bucket {
			return strings.Compare(a.bucket, b.bucket)
		}
		return strings.Compare(a.shape, b.shape)
	})
	perBucket := map[string][2]float64{}
	for _, r := range rows {
		p("| %s | `%s` | %.2f | %.2f (%s) | %+.2f |\n", r.bucket, r.shape, r.got, r.min, r.why, r.got-r.min)
		v := perBucket[r.bucket]
		perBucket[r.bucket] = [2]float64{v[0] + r.got, v[1] + r.min}
	}
	p("\n| bucket | measured per portal | minimum | ratio |\n|---|---|---|---|\n")
	for _, k := range []string{bucketOktaMgmt, bucketOktaDCR, bucketOktaToken, bucketKonnect} {
		v := perBucket[k]
		ratio := 0.0
		if v[1] > 0 {
			ratio = v[0] / v[1]
		}
		p("| %s | %.2f | %.2f | %.2f× |\n", k, v[0], v[1], ratio)
	}

	p("\n### Temporal cost per portal\n\nFrom the histories of every workflow that ran in the phase (%d: the fleet's runs, the portals', the shared-use records'), "+
		"the events in its span:\n\n| | total | per portal |\n|---|---|---|\n", t.Workflows)
	for _, kv := range []struct {
		k string
		v int
	}{{"activity attempts (retries included)", t.ActivityAttempts}, {"workflow starts (children, continue-as-new, records)", t.Starts},
		{"signals", t.Signals}, {"timers", t.Timers}, {"search attribute upserts", t.Upserts}, {"updates", t.Updates},
		{"local activities", t.LocalActivities}, {"**actions**", t.actions()}, {"history events", t.Events}} {
		p("| %s | %d | %.1f |\n", kv.k, kv.v, float64(kv.v)/n)
	}
	if l := o.Latency; l != nil {
		p("\nOne portal's latency: %d portals onboarded alone, one after the other, after a warm-up portal on the same authorization server (its shared-use records exist, as for every portal but a server's first), no limits, the median kept; the bench's internet-like latency on every call; "+
			"its critical path is the sum, over the groups of its calls that had to follow one another (calls arriving within 15 ms of each other went together), "+
			"of the group's latency. What is left (%s) is Temporal's and the worker's: task dispatch, workflow tasks and the shared-use record's updates.\n",
			l.Runs, dur(l.Wall-l.Critical))
		w := l.Where
		p("\nFrom its history, the median portal's %s went: %s until its first workflow task; %s with an activity running (%d activities; the API's critical path %s of it, "+
			"the rest the worker's own: the shared-use records' updates, the budget, encoding); %s with activities waiting for a worker; %s between activities "+
			"(workflow tasks); %s from its completion until the launcher had the result.\n",
			ms(l.Wall), ms(w.Start), ms(w.Running), w.Activities, ms(l.Critical), ms(w.Dispatch), ms(w.Between), ms(w.End))
	}
	return b.String()
}

// bucketOfShape is the bucket of a call shape ("METHOD /path").
func bucketOfShape(s string) string {
	method, path, _ := strings.Cut(s, " ")
	sys := "okta"
	if strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/v3/") {
		sys = "konnect"
	}
	return orgBucketOf(sandbox.Request{System: sys, Method: method, Path: strings.ReplaceAll(path, "*", "x")})
}

// ms is a duration in whole milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }
