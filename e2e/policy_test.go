package e2e

import (
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/workflows"
)

// freePlanSpec is a portal on the authorization server without access policy, as
// free-plan orgs have it: DCR works there, tokens do not.
func freePlanSpec(key, mode string) dcrflow.PortalSpec {
	return dcrflow.PortalSpec{Key: key, Portal: "sandbox", AuthServer: "free-plan", ClaimName: "client_id",
		Scopes: []dcrflow.ScopeSpec{{Name: key + ":read"}}, DCRProvider: "dcrflow-" + key, DCRTokenName: "default",
		Strategy: dcrflow.StrategySpec{Name: "dcrflow-" + key, DisplayName: "Okta DCR (" + key + ")", AuthMethods: []string{"client_credentials"}},
		APIs:     []dcrflow.APISpec{{API: "shipping-api", Visibility: "public"}}, Validate: true, AccessPolicy: mode}
}

// Step 4 on a real server: check mode fails before anything is made in Konnect,
// naming what is missing, and leaves both orgs as they were; ensure mode creates a
// policy the token endpoint then honours (validation passes); transient faults on
// the policy calls leave exactly one policy; a permanent one undoes it.
func TestOnboard_AccessPolicyCheckFailsEarlyAndEnsureMakesTokensWork(t *testing.T) {
	srv := devserver.Start(t)

	t.Run("check", func(t *testing.T) {
		t.Parallel()
		r := startRig(t, srv)
		before := r.state(t)
		o := r.onboard(t, []dcrflow.PortalSpec{freePlanSpec("check", dcrflow.AccessPolicyCheck)})[0]
		if o.Succeeded || o.Result == nil || o.Result.Failure == nil || o.Result.Failure.Step != workflows.StepPolicy {
			t.Fatalf("want a failure at access_policy: %+v %v", o.Result, o.Err)
		}
		msg := o.Result.Failure.Message
		for _, want := range []string{`"free-plan"`, "[check:read]", "no_matching_policy", "it has no access policy", "access_policy: ensure"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
		}
		for _, q := range r.sb.Sandbox.Requests(0) {
			if q.System == "konnect" && q.Method != "GET" {
				t.Errorf("Konnect was written to before the check failed: %s %s", q.Method, q.Path)
			}
		}
		assertUnchanged(t, before, r.state(t))
	})

	t.Run("ensure", func(t *testing.T) {
		t.Parallel()
		r := startRig(t, srv)
		spec := freePlanSpec("ensure", dcrflow.AccessPolicyEnsure)
		// Two failed attempts at each policy write: retried, one of each in the end.
		create := addFault(t, r.sb, faults.Fault{Method: "POST", Path: "/api/v1/authorizationServers/*/policies", Status: 503, Count: 2})
		rule := addFault(t, r.sb, faults.Fault{Method: "POST", Path: "/api/v1/authorizationServers/*/policies/*/rules", Status: 503, Count: 2})
		o := r.onboard(t, []dcrflow.PortalSpec{spec})[0]
		if !o.Succeeded || o.Result.Validation == nil || !o.Result.Validation.Passed {
			t.Fatalf("ensure: %+v %v", o.Result, o.Err)
		}
		if hitsOf(r.sb, create.ID) != 2 || hitsOf(r.sb, rule.ID) != 2 {
			t.Errorf("faults hit %d and %d times, want 2 and 2", hitsOf(r.sb, create.ID), hitsOf(r.sb, rule.ID))
		}
		pols := server(r.state(t), "free-plan").Policies
		if len(pols) != 1 || pols[0].Name != "dcrflow-ensure" || len(pols[0].Rules) != 1 ||
			pols[0].Rules[0].Scopes[0] != "ensure:read" || pols[0].Rules[0].GrantTypes[0] != "client_credentials" {
			t.Fatalf("policies = %+v", pols)
		}
		var got dcrflow.Resource
		for _, res := range o.Result.Resources {
			if res.Kind == dcrflow.KindAccessPolicy {
				got = res
			}
		}
		if got.Action != dcrflow.ActionCreated || got.ID != pols[0].ID {
			t.Errorf("result's policy = %+v", got)
		}
		// The second run adopts its own policy and writes nothing.
		seq := lastSeq(r.stack)
		again := r.onboard(t, []dcrflow.PortalSpec{spec})[0]
		if !again.Succeeded {
			t.Fatal(again.Err)
		}
		for _, q := range r.sb.Sandbox.Requests(seq) {
			if q.Method == "POST" && strings.HasPrefix(q.Path, "/api/v1/authorizationServers/") {
				t.Errorf("second run wrote: %s %s", q.Method, q.Path)
			}
		}
	})

	t.Run("permanent", func(t *testing.T) {
		t.Parallel()
		r := startRig(t, srv)
		before := r.state(t)
		addFault(t, r.sb, faults.Fault{Method: "POST", Path: "/api/v1/authorizationServers/*/policies/*/rules", Status: 403})
		o := r.onboard(t, []dcrflow.PortalSpec{freePlanSpec("permanent", dcrflow.AccessPolicyEnsure)})[0]
		assertFailedAndUndone(t, r, o, workflows.StepPolicy, before)
		if pols := server(r.state(t), sbokta.NoPolicyServerID).Policies; len(pols) != 0 {
			t.Errorf("the created policy was left behind: %+v", pols)
		}
	})
}
