package activities_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/clients/okta"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
)

// Check mode never writes: it adopts the policy Okta would use, and otherwise fails
// naming what is missing and how to fix it.
func TestEnsureAccessPolicy_ChecksAndNamesWhatIsMissing(t *testing.T) {
	h := newHarness(t)
	check := func(server string, scopes ...string) (dcrflow.Resource, error) {
		pr, err := call[activities.PolicyResult](h, a.EnsureAccessPolicy, activities.PolicyInput{AuthServerID: server, AuthServer: server, Scopes: scopes, PortalKey: "p"})
		if pr.NeedsRule {
			t.Error("check mode asks for a rule")
		}
		return pr.Resource, err
	}
	r, err := check("default", "anything:read")
	if err != nil || r.Name != "Default Policy" || r.Action != dcrflow.ActionAdopted || r.Kind != dcrflow.KindAccessPolicy {
		t.Fatalf("default server (rule grants *): %+v %v", r, err)
	}
	r, err = check(sbokta.PartnersServerID, "partners:read")
	if err != nil || r.Name != "Partners Policy" || r.Action != dcrflow.ActionAdopted {
		t.Fatalf("partners:read: %+v %v", r, err)
	}
	_, err = check(sbokta.PartnersServerID, "partners:read", "partners:admin")
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeAccessPolicy || retry ||
		!strings.Contains(err.Error(), `rule "Service read" grants client_credentials [partners:read partners:consent], not [partners:admin]`) {
		t.Fatalf("partners:admin: %v", err)
	}
	_, err = check(sbokta.NoPolicyServerID, "free:read")
	if typ, _ := errType(t, err); typ != dcrflow.ErrTypeAccessPolicy || !strings.Contains(err.Error(), "it has no access policy") ||
		!strings.Contains(err.Error(), "no_matching_policy") || !strings.Contains(err.Error(), "access_policy: ensure") {
		t.Fatalf("free plan: %v", err)
	}
	if n := len(h.policies(sbokta.NoPolicyServerID)); n != 0 {
		t.Fatalf("check mode wrote %d policies", n)
	}
}

// Ensure mode makes tokens issuable where they were not, owns what it made, and only
// its own policy is undone.
func TestEnsureAccessPolicy_EnsureCreatesAPolicyTokensThenPassAndUndoDeletesIt(t *testing.T) {
	h := newHarness(t)
	server := sbokta.NoPolicyServerID
	if _, err := call[dcrflow.Resource](h, a.EnsureScope, activities.ScopeInput{AuthServerID: server, Scope: dcrflow.ScopeSpec{Name: "free:read"}, PortalKey: "p"}); err != nil {
		t.Fatal(err)
	}
	if _, err := call[dcrflow.Resource](h, a.EnsureClaim, activities.ClaimInput{AuthServerID: server, Name: "client_id"}); err != nil {
		t.Fatal(err)
	}
	validate := activities.ValidateInput{PortalKey: "p", Issuer: h.sb.OktaURL + "/oauth2/" + server, Scopes: []string{"free:read"}, ClaimName: "client_id", TokenName: "default"}
	if v, err := call[dcrflow.Validation](h, a.ValidateDCR, validate); err != nil || v.Passed {
		t.Fatalf("before: %+v %v (want a refused token)", v, err)
	}
	ensure := activities.PolicyInput{AuthServerID: server, AuthServer: "free-plan", Scopes: []string{"free:read"}, PortalKey: "p", Ensure: true}
	ensureAll := func(in activities.PolicyInput) (dcrflow.Resource, error) {
		pr, err := call[activities.PolicyResult](h, a.EnsureAccessPolicy, in)
		if err != nil || !pr.NeedsRule {
			return pr.Resource, err
		}
		rule := activities.PolicyRuleInput{AuthServerID: server, PolicyID: pr.Resource.ID, PolicyName: pr.Resource.Name, Scopes: in.Scopes, PortalKey: in.PortalKey}
		for range 2 { // a retry of the rule step adds nothing
			if _, err := call[struct{}](h, a.EnsureAccessPolicyRule, rule); err != nil {
				return pr.Resource, err
			}
		}
		return pr.Resource, nil
	}
	r, err := ensureAll(ensure)
	if err != nil || r.Action != dcrflow.ActionCreated || r.Name != "dcrflow-p" || r.ID == "" {
		t.Fatalf("ensure: %+v %v", r, err)
	}
	pols := h.policies(server)
	if len(pols) != 1 || !strings.Contains(pols[0].Description, "[managed by dcrflow: portal p, run ") {
		t.Fatalf("policies = %+v", pols)
	}
	if rules, err := h.okta.ListPolicyRules(context.Background(), server, r.ID); err != nil || len(rules) != 1 {
		t.Fatalf("rules = %+v %v, want one", rules, err)
	}
	if v, err := call[dcrflow.Validation](h, a.ValidateDCR, validate); err != nil || !v.Passed {
		t.Fatalf("after: %+v %v", v, err)
	}
	// Again (a retry, or the next run): the same policy, nothing new.
	again, err := ensureAll(ensure)
	if err != nil || again.ID != r.ID || len(h.policies(server)) != 1 {
		t.Fatalf("again: %+v %v, %d policies", again, err, len(h.policies(server)))
	}
	// Another portal with the same scopes does not lean on p's policy: offboarding p
	// would pull it away.
	other := ensure
	other.PortalKey = "q"
	q, err := ensureAll(other)
	if err != nil || q.ID == r.ID || q.Name != "dcrflow-q" {
		t.Fatalf("portal q: %+v %v", q, err)
	}
	for _, id := range []string{r.ID, r.ID, q.ID} { // twice: already gone counts as done
		if _, err := call[struct{}](h, a.DeleteAccessPolicy, activities.OktaResourceInput{AuthServerID: server, ID: id, Name: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(h.policies(server)); n != 0 {
		t.Fatalf("%d policies left", n)
	}
	if v, err := call[dcrflow.Validation](h, a.ValidateDCR, validate); err != nil || v.Passed {
		t.Fatalf("after undo: %+v %v (want a refused token again)", v, err)
	}
}

func (h *harness) policies(server string) []okta.Policy {
	h.t.Helper()
	pols, err := h.okta.ListPolicies(context.Background(), server)
	if err != nil {
		h.t.Fatal(err)
	}
	return pols
}

// The plan judges step 4 as the run does, without a write.
func TestPlanPortal_PlansTheAccessPolicyAsStep4Would(t *testing.T) {
	h := newHarness(t)
	plan := func(server, mode string) (dcrflow.PlanItem, []string) {
		spec := dcrflow.PortalSpec{Key: "p", Portal: "payments", AuthServer: server, ClaimName: "client_id", DCRTokenName: "default",
			Scopes: []dcrflow.ScopeSpec{{Name: "p:read"}}, DCRProvider: "dcrflow-p", Strategy: dcrflow.StrategySpec{Name: "dcrflow-p", AuthMethods: []string{"bearer"}},
			AccessPolicy: mode}
		pp, err := call[dcrflow.PortalPlan](h, a.PlanPortal, spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range pp.Items {
			if it.Kind == dcrflow.KindAccessPolicy {
				return it, pp.Problems
			}
		}
		t.Fatalf("%s/%s: no access policy item in %+v", server, mode, pp.Items)
		return dcrflow.PlanItem{}, nil
	}
	if it, probs := plan("default", "check"); it.Action != dcrflow.PlanAdopt || it.Name != "Default Policy" || len(probs) != 0 {
		t.Errorf("default: %+v %v", it, probs)
	}
	if it, probs := plan("free-plan", "check"); it.Action != dcrflow.PlanMissing || len(probs) != 1 || !strings.Contains(probs[0], "access_policy: ensure") {
		t.Errorf("free plan, check: %+v %v", it, probs)
	}
	if it, probs := plan("free-plan", "ensure"); it.Action != dcrflow.PlanCreate || it.Name != "dcrflow-p" || len(probs) != 0 {
		t.Errorf("free plan, ensure: %+v %v", it, probs)
	}
	if n := len(h.policies(sbokta.NoPolicyServerID)); n != 0 {
		t.Errorf("the plan wrote %d policies", n)
	}
}

// Offboarding deletes only the portal's own policy; a policy it found is kept.
func TestOffboardAccessPolicy_DeletesOnlyThePortalsOwnPolicy(t *testing.T) {
	h := newHarness(t)
	server := sbokta.NoPolicyServerID
	pr, err := call[activities.PolicyResult](h, a.EnsureAccessPolicy, activities.PolicyInput{AuthServerID: server, Scopes: []string{"x:read"}, PortalKey: "p", Ensure: true})
	if err != nil {
		t.Fatal(err)
	}
	off := func(portal, name string, known activities.Known) dcrflow.Resource {
		r, err := call[dcrflow.Resource](h, a.OffboardAccessPolicy, activities.OffboardItemInput{PortalKey: portal, Name: name, AuthServerID: server, Known: known})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := off("q", "dcrflow-p", activities.Known{}); r.Action != dcrflow.ActionKept || !strings.Contains(r.Reason, "still used by portal(s) p") {
		t.Errorf("another portal's offboarding: %+v", r)
	}
	if r := off("p", "dcrflow-p", activities.Known{}); r.Action != dcrflow.ActionDeleted || r.ID != pr.Resource.ID {
		t.Errorf("own policy: %+v", r)
	}
	if r := off("p", "dcrflow-p", activities.Known{}); r.Action != dcrflow.ActionAbsent {
		t.Errorf("again: %+v", r)
	}
	def := h.policies("default")[0]
	h2 := activities.OffboardItemInput{PortalKey: "p", Name: def.Name, AuthServerID: "default", Known: activities.Known{Adopted: []string{def.ID}}}
	if r, err := call[dcrflow.Resource](h, a.OffboardAccessPolicy, h2); err != nil || r.Action != dcrflow.ActionKept {
		t.Errorf("adopted policy: %+v %v", r, err)
	}
	if n := len(h.policies("default")); n != 1 {
		t.Errorf("the default server has %d policies", n)
	}
}

// Once a policy covers the scopes, the policies after it are not read: two calls.
func TestEnsureAccessPolicy_StopsReadingAtTheCoveringPolicy(t *testing.T) {
	h := newHarness(t)
	if _, err := h.okta.CreatePolicy(context.Background(), "default", okta.Policy{Name: "later", Description: "a later policy", Clients: []string{okta.AllClients}}); err != nil {
		t.Fatal(err)
	}
	reqs := h.sb.Sandbox.Requests(0)
	since := reqs[len(reqs)-1].Seq
	if _, err := call[activities.PolicyResult](h, a.EnsureAccessPolicy, activities.PolicyInput{AuthServerID: "default", Scopes: []string{"x:read"}, PortalKey: "p"}); err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, q := range h.sb.Sandbox.Requests(since) {
		calls = append(calls, q.Method+" "+q.Path)
	}
	if len(calls) != 2 {
		t.Fatalf("calls = %v, want the policies and the first policy's rules", calls)
	}
}

// A rule restricted to a group does not cover client_credentials clients: the
// request has no user, so Okta (and the sandbox) never apply it; step 4 says so.
func TestEnsureAccessPolicy_GroupRestrictedRuleDoesNotCover(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	pol, err := h.okta.CreatePolicy(ctx, sbokta.NoPolicyServerID, okta.Policy{Name: "Admins only", Description: "Admins only", Status: okta.StatusActive,
		Type: okta.PolicyTypeOAuth, Clients: []string{okta.AllClients}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.okta.CreatePolicyRule(ctx, sbokta.NoPolicyServerID, pol.ID, okta.PolicyRule{Name: "admins", Status: okta.StatusActive,
		Type: okta.RuleTypeResource, GrantTypes: []string{"client_credentials"}, Scopes: []string{"*"}, Groups: []string{"00gAdmins0000000000"}}); err != nil {
		t.Fatal(err)
	}
	_, err = call[activities.PolicyResult](h, a.EnsureAccessPolicy, activities.PolicyInput{AuthServerID: sbokta.NoPolicyServerID,
		AuthServer: "free", Scopes: []string{"free:read"}, PortalKey: "p"})
	if typ, _ := errType(t, err); typ != dcrflow.ErrTypeAccessPolicy ||
		!strings.Contains(err.Error(), `rule "admins" applies only to groups [00gAdmins0000000000]`) ||
		!strings.Contains(err.Error(), "a client_credentials request has no user") {
		t.Fatalf("group-restricted rule: %v", err)
	}
	// The sandbox judges it the same way: a DCR client gets no token.
	if _, err := h.okta.CreateScope(ctx, sbokta.NoPolicyServerID, okta.Scope{Name: "free:read", Consent: okta.ConsentImplicit}); err != nil {
		t.Fatal(err)
	}
	cl, err := h.okta.RegisterClient(ctx, sbokta.DefaultDCRToken, okta.ClientRegistration{ClientName: "group-rule-probe",
		ApplicationType: "service", GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{"token"}, TokenEndpointAuthMethod: "client_secret_basic"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = h.okta.DeleteClient(ctx, sbokta.DefaultDCRToken, cl.ClientID) }()
	as, err := h.okta.GetAuthServer(ctx, sbokta.NoPolicyServerID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.okta.ClientCredentialsToken(ctx, as.Issuer, cl.ClientID, cl.ClientSecret, []string{"free:read"})
	var oe *okta.Error
	if !errors.As(err, &oe) || oe.Code != okta.CodeAccessDenied {
		t.Fatalf("token through a group-restricted rule: %v", err)
	}
}
