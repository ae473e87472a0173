package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/internal/metrics/promtext"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
)

// driftFile: payments publishes nothing (its strategy can be deleted in Konnect,
// which refuses to delete a strategy in use), public publishes one API.
const driftFile = `defaults:
  auth_server: default
  claim: client_id
  dcr_token: default
  auth_methods: [client_credentials, bearer]
  visibility: public
  validate: false
portals:
  - name: payments
    scopes: ["payments:read"]
  - name: public
    scopes: ["public:read"]
    apis: [customers-api]
`

// driftRig is the CLI rig with the worker's metrics served, and clients on the sandbox.
type driftRig struct {
	*cliRig
	env     []string
	c       client.Client
	okta    *okta.Client
	konnect *konnect.Client
	metrics string
}

func startDriftRig(t *testing.T, tq string) *driftRig {
	t.Helper()
	addr := freeAddr(t)
	r := startCLIRig(t, tq, "-metrics-addr", addr)
	oc, err := okta.New(okta.Config{OrgURL: r.sb.OktaURL, Token: sbokta.DefaultManagementToken, HTTPClient: r.sb.HTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := konnect.New(konnect.Config{BaseURL: r.sb.KonnectURL, Token: sbkonnect.DefaultToken, HTTPClient: r.sb.HTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	return &driftRig{cliRig: r, env: cliEnv(r.dir, "DCRFLOW_TEMPORAL_ADDRESS="+r.addr, "DCRFLOW_TEMPORAL_TASK_QUEUE="+tq),
		c: r.srv.Client(), okta: oc, konnect: kc, metrics: "http://" + addr + "/metrics"}
}

func (r *driftRig) state(t *testing.T) state {
	t.Helper()
	var st state
	if err := r.sb.Control.State(context.Background(), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func (r *driftRig) gauge(t *testing.T, kind dcrflow.Kind) float64 {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(r.metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	v, ok := promtext.Value(string(b), "dcrflow_drift_resources", map[string]string{"kind": string(kind)})
	if !ok {
		t.Fatalf("no dcrflow_drift_resources{kind=%q} in /metrics", kind)
	}
	return v
}

// reconcile triggers the schedule (the schedule client's Trigger), waits for the
// run it starts and returns its summary.
func (r *driftRig) reconcile(t *testing.T, fleet string) dcrflow.ReconcileSummary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := r.c.ScheduleClient().GetHandle(ctx, dcrflow.ScheduleID(fleet))
	before, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := before.Info.NumActions
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	var runID, wfID string
	waitFor(t, time.Minute, "the triggered reconcile to start", func() bool {
		d, err := h.Describe(ctx)
		if err != nil || d.Info.NumActions <= n || len(d.Info.RecentActions) == 0 {
			return false
		}
		last := d.Info.RecentActions[len(d.Info.RecentActions)-1]
		wfID, runID = last.StartWorkflowResult.WorkflowID, last.StartWorkflowResult.FirstExecutionRunID
		return true
	})
	var sum dcrflow.ReconcileSummary
	if err := r.c.GetWorkflow(ctx, wfID, runID).Get(ctx, &sum); err != nil {
		t.Fatalf("reconcile %s: %v", wfID, err)
	}
	return sum
}

func notOK(ds []dcrflow.PortalDrift) []string {
	var out []string
	for _, d := range ds {
		for _, it := range d.Items {
			if it.State != dcrflow.DriftOK {
				out = append(out, fmt.Sprintf("%s %s %s %s", d.Portal, it.Kind, it.Name, it.State))
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestDrift_CheckThenScheduleReportsHealsAndFindsNothing changes a scope in Okta and
// deletes an auth strategy in Konnect (through the sandbox's APIs) after onboarding:
// `dcrflow check` reports exactly those two (exit 4); the schedule's reconcile
// (triggered) reports them in its result, the DcrflowDrift search attribute and the
// worker's dcrflow_drift_resources gauge; updated with --heal it puts the scope back
// and recreates the strategy; a second reconcile and check find nothing. The
// schedule's input holds no secret and no path.
func TestDrift_CheckThenScheduleReportsHealsAndFindsNothing(t *testing.T) {
	const tq = "drift"
	r := startDriftRig(t, tq)
	run := cliRunner(t, r.bin)
	dcrflow_ := func(args ...string) cliResult { t.Helper(); return run(r.env, args...) }
	file := filepath.Join(r.dir, "drift.yaml")
	if err := os.WriteFile(file, []byte(driftFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := dcrflow_("onboard", "-f", file, "--wait"); res.code != 0 {
		t.Fatalf("onboard: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res := dcrflow_("check", "-f", file); res.code != 0 || !strings.Contains(res.stdout, "2 ok, 0 drifted") {
		t.Fatalf("check right after onboarding: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	// Someone changes a scope in Okta and deletes a strategy in Konnect.
	ctx := context.Background()
	sc, err := r.okta.FindScope(ctx, "default", "payments:read")
	if err != nil || sc == nil {
		t.Fatalf("find scope: %v %v", sc, err)
	}
	sc.Consent = okta.ConsentRequired
	if _, err := r.okta.UpdateScope(ctx, "default", *sc); err != nil {
		t.Fatal(err)
	}
	st, err := r.konnect.AuthStrategies.FindByName(ctx, "dcrflow-payments")
	if err != nil || st == nil {
		t.Fatalf("find strategy: %v %v", st, err)
	}
	if err := r.konnect.AuthStrategies.Delete(ctx, st.ID); err != nil {
		t.Fatal(err)
	}

	res := dcrflow_("check", "-f", file, "-o", "json")
	var doc struct {
		Type    string                `json:"type"`
		Reports []dcrflow.PortalDrift `json:"reports"`
	}
	if res.code != 4 || json.Unmarshal([]byte(res.stdout), &doc) != nil || doc.Type != "check" {
		t.Fatalf("check after the changes: exit %d (want 4)\n%s%s", res.code, res.stdout, res.stderr)
	}
	want := []string{"payments auth_strategy dcrflow-payments missing", "payments scope payments:read drifted"}
	if got := notOK(doc.Reports); !slices.Equal(got, want) {
		t.Fatalf("check reports %q, want exactly %q", got, want)
	}
	for _, it := range doc.Reports[0].Items {
		if it.Kind == dcrflow.KindScope && !strings.Contains(strings.Join(it.Fields, ";"), "REQUIRED") {
			t.Errorf("the drifted scope does not say which field differs: %+v", it)
		}
	}
	if res := dcrflow_("check", "-f", file); res.code != 4 || !strings.Contains(res.stdout, "drifted") || !strings.Contains(res.stderr, "drifted") {
		t.Errorf("check (text): exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	// The schedule, report only.
	if res := dcrflow_("schedule", "create", "-f", file, "--every", "1h"); res.code != 0 || !strings.Contains(res.stdout, "report only") {
		t.Fatalf("schedule create: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res := dcrflow_("schedule", "create", "-f", file, "--every", "1h"); res.code != 1 || !strings.Contains(res.stderr, "schedule update") {
		t.Errorf("a second create: exit %d\n%s", res.code, res.stderr)
	}
	assertScheduleInputClean(t, r, "drift", file)
	sum := r.reconcile(t, "drift")
	if sum.Total != 2 || sum.OK != 1 || sum.Drifted != 1 || sum.Healed != 0 || sum.Resources[string(dcrflow.KindScope)] != 1 ||
		sum.Resources[string(dcrflow.KindAuthStrategy)] != 1 || len(sum.Portals) != 1 || notOK(sum.Portals)[0] != want[0] {
		t.Fatalf("reconcile (report only): %+v", sum)
	}
	// The SDK's metrics reach /metrics at its reporting interval.
	waitFor(t, 10*time.Second, "dcrflow_drift_resources{kind=scope} = 1 on the worker", func() bool { return r.gauge(t, dcrflow.KindScope) == 1 })
	if v := r.gauge(t, dcrflow.KindAuthStrategy); v != 1 {
		t.Errorf("dcrflow_drift_resources{kind=auth_strategy} = %v, want 1", v)
	}
	waitFor(t, 30*time.Second, "DcrflowDrift = 'drift' on the reconcile", func() bool {
		return countWorkflows(t, r.c, "WorkflowType = 'Reconcile' AND DcrflowDrift = 'drift'") == 1
	})
	if got := r.state(t); len(strategies(got, "dcrflow-payments")) != 0 {
		t.Fatal("a report-only reconcile recreated the strategy")
	}
	if res := dcrflow_("status", "-f", file); !strings.Contains(res.stdout, "last reconcile: 2 of 2 portal(s) checked: 1 ok, 1 drifted") {
		t.Errorf("status does not show the drift:\n%s%s", res.stdout, res.stderr)
	}

	// --heal: the scope is put back, the strategy recreated.
	if res := dcrflow_("schedule", "update", "-f", file, "--every", "1h", "--heal"); res.code != 0 {
		t.Fatalf("schedule update: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	sum = r.reconcile(t, "drift")
	if sum.Drifted != 1 || sum.Healed != 1 || sum.HealFailed != 0 || sum.Portals[0].Heal != "healed" {
		t.Fatalf("reconcile --heal: %+v", sum)
	}
	after := r.state(t)
	if len(strategies(after, "dcrflow-payments")) != 1 {
		t.Error("heal did not recreate the strategy")
	}
	for _, s := range after.Okta.AuthorizationServers {
		for _, sc := range s.Scopes {
			if sc.Name == "payments:read" && sc.Consent != okta.ConsentImplicit {
				t.Errorf("heal left payments:read %s", sc.Consent)
			}
		}
	}

	// A second reconcile, and check, find nothing.
	sum = r.reconcile(t, "drift")
	if sum.Drifted != 0 || sum.OK != 2 || sum.Found() {
		t.Fatalf("reconcile after heal: %+v", sum)
	}
	waitFor(t, 10*time.Second, "dcrflow_drift_resources{kind=scope} = 0 after heal", func() bool { return r.gauge(t, dcrflow.KindScope) == 0 })
	if res := dcrflow_("check", "-f", file); res.code != 0 {
		t.Errorf("check after heal: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// A file that no longer publishes customers-api on public: dcrflow published it, so
	// it is extra (and only that).
	dropped := filepath.Join(r.dir, "dropped.yaml")
	if err := os.WriteFile(dropped, []byte(strings.Replace(driftFile, "    apis: [customers-api]\n", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	res = dcrflow_("check", "-f", dropped, "-o", "json")
	doc.Reports = nil
	if res.code != 4 || json.Unmarshal([]byte(res.stdout), &doc) != nil {
		t.Fatalf("check of a file without the API: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if got := notOK(doc.Reports); !slices.Equal(got, []string{"public publication customers-api extra"}) {
		t.Errorf("check reports %q, want only the publication as extra", got)
	}
	if res := dcrflow_("schedule", "describe", "-f", file); res.code != 0 || !strings.Contains(res.stdout, "every 1h0m0s") ||
		!strings.Contains(res.stdout, "heal") || !strings.Contains(res.stdout, "2 ok, 0 drifted") {
		t.Errorf("schedule describe: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res := dcrflow_("schedule", "delete", "-f", file); res.code != 0 {
		t.Errorf("schedule delete: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res := dcrflow_("schedule", "describe", "-f", file); res.code != 1 || !strings.Contains(res.stderr, "no schedule") {
		t.Errorf("describe after delete: exit %d\n%s", res.code, res.stderr)
	}
}

// assertScheduleInputClean decodes the schedule's action input: the file's portals,
// with no token and no path of the starter's machine.
func assertScheduleInputClean(t *testing.T, r *driftRig, fleet, file string) {
	t.Helper()
	d, err := r.c.ScheduleClient().GetHandle(context.Background(), dcrflow.ScheduleID(fleet)).Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || len(act.Args) != 1 {
		t.Fatalf("schedule action %T %+v", d.Schedule.Action, d.Schedule.Action)
	}
	p, ok := act.Args[0].(*commonpb.Payload)
	if !ok {
		t.Fatalf("action arg %T", act.Args[0])
	}
	var in dcrflow.ReconcileInput
	if err := converter.GetDefaultDataConverter().FromPayload(p, &in); err != nil {
		t.Fatal(err)
	}
	specs, err := dcrflow.UnpackPortals(in.Packed)
	if err != nil || len(specs) != 2 {
		t.Fatalf("packed portals: %d %v", len(specs), err)
	}
	b, _ := json.Marshal(specs)
	text := string(b) + fmt.Sprint(d.Schedule)
	for _, secret := range []string{sbokta.DefaultDCRToken, sbokta.DefaultManagementToken, sbkonnect.DefaultToken, file, r.dir} {
		if strings.Contains(text, secret) {
			t.Errorf("the schedule holds %q", secret)
		}
	}
}
