package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/onboarding"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
)

// offboardFile onboards two portals of the default server (they share the client-id
// claim): payments adopts a scope and a DCR provider that exist, and republishes an
// API published with someone else's strategy; internal makes everything it needs;
// free, on a server without access policy, has step 4 make one.
const offboardFile = `defaults:
  auth_server: default
  claim: client_id
  dcr_token: default
  auth_methods: [client_credentials, bearer]
  visibility: public
portals:
  - name: payments
    scopes: ["payments:read", "payments:write"]
    dcr_provider: {name: shared-okta}
    apis:
      - payments-api
      - {api: refunds-api, visibility: private, auto_approve: true}
  - name: internal
    scopes: ["internal:read", "internal:admin"]
    apis: [{api: reporting-api, visibility: private}]
  - name: free
    portal: sandbox
    auth_server: free-plan
    access_policy: ensure
    scopes: ["free:read"]
    apis: [shipping-api]
`

// TestOffboard_LeavesBothOrgsAsTheyWereBeforeOnboarding onboards, offboards with the
// starter binary and checks that every part of both orgs is back as it was, the
// pre-existing resources untouched (a scope, a publication with another strategy, a
// DCR provider another strategy uses); a second offboarding writes nothing.
// Offboarding is refused while an onboarding runs.
func TestOffboard_LeavesBothOrgsAsTheyWereBeforeOnboarding(t *testing.T) {
	started := time.Now()
	dir := t.TempDir()
	starterBin := buildDcrflow(t, dir)
	srv := devserver.Start(t)
	r := startRig(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	file := filepath.Join(dir, "offboard.yaml")
	if err := os.WriteFile(file, []byte(offboardFile), 0o644); err != nil {
		t.Fatal(err)
	}
	specs, err := onboarding.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	theirs := r.offboardPreexisting(t)
	before := r.state(t)

	// Refused while an onboarding runs (its first step is slowed down).
	addFault(t, r.sb, faults.Fault{Method: "GET", Path: "/api/v1/authorizationServers/*", LatencyMS: 3000, Count: 1})
	runs, err := launcher.Start(ctx, r.temporal, r.taskQueue, specs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := launcher.PrepareOffboard(ctx, r.temporal, "", specs); err == nil || !strings.Contains(err.Error(), "onboarding is running") {
		t.Fatalf("offboarding during onboarding: %v, want a refusal", err)
	}
	onboardStart := time.Now()
	for _, o := range launcher.Wait(ctx, runs) {
		if !o.Succeeded {
			t.Fatalf("onboard %s: %v", o.Portal, o.Err)
		}
	}
	onboardTook := time.Since(onboardStart)
	if assertOnboarded(t, r.state(t), specs); t.Failed() {
		t.FailNow()
	}

	// Offboard with the starter, as an operator would.
	offStart := time.Now()
	cmd := exec.Command(starterBin, "offboard", "-f", file, "--wait", "--ui", "")
	cmd.Env = append(os.Environ(), "DCRFLOW_TEMPORAL_ADDRESS="+srv.FrontendHostPort(), "DCRFLOW_TEMPORAL_TASK_QUEUE="+r.taskQueue)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 || strings.Count(string(out), ": offboarded") != 3 {
		t.Fatalf("starter offboard: exit %d:\n%s", code, out)
	}
	offboardTook := time.Since(offStart)
	t.Logf("starter offboard:\n%s", out)
	for _, want := range []string{`scope\s+payments:read\s+kept\s+not created by dcrflow`, `publication\s+payments-api\s+restored`,
		`publication\s+refunds-api\s+unpublished`, `dcr_provider\s+shared-okta\s+kept\s+not created by dcrflow`,
		`auth_strategy\s+dcrflow-payments\s+deleted`, `scope\s+internal:admin\s+deleted`, `dcr_provider\s+dcrflow-internal\s+deleted`,
		`access_policy\s+dcrflow-free\s+deleted`, `access_policy\s+Default Policy\s+kept`} {
		if !regexpMatch(want, string(out)) {
			t.Errorf("starter output lacks %s", want)
		}
	}
	after := r.state(t)
	assertUnchanged(t, before, after)
	// Assert the pre-existing ones by name too, not only as part of the whole.
	if srv := server(after, "default"); srv == nil || !slices.ContainsFunc(srv.Scopes, func(s sbokta.ScopeState) bool { return s.Name == "payments:read" }) {
		t.Error("the pre-existing scope is gone")
	}
	if pub := publication(after, apiID(after, "payments-api"), portalID(after, "payments")); pub == nil || !slices.Equal(pub.AuthStrategyIDs, []string{theirs.legacy}) {
		t.Errorf("the pre-existing publication = %+v", pub)
	}
	if len(providers(after, "shared-okta")) != 1 || len(strategies(after, "team-x")) != 1 {
		t.Error("the shared DCR provider or the strategy using it is gone")
	}

	// Offboarding again finds nothing of dcrflow's and writes nothing.
	since := lastSeq(r.stack)
	inputs, err := launcher.PrepareOffboard(ctx, r.temporal, "", specs)
	if err != nil {
		t.Fatal(err)
	}
	// One at a time: the test ends right after, and spare connections of concurrent
	// activities would hold up the sandbox's Close (see TestPlan_StarterPrints…).
	for _, o := range launcher.Offboard(ctx, r.temporal, r.taskQueue, inputs, 1) {
		if o.Err != nil {
			t.Fatalf("second offboarding of %s: %v", o.Portal, o.Err)
		}
		for _, res := range o.Result.Resources {
			if res.Action != dcrflow.ActionAbsent && res.Action != dcrflow.ActionKept {
				t.Errorf("second offboarding of %s: %s %s %s", o.Portal, res.Kind, res.Name, res.Action)
			}
		}
	}
	writes := 0
	for _, q := range r.sb.Sandbox.Requests(since) {
		if q.Method != "GET" {
			writes++
			t.Errorf("the second offboarding wrote: %s %s", q.Method, q.Path)
		}
	}
	assertUnchanged(t, before, r.state(t))

	// Onboarding is refused while an offboarding of the portal runs (slowed down here).
	addFault(t, r.sb, faults.Fault{Method: "GET", Path: "/api/v1/authorizationServers/*", LatencyMS: 3000, Count: 1})
	off, err := launcher.StartOffboard(ctx, r.temporal, r.taskQueue, inputs[0])
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the preflight to refuse onboarding during offboarding", func() bool {
		err := launcher.Preflight(ctx, r.temporal, r.taskQueue, file, specs)
		return err != nil && strings.Contains(err.Error(), `portal "payments": its offboarding is running`)
	})
	if o := launcher.WaitOffboard(ctx, off); o.Err != nil {
		t.Fatal(o.Err)
	}
	t.Logf("onboarding took %v, offboarding (starter, all portals) %v, second offboarding wrote %d times; test %v",
		onboardTook.Round(time.Millisecond), offboardTook.Round(time.Millisecond), writes, time.Since(started).Round(time.Millisecond))
}

// TestOffboard_WithoutRecordsOwnershipMarksDecide offboards a portal whose
// onboarding records Temporal no longer has (here: never given): the labels and the
// scope marker alone decide, the adopted strategy's publication is kept.
func TestOffboard_WithoutRecordsOwnershipMarksDecide(t *testing.T) {
	r := startRig(t, devserver.Start(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	spec := examplePortals(t, "internal")[0]
	before := r.state(t)
	if o := r.onboard(t, []dcrflow.PortalSpec{spec})[0]; !o.Succeeded {
		t.Fatal(o.Err)
	}
	run, err := launcher.StartOffboard(ctx, r.temporal, r.taskQueue, dcrflow.OffboardInput{Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	o := launcher.WaitOffboard(ctx, run)
	if o.Err != nil {
		t.Fatal(o.Err)
	}
	for _, res := range o.Result.Resources {
		// No onboarding records, but the usage record knows dcrflow created it.
		if res.Kind == dcrflow.KindClaim && (res.Action != dcrflow.ActionDeleted || !strings.Contains(res.Reason, "usage record")) {
			t.Errorf("claim without records: %+v", res)
		}
	}
	assertUnchanged(t, before, r.state(t))
}

type offboardTheirs struct{ legacy string }

// offboardPreexisting sets up what payments adopts and offboarding must leave alone:
// the scope payments:read, payments-api published with a legacy strategy, and the DCR
// provider shared-okta, which another team's strategy team-x also uses.
func (r *rig) offboardPreexisting(t *testing.T) offboardTheirs {
	t.Helper()
	ctx := context.Background()
	legacy := r.preexisting(t)
	st := r.state(t)
	issuer := server(st, "default").Issuer
	prov, err := r.konnect.DCRProviders.CreateOkta(ctx, konnect.CreateOktaProvider{Name: "shared-okta", Issuer: issuer, DCRToken: sbokta.DefaultDCRToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.konnect.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{Name: "team-x", DisplayName: "Team X", Issuer: issuer,
		CredentialClaim: []string{"uid"}, Scopes: []string{"team-x:read"}, AuthMethods: []string{"client_credentials"}, DCRProviderID: prov.ID}); err != nil {
		t.Fatal(err)
	}
	return offboardTheirs{legacy: legacy}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
