package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/sandbox"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
	"github.com/dcrflow/dcrflow/workflows"
)

// TestMain lets the fault matrix and the crash tests run their parallel rows at once.
// The rows spend their time waiting (timeouts, backoff, rate-limit resets), not on a
// CPU, so the default -parallel of GOMAXPROCS would only queue them; an explicit
// -parallel still wins.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "64")
	}
	os.Exit(m.Run())
}

// faultStep is one step of the saga and the call that stands for it in the sandbox.
type faultStep struct {
	name   string // row name
	step   string // the step a failure there must name
	okta   bool   // an Okta call (transient = 503) or a Konnect one (502)
	method string
	path   string
	write  bool // the call has a side effect: its timeout is a late answer, not a late call
}

var faultSteps = []faultStep{
	{"resolve", workflows.StepResolve, true, "GET", "/api/v1/authorizationServers/*", false},
	{"scopes", workflows.StepScopes, true, "POST", "/api/v1/authorizationServers/*/scopes", true},
	{"claim", workflows.StepClaim, true, "POST", "/api/v1/authorizationServers/*/claims", true},
	{"dcr_provider", workflows.StepProvider, false, "POST", "/v2/dcr-providers", true},
	{"verify", workflows.StepProvider, false, "POST", "/v2/dcr-providers/*/verify", true},
	{"auth_strategy", workflows.StepStrategy, false, "POST", "/v2/application-auth-strategies", true},
	{"publish", workflows.StepPublish, false, "PUT", "/v3/apis/*/publications/*", true},
	{"validate", workflows.StepValidate, true, "POST", "/oauth2/v1/clients", true},
}

const (
	kindTransient = "transient"
	kindRateLimit = "rate_limit"
	kindTimeout   = "timeout"
	kindDrop      = "drop"
	kindPermanent = "permanent"
)

var faultKinds = []string{kindTransient, kindRateLimit, kindTimeout, kindDrop, kindPermanent}

// Both emulators word a 403 this way (Okta E0000006, Konnect's problem detail).
const forbiddenMessage = "You do not have permission to perform"

// The portal of every row: two scopes, two APIs of the payments portal, validation on.
const (
	faultPortal    = "payments"
	faultAdopted   = "payments:read" // exists before the permanent rows: adopted, never deleted
	faultAPI       = "payments-api"  // published with another strategy before the permanent rows: restored
	faultSecondAPI = "refunds-api"
)

func faultSpec(key string) dcrflow.PortalSpec {
	return dcrflow.PortalSpec{Key: key, Portal: faultPortal, AuthServer: "default", ClaimName: "client_id",
		Scopes:      []dcrflow.ScopeSpec{{Name: faultAdopted}, {Name: "payments:write", Description: "Create payments"}},
		DCRProvider: "dcrflow-" + key, DCRTokenName: "default",
		Strategy: dcrflow.StrategySpec{Name: "dcrflow-" + key, DisplayName: "Okta DCR (" + key + ")",
			AuthMethods: []string{"client_credentials", "bearer"}},
		APIs:     []dcrflow.APISpec{{API: faultAPI, Visibility: "public"}, {API: faultSecondAPI, Visibility: "private", AutoApprove: true}},
		Validate: true}
}

// TestFaults is the matrix of issue 4: every step under every fault kind, each row on
// its own sandbox and worker (own task queue), all rows on one dev server. A
// transient fault, a rate limit, a timeout after the side effect and a dropped
// connection are survived with exactly one of each resource, every one of them known
// as this run's own; a permanent fault fails the portal naming the step and the
// server's words, and leaves both orgs exactly as they were.
func TestFaults(t *testing.T) {
	t.Parallel()
	srv := devserver.Start(t)
	for _, st := range faultSteps {
		for _, kind := range faultKinds {
			t.Run(st.name+"/"+kind, func(t *testing.T) {
				t.Parallel()
				runFaultRow(t, srv, st, kind)
			})
		}
	}
}

// rowKey is a workflow-id-safe portal key, unique on the shared dev server.
func rowKey(prefix string, parts ...string) string {
	k := prefix + "-" + strings.Join(parts, "-")
	return strings.NewReplacer("_", "-", "/", "-", " ", "-").Replace(strings.ToLower(k))
}

func runFaultRow(t *testing.T, srv *testsuite.DevServer, st faultStep, kind string) {
	r := startRig(t, srv)
	ctx := context.Background()
	spec := faultSpec(rowKey("fault", st.name, kind))
	if kind == kindPermanent {
		r.preexisting(t)
	}
	before := r.state(t)

	f := faults.Fault{Method: st.method, Path: st.path}
	wantHits := 1
	switch kind {
	case kindTransient:
		f.Status, f.Count, wantHits = 502, 3, 3
		if st.okta {
			f.Status = 503
		}
	case kindRateLimit:
		f.Status, f.RetryAfterSeconds, f.Count = 429, 3, 1
	case kindTimeout:
		// Longer than the attempt may take, so the attempt times out and is retried.
		// Validation is bounded by its heartbeat timeout (a hung call is noticed
		// within it), every other step by its start-to-close timeout, which also cuts
		// the call. A timed-out validation attempt is not cut: it learns of its
		// timeout at its next heartbeat, after the late answer. The answer comes
		// lateMargin past the limit, after the retry has finished the run, so the row
		// shows that the retry itself dealt with the client the first attempt made.
		const lateMargin = 8 * time.Second
		limit := workflows.StepTimeout
		if st.step == workflows.StepValidate {
			limit = workflows.ValidateHeartbeatTimeout
		}
		f.LatencyMS, f.DelayResponse, f.Count = int((limit + lateMargin).Milliseconds()), st.write, 1
	case kindDrop:
		f.Drop, f.Count = true, 1
	case kindPermanent:
		f.Status = 403 // count 0: until cleared
		if st.name == "publish" {
			// Only the second API's publication: the first (a pre-existing one the run
			// changes) must stay writable for its restore.
			f.Path = "/v3/apis/" + apiID(before, faultSecondAPI) + "/publications/*"
		}
	}

	// DCR provider verification registers a client through the same Okta endpoint as
	// validation, earlier in the run. A validation fault is injected only once the
	// run has passed verification: the first publication is held for a moment and the
	// fault added while it is.
	var hold faults.Fault
	if st.step == workflows.StepValidate {
		hold = addFault(t, r.sb, faults.Fault{Method: "PUT", Path: "/v3/apis/*/publications/*", LatencyMS: 2000, Count: 1})
	} else {
		f = addFault(t, r.sb, f)
	}

	runCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	runs, err := launcher.Start(runCtx, r.temporal, r.taskQueue, []dcrflow.PortalSpec{spec})
	if err != nil {
		t.Fatal(err)
	}
	if hold.ID != "" {
		waitFor(t, 3*time.Minute, "the run to reach publish", func() bool { return hitsOf(r.sb, hold.ID) == 1 })
		f = addFault(t, r.sb, f)
	}
	o := launcher.Wait(runCtx, runs)[0]

	hits := hitsOf(r.sb, f.ID)
	switch {
	case kind == kindPermanent && hits < 1:
		t.Errorf("the permanent fault on %s %s was never hit: the row proves nothing", f.Method, f.Path)
	case kind != kindPermanent && hits != wantHits:
		t.Errorf("fault %s %s hit %d times, want %d", f.Method, f.Path, hits, wantHits)
	}

	if kind == kindPermanent {
		assertFailedAndUndone(t, r, o, st.step, before)
		return
	}
	if !o.Succeeded {
		t.Fatalf("the portal did not survive the fault: %v", o.Err)
	}
	after := r.state(t)
	assertExactlyOnce(t, before, after, spec)
	assertOwnedByRun(t, o.Result, nil)
	if kind == kindRateLimit {
		assertWaitedForReset(t, r, f.ID)
	}
}

// rig is a sandbox and an in-process worker on a task queue of their own, on a
// shared dev server, with clients to set the sandbox up.
type rig struct {
	*stack
	okta    *okta.Client
	konnect *konnect.Client
}

func startRig(t *testing.T, srv *testsuite.DevServer) *rig {
	t.Helper()
	sb := sandboxtest.Start(t)
	tq := "e2e-" + strings.ReplaceAll(t.Name(), "/", "-")
	oc, kc := startWorker(t, srv.Client(), sb, tq)
	return &rig{stack: &stack{sb: sb, temporal: srv.Client(), taskQueue: tq}, okta: oc, konnect: kc}
}

// preexisting sets up what the permanent rows (and the plan and offboarding tests)
// must leave untouched: the scope payments:read the portal adopts, and payments-api
// published on the payments portal with someone else's strategy (the run republishes
// it; compensation and offboarding must put it back exactly). It returns that
// strategy's id.
func (r *rig) preexisting(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	no := false
	if _, err := r.okta.CreateScope(ctx, "default", okta.Scope{Name: faultAdopted, Description: "Read payments (theirs)",
		Consent: okta.ConsentImplicit, MetadataPublish: okta.PublishAllClients, Default: &no}); err != nil {
		t.Fatal(err)
	}
	theirs, err := r.konnect.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{Name: "legacy-oidc", DisplayName: "Legacy",
		Issuer: "https://legacy.example.com/oauth2/x", CredentialClaim: []string{"sub"}, Scopes: []string{"legacy"}, AuthMethods: []string{"bearer"}})
	if err != nil {
		t.Fatal(err)
	}
	st := r.state(t)
	if _, err := r.konnect.Publications.Put(ctx, apiID(st, faultAPI), portalID(st, faultPortal), konnect.Publication{
		AuthStrategyIDs: []string{theirs.ID}, Visibility: konnect.VisibilityPrivate, AutoApproveRegistrations: true}); err != nil {
		t.Fatal(err)
	}
	return theirs.ID
}

// assertFailedAndUndone checks a permanent failure: the portal failed at step with
// the server's message, every undo succeeded, and both orgs are as they were before.
func assertFailedAndUndone(t *testing.T, r *rig, o launcher.Outcome, step string, before state) {
	t.Helper()
	if o.Succeeded {
		t.Fatal("the portal succeeded through a permanent fault")
	}
	if o.Result == nil || o.Result.Failure == nil {
		t.Fatalf("the failure carries no result: %v", o.Err)
	}
	if o.Result.Failure.Step != step || !strings.Contains(o.Err.Error(), "step "+step) {
		t.Errorf("failure at %q, error %q; want both to name step %s", o.Result.Failure.Step, o.Err, step)
	}
	if !strings.Contains(o.Result.Failure.Message, forbiddenMessage) {
		t.Errorf("failure message %q lacks the server's %q", o.Result.Failure.Message, forbiddenMessage)
	}
	if len(o.Result.CompensationErrors) != 0 {
		t.Errorf("compensation errors: %v", o.Result.CompensationErrors)
	}
	assertUnchanged(t, before, r.state(t))
}

// footprint is what a run could create or change, without timestamps, comparable.
type footprint struct {
	Scopes       map[string][]sbokta.ScopeState  `json:"scopes"`   // per server
	Claims       map[string][]sbokta.ClaimState  `json:"claims"`   // per server
	Policies     map[string][]sbokta.PolicyState `json:"policies"` // per server, with their rules
	Providers    []sbkonnect.DCRProvider         `json:"dcr_providers"`
	Strategies   []sbkonnect.AuthStrategy        `json:"auth_strategies"`
	Publications []sbkonnect.Publication         `json:"publications"`
	Clients      []sbokta.ClientState            `json:"dcr_clients"`
	Applications []string                        `json:"applications"` // ids
}

func footprintOf(st state) footprint {
	fp := footprint{Scopes: map[string][]sbokta.ScopeState{}, Claims: map[string][]sbokta.ClaimState{},
		Policies: map[string][]sbokta.PolicyState{}, Clients: st.Okta.Clients}
	for _, s := range st.Okta.AuthorizationServers {
		fp.Scopes[s.Name] = s.Scopes
		fp.Claims[s.Name] = s.Claims
		fp.Policies[s.Name] = s.Policies
	}
	for _, app := range st.Konnect.Applications {
		fp.Applications = append(fp.Applications, app.ID)
	}
	slices.Sort(fp.Applications)
	for _, p := range st.Konnect.DCRProviders {
		p.CreatedAt, p.UpdatedAt = time.Time{}, time.Time{}
		fp.Providers = append(fp.Providers, p)
	}
	for _, s := range st.Konnect.AuthStrategies {
		s.CreatedAt, s.UpdatedAt = time.Time{}, time.Time{}
		fp.Strategies = append(fp.Strategies, s)
	}
	for _, p := range st.Konnect.Publications {
		p.CreatedAt, p.UpdatedAt = time.Time{}, time.Time{}
		fp.Publications = append(fp.Publications, p)
	}
	slices.SortFunc(fp.Providers, func(a, b sbkonnect.DCRProvider) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(fp.Strategies, func(a, b sbkonnect.AuthStrategy) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(fp.Publications, func(a, b sbkonnect.Publication) int {
		return strings.Compare(a.APIID+"/"+a.PortalID, b.APIID+"/"+b.PortalID)
	})
	slices.SortFunc(fp.Clients, func(a, b sbokta.ClientState) int { return strings.Compare(a.ClientID, b.ClientID) })
	return fp
}

// assertUnchanged compares, part by part, everything a run could create or change.
func assertUnchanged(t *testing.T, before, after state) {
	t.Helper()
	b, a := footprintOf(before), footprintOf(after)
	parts := []struct {
		name    string
		was, is any
	}{
		{"scopes", b.Scopes, a.Scopes},
		{"claims", b.Claims, a.Claims},
		{"access policies", b.Policies, a.Policies},
		{"DCR providers", b.Providers, a.Providers},
		{"auth strategies", b.Strategies, a.Strategies},
		{"publications", b.Publications, a.Publications},
		{"DCR clients", b.Clients, a.Clients},
		{"Konnect applications", b.Applications, a.Applications},
	}
	for _, p := range parts {
		if !reflect.DeepEqual(p.was, p.is) {
			t.Errorf("%s changed:\n before %s\n after  %s", p.name, jsonOf(p.was), jsonOf(p.is))
		}
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// assertExactlyOnce checks a completed portal on a sandbox that had none of its
// resources: everything in place, each exactly once, no DCR client left behind.
func assertExactlyOnce(t *testing.T, before, after state, spec dcrflow.PortalSpec) {
	t.Helper()
	assertOnboarded(t, after, []dcrflow.PortalSpec{spec})
	assertScopesOnce(t, after, []dcrflow.PortalSpec{spec})
	got, was := count(after), count(before)
	want := map[string]int{"scopes": was["scopes"] + len(spec.Scopes), "claims": was["claims"] + 1, "providers": was["providers"] + 1,
		"strategies": was["strategies"] + 1, "publications": was["publications"] + len(spec.APIs), "clients": was["clients"]}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d, want %d (before the run: %d)", k, got[k], v, was[k])
		}
	}
	if len(after.Okta.Clients) != 0 {
		t.Errorf("DCR clients left behind: %+v", after.Okta.Clients)
	}
}

// assertOwnedByRun checks that the run reports as its own every resource it made —
// also one whose creating attempt timed out or died before answering (the retry must
// recognise it, or compensation would leave it behind). adopted lists the resources
// (kind/name) that existed before the run.
func assertOwnedByRun(t *testing.T, res *dcrflow.OnboardResult, adopted []string) {
	t.Helper()
	if res == nil {
		t.Fatal("no result")
	}
	for _, x := range res.Resources {
		want := dcrflow.ActionCreated
		switch {
		case slices.Contains(adopted, string(x.Kind)+"/"+x.Name):
			want = dcrflow.ActionAdopted
		case x.Kind == dcrflow.KindAccessPolicy && x.Name == "Default Policy":
			want = dcrflow.ActionAdopted // step 4 in check mode: the policy found
		case x.Kind == dcrflow.KindPublication:
			want = dcrflow.ActionPublished
		}
		if x.Action != want {
			t.Errorf("%s %s (%s) reported %s, want %s", x.Kind, x.Name, x.ID, x.Action, want)
		}
	}
}

// assertWaitedForReset checks that after the 429 the next call to the same path came
// no sooner than the reset the answer named (3 s). Both emulators state the reset in
// whole seconds (Okta as an epoch second rounded up, read against a Date header
// truncated to the second; Konnect as Retry-After seconds), so up to a second of
// rounding either way is tolerated: at least 2 s, where an ordinary retry would have
// come after the 1 s initial backoff.
func assertWaitedForReset(t *testing.T, r *rig, faultID string) {
	t.Helper()
	reqs := r.sb.Sandbox.Requests(0)
	i := slices.IndexFunc(reqs, func(x sandbox.Request) bool { return x.Fault == faultID })
	if i < 0 || reqs[i].Status != 429 {
		t.Fatalf("no 429 from fault %s in the request log", faultID)
	}
	limited := reqs[i]
	j := slices.IndexFunc(reqs[i+1:], func(x sandbox.Request) bool { return x.System == limited.System && x.Path == limited.Path })
	if j < 0 {
		t.Fatalf("no call to %s after the 429", limited.Path)
	}
	next := reqs[i+1+j]
	gap := next.Time.Sub(limited.Time)
	if gap < 2*time.Second {
		t.Errorf("%s %s came %v after the 429 on %s, want at least 2 s (the reset was 3 s)", next.Method, next.Path, gap, limited.Path)
	}
	t.Logf("after the 429 on %s %s, the next call (%s) came %.2fs later", limited.Method, limited.Path, next.Method, gap.Seconds())
}
