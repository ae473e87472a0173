package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
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
)

// planPortals are the portals of examples/portals.yaml the plan tests use: payments
// and internal share the default server (and its claim), partners is on its own.
var planPortals = []string{"payments", "partners", "internal"}

// TestPlan_WritesNothingAndSaysWhatTheRunThenDoes plans three portals on a sandbox
// with what a real org has lying around — a scope the portal names, an API published
// with someone else's strategy, a strategy of another team under the name a portal
// wants — and proves that the plan wrote nothing (state and request log), then
// onboards the portals one after the other in file order and compares every plan
// item with the resource the run reports.
func TestPlan_WritesNothingAndSaysWhatTheRunThenDoes(t *testing.T) {
	started := time.Now()
	r := startRig(t, devserver.Start(t))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	specs := examplePortals(t, planPortals...)
	legacy := r.planPreexisting(t)

	before, since := r.state(t), lastSeq(r.stack)
	plans, err := launcher.Plan(ctx, r.temporal, r.taskQueue, "plan-e2e", specs, 10)
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := r.sb.Control.Requests(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	writes := 0
	for _, q := range reqs {
		if q.Method != "GET" {
			writes++
			t.Errorf("the plan wrote: %s %s", q.Method, q.Path)
		}
	}
	assertUnchanged(t, before, r.state(t))
	t.Logf("plan of %d portals: %d calls, %d writes", len(specs), len(reqs), writes)

	byPortal := map[string]dcrflow.PortalPlan{}
	for _, p := range plans {
		byPortal[p.Portal] = p
	}
	pay, partners, internal := byPortal["payments"], byPortal["partners"], byPortal["internal"]
	wantItem(t, pay, dcrflow.KindScope, "payments:read", dcrflow.PlanAdopt)
	wantItem(t, pay, dcrflow.KindScope, "payments:write", dcrflow.PlanCreate)
	wantItem(t, pay, dcrflow.KindClaim, "client_id", dcrflow.PlanCreate)
	if it := wantItem(t, pay, dcrflow.KindPublication, "payments-api", dcrflow.PlanRepublish); !strings.Contains(strings.Join(it.Diffs, ";"), legacy) {
		t.Errorf("republish diffs %v do not name the strategy it replaces (%s)", it.Diffs, legacy)
	}
	if it := wantItem(t, partners, dcrflow.KindAuthStrategy, "dcrflow-partners", dcrflow.PlanConflict); len(it.Diffs) < 3 {
		t.Errorf("conflict diffs %v, want issuer, scopes, claim and more", it.Diffs)
	}
	if len(partners.Problems) != 1 || len(pay.Problems) != 0 || len(internal.Problems) != 0 {
		t.Errorf("problems: payments %q, partners %q, internal %q", pay.Problems, partners.Problems, internal.Problems)
	}
	// internal's run comes after payments', which creates the claim they share.
	if it := wantItem(t, internal, dcrflow.KindClaim, "client_id", dcrflow.PlanAdopt); it.ByPortal != "payments" {
		t.Errorf("internal's claim: %+v, want adopt by payments", it)
	}

	// The runs, one after the other in file order, as the plan assumes.
	for _, spec := range specs {
		o := r.onboard(t, []dcrflow.PortalSpec{spec})[0]
		p := byPortal[spec.Key]
		if len(p.Problems) > 0 {
			if o.Succeeded || o.Result == nil || o.Result.Failure == nil || !strings.Contains(o.Result.Failure.Message, p.Problems[0]) {
				t.Fatalf("%s: the plan's problem %q, the run: %+v %v", spec.Key, p.Problems[0], o.Result, o.Err)
			}
			// What the run did before it failed is what the plan said.
			matchRun(t, spec.Key, p.Items[:len(o.Result.Resources)], o.Result.Resources)
			continue
		}
		if !o.Succeeded {
			t.Fatalf("%s: %v", spec.Key, o.Err)
		}
		matchRun(t, spec.Key, p.Items, o.Result.Resources)
	}
	t.Logf("plan e2e took %v", time.Since(started).Round(time.Millisecond))
}

// TestPlan_StarterPrintsATableOrJSONAndExitsOneOnProblems runs `starter plan` (the
// binary) against the rig's worker.
func TestPlan_StarterPrintsATableOrJSONAndExitsOneOnProblems(t *testing.T) {
	starterBin := buildDcrflow(t, t.TempDir())
	srv := devserver.Start(t)
	r := startRig(t, srv)
	r.planPreexisting(t)
	since := lastSeq(r.stack)
	starter := func(args ...string) (string, string, int) {
		cmd := exec.Command(starterBin, args...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "DCRFLOW_TEMPORAL_ADDRESS="+srv.FrontendHostPort(), "DCRFLOW_TEMPORAL_TASK_QUEUE="+r.taskQueue)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("starter: %v", err)
		}
		return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
	}

	// -max-concurrent 1: concurrent activities make the worker's HTTP transport dial
	// spare connections it never sends on, and the sandbox's Close waits up to its 5 s
	// limit for such fresh connections when the test ends right after (net/http treats
	// a new connection as idle only after 5 s).
	out, errOut, code := starter("plan", "-f", "examples/portals.yaml", "--portal", "payments", "--max-concurrent", "1")
	if code != 0 || !strings.Contains(out, "portal payments") || !strings.Contains(out, "republish") ||
		!regexp.MustCompile(`scope\s+payments:read\s+adopt`).MatchString(out) || !strings.Contains(out, "0 with problems") {
		t.Fatalf("plan payments: exit %d:\n%s%s", code, out, errOut)
	}
	t.Logf("starter plan -portal payments:\n%s", out)

	out, errOut, code = starter("plan", "-f", "examples/portals.yaml", "--portal", "payments,partners", "-o", "json", "--max-concurrent", "1")
	var doc struct {
		Type         string               `json:"type"`
		WithProblems int                  `json:"with_problems"`
		Plans        []dcrflow.PortalPlan `json:"plans"`
	}
	plans := &doc.Plans
	if code != 1 || json.Unmarshal([]byte(out), &doc) != nil || doc.Type != "plan" || doc.WithProblems != 1 || len(*plans) != 2 ||
		!strings.Contains(errOut, "1 of 2 portal(s) would fail") || !strings.Contains(errOut, `"exit_code":1`) {
		t.Fatalf("plan -json with a conflict: exit %d:\n%s\n%s", code, out, errOut)
	}
	if p := (*plans)[1]; p.Portal != "partners" || len(p.Problems) != 1 || !strings.Contains(p.Problems[0], "dcrflow-partners") {
		t.Errorf("partners: %+v", p)
	}

	// -detailed-exitcode: 3 while a run would change something, 0 right after the run
	// (the audit).
	detailed := func() (string, string, int) {
		return starter("plan", "--detailed-exitcode", "-f", "examples/portals.yaml", "--portal", "payments", "--max-concurrent", "1")
	}
	if out, errOut, code := detailed(); code != 3 || !strings.Contains(errOut, "1 of 1 portal(s) would change") {
		t.Fatalf("plan -detailed-exitcode before the run: exit %d:\n%s%s", code, out, errOut)
	}
	if o := r.onboard(t, examplePortals(t, "payments"))[0]; !o.Succeeded {
		t.Fatal(o.Err)
	}
	since = lastSeq(r.stack)
	if out, errOut, code := detailed(); code != 0 || strings.Contains(out, " create ") {
		t.Fatalf("plan -detailed-exitcode right after the run: exit %d:\n%s%s", code, out, errOut)
	}

	// A broken file is refused before anything is asked of the worker.
	out, errOut, code = starter("plan", "-f", "e2e/no-such-file.yaml")
	if code != 2 {
		t.Errorf("missing file: exit %d:\n%s%s", code, out, errOut)
	}
	// None of the plans wrote.
	for _, q := range r.sb.Sandbox.Requests(since) {
		if q.Method != "GET" {
			t.Errorf("a plan wrote: %s %s", q.Method, q.Path)
		}
	}
}

// planPreexisting sets up what a real org has lying around: payments:read exists
// (adopted), payments-api is published on payments with a legacy strategy
// (republished), and another team's strategy has the name partners wants (a
// conflict). It returns the legacy strategy's id.
func (r *rig) planPreexisting(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	legacy := r.preexisting(t)
	if _, err := r.konnect.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{Name: "dcrflow-partners", DisplayName: "Another team's",
		Issuer: "https://another.example.com/oauth2/y", CredentialClaim: []string{"uid"}, Scopes: []string{"theirs"}, AuthMethods: []string{"bearer"}}); err != nil {
		t.Fatal(err)
	}
	return legacy
}

// examplePortals loads examples/portals.yaml and keeps the named portals, in order.
func examplePortals(t *testing.T, keys ...string) []dcrflow.PortalSpec {
	t.Helper()
	all, err := onboarding.Load("../examples/portals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []dcrflow.PortalSpec
	for _, k := range keys {
		i := slices.IndexFunc(all, func(s dcrflow.PortalSpec) bool { return s.Key == k })
		if i < 0 {
			t.Fatalf("examples/portals.yaml has no portal %s", k)
		}
		out = append(out, all[i])
	}
	return out
}

func wantItem(t *testing.T, p dcrflow.PortalPlan, kind dcrflow.Kind, name string, action dcrflow.PlanAction) dcrflow.PlanItem {
	t.Helper()
	i := slices.IndexFunc(p.Items, func(it dcrflow.PlanItem) bool { return it.Kind == kind && it.Name == name })
	if i < 0 {
		t.Errorf("%s: no plan item for %s %s in %+v", p.Portal, kind, name, p.Items)
		return dcrflow.PlanItem{}
	}
	if p.Items[i].Action != action {
		t.Errorf("%s: %s %s is %s (%v), want %s", p.Portal, kind, name, p.Items[i].Action, p.Items[i].Diffs, action)
	}
	return p.Items[i]
}

// matchRun compares plan items with the resources a run reported, one by one: same
// kind and name, the action the plan mapping gives, the id of what the plan found.
func matchRun(t *testing.T, portal string, items []dcrflow.PlanItem, run []dcrflow.Resource) {
	t.Helper()
	if len(items) != len(run) {
		t.Errorf("%s: plan has %d items, the run reported %d resources:\n plan %s\n run  %s", portal, len(items), len(run), jsonOf(items), jsonOf(run))
		return
	}
	for i, it := range items {
		r := run[i]
		if r.Kind != it.Kind || r.Name != it.Name || r.Action != dcrflow.RunActionFor(it.Action) || (it.ID != "" && it.ID != r.ID) {
			t.Errorf("%s item %d: plan %+v, run %+v", portal, i, it, r)
		}
	}
}
