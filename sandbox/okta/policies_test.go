package okta

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
)

func TestPolicies_DefaultServerAllowsClientCredentials(t *testing.T) {
	t.Parallel()
	h := start(t)
	r := h.mgmtCall(http.MethodGet, "/api/v1/authorizationServers/default/policies", nil)
	var pols []policyJSON
	r.decode(t, &pols)
	if r.status != http.StatusOK || len(pols) != 1 {
		t.Fatalf("policies: %d %s", r.status, r.body)
	}
	p := pols[0]
	if p.Name != "Default Policy" || p.Type != "OAUTH_AUTHORIZATION_POLICY" || p.Conditions.Clients.Include[0] != "ALL_CLIENTS" ||
		p.Links.Rules.Href != h.url+"/api/v1/authorizationServers/default/policies/"+p.ID+"/rules" {
		t.Errorf("policy: %+v", p)
	}
	r = h.mgmtCall(http.MethodGet, "/api/v1/authorizationServers/default/policies/"+p.ID+"/rules", nil)
	var rules []ruleJSON
	r.decode(t, &rules)
	if len(rules) != 1 || rules[0].Type != "RESOURCE_ACCESS" || rules[0].Conditions.Scopes.Include[0] != "*" ||
		rules[0].Actions.Token.AccessTokenLifetimeMinutes != 60 {
		t.Fatalf("rules: %+v", rules)
	}
	if r := h.mgmtCall(http.MethodGet, "/api/v1/authorizationServers/default/policies/"+p.ID+"/rules/"+rules[0].ID, nil); r.status != http.StatusOK {
		t.Errorf("get rule: %d", r.status)
	}
	r = h.mgmtCall(http.MethodGet, "/api/v1/authorizationServers/"+NoPolicyServerID+"/policies", nil)
	if r.status != http.StatusOK || string(r.body) != "[]\n" {
		t.Errorf("free-plan server policies: %d %s", r.status, r.body)
	}
}

func TestPolicies_CreatePolicyAndRule(t *testing.T) {
	t.Parallel()
	h := start(t)
	base := "/api/v1/authorizationServers/" + NoPolicyServerID + "/policies"
	r := h.mgmtCall(http.MethodPost, base, map[string]any{"type": "OAUTH_AUTHORIZATION_POLICY", "status": "ACTIVE",
		"name": "Machines", "description": "Service clients", "priority": 1,
		"conditions": map[string]any{"clients": map[string]any{"include": []string{"ALL_CLIENTS"}}}})
	if r.status != http.StatusCreated {
		t.Fatalf("create policy: %d %s", r.status, r.body)
	}
	var p policyJSON
	r.decode(t, &p)
	rule := map[string]any{"type": "RESOURCE_ACCESS", "name": "cc", "priority": 1,
		"conditions": map[string]any{"grantTypes": map[string]any{"include": []string{"client_credentials"}},
			"scopes": map[string]any{"include": []string{"*"}}},
		"actions": map[string]any{"token": map[string]any{"accessTokenLifetimeMinutes": 15}}}
	r = h.mgmtCall(http.MethodPost, base+"/"+p.ID+"/rules", rule)
	if r.status != http.StatusCreated {
		t.Fatalf("create rule: %d %s", r.status, r.body)
	}
	var got ruleJSON
	r.decode(t, &got)
	if got.Conditions.People.Groups.Include[0] != "EVERYONE" || got.Actions.Token.AccessTokenLifetimeMinutes != 15 {
		t.Errorf("rule defaults: %+v", got)
	}
	// A user grant type needs people; a user-less rule is refused with Okta's words.
	rule["conditions"].(map[string]any)["grantTypes"] = map[string]any{"include": []string{"authorization_code"}}
	rule["name"] = "user flow"
	r = h.mgmtCall(http.MethodPost, base+"/"+p.ID+"/rules", rule)
	if r.status != http.StatusBadRequest || r.oktaErr(t).ErrorSummary != "Api validation failed: conditions.people" {
		t.Errorf("rule without people: %d %s", r.status, r.body)
	}
	r = h.offSpec().mgmtCall(http.MethodPost, base, map[string]any{"name": "no description",
		"conditions": map[string]any{"clients": map[string]any{"include": []string{"ALL_CLIENTS"}}}})
	if r.status != http.StatusBadRequest || r.oktaErr(t).ErrorSummary != "Api validation failed: description" {
		t.Errorf("policy without description: %d %s", r.status, r.body)
	}
	if r := h.mgmtCall(http.MethodGet, base+"/00pNope/rules", nil); r.status != http.StatusNotFound {
		t.Errorf("rules of unknown policy: %d", r.status)
	}
}

// policyBody is a create/replace body for an ALL_CLIENTS (or the given clients) policy.
func policyBody(name string, priority int, clients ...string) map[string]any {
	if len(clients) == 0 {
		clients = []string{"ALL_CLIENTS"}
	}
	b := map[string]any{"type": "OAUTH_AUTHORIZATION_POLICY", "name": name, "description": name + " policy",
		"conditions": map[string]any{"clients": map[string]any{"include": clients}}}
	if priority > 0 {
		b["priority"] = priority
	}
	return b
}

// ruleBody is a client_credentials rule body for scopes with a token lifetime.
func ruleBody(name string, priority, minutes int, scopes ...string) map[string]any {
	b := map[string]any{"type": "RESOURCE_ACCESS", "name": name,
		"conditions": map[string]any{"grantTypes": map[string]any{"include": []string{"client_credentials"}},
			"scopes": map[string]any{"include": scopes}},
		"actions": map[string]any{"token": map[string]any{"accessTokenLifetimeMinutes": minutes}}}
	if priority > 0 {
		b["priority"] = priority
	}
	return b
}

func (h *harness) createPolicy(server string, body map[string]any) policyJSON {
	h.t.Helper()
	r := h.mgmtCall(http.MethodPost, "/api/v1/authorizationServers/"+server+"/policies", body)
	if r.status != http.StatusCreated {
		h.t.Fatalf("create policy: %d %s", r.status, r.body)
	}
	var p policyJSON
	r.decode(h.t, &p)
	return p
}

func (h *harness) createRule(server, policyID string, body map[string]any) ruleJSON {
	h.t.Helper()
	r := h.mgmtCall(http.MethodPost, "/api/v1/authorizationServers/"+server+"/policies/"+policyID+"/rules", body)
	if r.status != http.StatusCreated {
		h.t.Fatalf("create rule: %d %s", r.status, r.body)
	}
	var ru ruleJSON
	r.decode(h.t, &ru)
	return ru
}

// policyOrder lists the server's policies as name=priority, in list order.
func (h *harness) policyOrder(server string) []string {
	h.t.Helper()
	var pols []policyJSON
	h.mgmtCall(http.MethodGet, "/api/v1/authorizationServers/"+server+"/policies", nil).decode(h.t, &pols)
	out := []string{}
	for _, p := range pols {
		out = append(out, p.Name+"="+strconv.Itoa(p.Priority))
	}
	return out
}

func TestPolicies_PrioritiesStayContiguous(t *testing.T) {
	t.Parallel()
	h := start(t)
	srv := NoPolicyServerID
	a := h.createPolicy(srv, policyBody("A", 0))
	h.createPolicy(srv, policyBody("B", 0))
	c := h.createPolicy(srv, policyBody("C", 1)) // goes first, pushing A and B down
	if c.Priority != 1 || !slices.Equal(h.policyOrder(srv), []string{"C=1", "A=2", "B=3"}) {
		t.Fatalf("after create at 1: %v (C %d)", h.policyOrder(srv), c.Priority)
	}
	if p := h.createPolicy(srv, policyBody("D", 99)); p.Priority != 4 {
		t.Errorf("priority beyond the end: %d, want 4", p.Priority)
	}
	base := "/api/v1/authorizationServers/" + srv + "/policies/"
	r := h.mgmtCall(http.MethodPut, base+a.ID, policyBody("A2", 1))
	var got policyJSON
	r.decode(t, &got)
	if r.status != http.StatusOK || got.Name != "A2" || got.Priority != 1 || got.ID != a.ID || got.Created != a.Created {
		t.Fatalf("replace: %d %s", r.status, r.body)
	}
	if !slices.Equal(h.policyOrder(srv), []string{"A2=1", "C=2", "B=3", "D=4"}) {
		t.Errorf("after move: %v", h.policyOrder(srv))
	}
	if r := h.mgmtCall(http.MethodDelete, base+c.ID, nil); r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if !slices.Equal(h.policyOrder(srv), []string{"A2=1", "B=2", "D=3"}) {
		t.Errorf("after delete: %v", h.policyOrder(srv))
	}
}

func TestPolicies_ReplaceDeleteAndLifecycle(t *testing.T) {
	t.Parallel()
	h := start(t)
	srv := NoPolicyServerID
	h.createScope(srv, map[string]any{"name": "free:read"})
	h.createScope(srv, map[string]any{"name": "free:write"})
	pol := h.createPolicy(srv, policyBody("Machines", 0))
	other := h.createPolicy(srv, policyBody("Other", 0))
	base := "/api/v1/authorizationServers/" + srv + "/policies/" + pol.ID
	r1 := h.createRule(srv, pol.ID, ruleBody("read", 0, 15, "free:read"))
	r2 := h.createRule(srv, pol.ID, ruleBody("write", 1, 15, "free:write"))
	if r2.Priority != 1 {
		t.Errorf("rule created at 1 has priority %d", r2.Priority)
	}

	// A duplicate name is refused on replace as on create; the policy's own name is not.
	r := h.mgmtCall(http.MethodPut, base, policyBody("Other", 0))
	if r.status != http.StatusBadRequest || r.oktaErr(t).ErrorSummary != "Api validation failed: name" {
		t.Errorf("rename onto another: %d %s", r.status, r.body)
	}
	body := policyBody("Machines", 0)
	body["status"] = "INACTIVE"
	if r := h.mgmtCall(http.MethodPut, base, body); r.status != http.StatusOK {
		t.Fatalf("replace: %d %s", r.status, r.body)
	}
	var got policyJSON
	h.mgmtCall(http.MethodGet, base, nil).decode(t, &got)
	if got.Status != "INACTIVE" || got.Links.Activate == nil || got.Links.Deactivate != nil {
		t.Errorf("after replace: %+v", got)
	}
	if r := h.mgmtCall(http.MethodPost, base+"/lifecycle/activate", nil); r.status != http.StatusNoContent {
		t.Fatalf("activate: %d %s", r.status, r.body)
	}
	h.mgmtCall(http.MethodGet, base, nil).decode(t, &got)
	if got.Status != "ACTIVE" || got.Links.Deactivate == nil {
		t.Errorf("after activate: %+v", got)
	}

	// Rules: replace keeps id and priority, lifecycle, delete.
	rb := ruleBody("read", 0, 20, "free:read", "free:write")
	r = h.mgmtCall(http.MethodPut, base+"/rules/"+r1.ID, rb)
	var ru ruleJSON
	r.decode(t, &ru)
	if r.status != http.StatusOK || ru.ID != r1.ID || ru.Priority != 2 || len(ru.Conditions.Scopes.Include) != 2 ||
		ru.Actions.Token.AccessTokenLifetimeMinutes != 20 || ru.Created != r1.Created {
		t.Errorf("replace rule: %d %s", r.status, r.body)
	}
	rb["conditions"].(map[string]any)["scopes"] = map[string]any{"include": []string{"free:nope"}}
	if r := h.mgmtCall(http.MethodPut, base+"/rules/"+r1.ID, rb); r.status != http.StatusBadRequest {
		t.Errorf("replace rule with an unknown scope: %d %s", r.status, r.body)
	}
	if r := h.mgmtCall(http.MethodPost, base+"/rules/"+r1.ID+"/lifecycle/deactivate", nil); r.status != http.StatusNoContent {
		t.Errorf("deactivate rule: %d", r.status)
	}
	h.mgmtCall(http.MethodGet, base+"/rules/"+r1.ID, nil).decode(t, &ru)
	if ru.Status != "INACTIVE" {
		t.Errorf("rule status %s", ru.Status)
	}
	if r := h.mgmtCall(http.MethodDelete, base+"/rules/"+r2.ID, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete rule: %d %s", r.status, r.body)
	}
	r = h.mgmtCall(http.MethodGet, base+"/rules/"+r2.ID, nil)
	if r.status != http.StatusNotFound || r.oktaErr(t).ErrorSummary != "Not found: Resource not found: "+r2.ID+" (PolicyRule)" {
		t.Errorf("deleted rule: %d %s", r.status, r.body)
	}
	h.mgmtCall(http.MethodGet, base+"/rules/"+r1.ID, nil).decode(t, &ru)
	if ru.Priority != 1 {
		t.Errorf("remaining rule priority %d, want 1", ru.Priority)
	}

	// Deleting the policy deletes its rules; a second delete is Okta's 404.
	if r := h.mgmtCall(http.MethodDelete, base, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete policy: %d %s", r.status, r.body)
	}
	for _, path := range []string{base, base + "/rules", base + "/rules/" + r1.ID} {
		r := h.mgmtCall(http.MethodGet, path, nil)
		if r.status != http.StatusNotFound || r.oktaErr(t).ErrorCode != "E0000007" ||
			r.oktaErr(t).ErrorSummary != "Not found: Resource not found: "+pol.ID+" (Policy)" {
			t.Errorf("GET %s after delete: %d %s", path, r.status, r.body)
		}
	}
	if r := h.mgmtCall(http.MethodDelete, base, nil); r.status != http.StatusNotFound {
		t.Errorf("second delete: %d", r.status)
	}
	st := h.em.Snapshot().AuthorizationServers[2]
	if len(st.Policies) != 1 || st.Policies[0].ID != other.ID || st.Policies[0].Priority != 1 {
		t.Errorf("state: %+v", st.Policies)
	}
	if r := h.mgmtCall(http.MethodDelete, "/api/v1/authorizationServers/ausNope/policies/"+other.ID, nil); r.status != http.StatusNotFound ||
		r.oktaErr(t).ErrorSummary != "Not found: Resource not found: ausNope (AuthorizationServer)" {
		t.Errorf("unknown server: %d %s", r.status, r.body)
	}
}

func TestPolicies_SystemRulesAndPoliciesCannotBeDeleted(t *testing.T) {
	t.Parallel()
	seed := DefaultSeed()
	seed.AuthorizationServers[0].Policies[0].System = true
	seed.AuthorizationServers[0].Policies[0].Rules[0].System = true
	h := startSeed(t, seed)
	var pols []policyJSON
	h.mgmtCall(http.MethodGet, "/api/v1/authorizationServers/default/policies", nil).decode(t, &pols)
	base := "/api/v1/authorizationServers/default/policies/" + pols[0].ID
	var rules []ruleJSON
	h.mgmtCall(http.MethodGet, base+"/rules", nil).decode(t, &rules)
	if !pols[0].System || !rules[0].System || slices.Contains(rules[0].Links.Self.Hints.Allow, "DELETE") {
		t.Fatalf("system flags: %+v %+v", pols[0], rules[0])
	}
	for _, path := range []string{base + "/rules/" + rules[0].ID, base} {
		r := h.mgmtCall(http.MethodDelete, path, nil)
		if r.status != http.StatusForbidden || r.oktaErr(t).ErrorCode != "E0000006" {
			t.Errorf("DELETE %s: %d %s", path, r.status, r.body)
		}
	}
	// A custom rule of a system policy can go.
	h.createScope("default", map[string]any{"name": "x"})
	ru := h.createRule("default", pols[0].ID, ruleBody("custom", 0, 10, "x"))
	if r := h.mgmtCall(http.MethodDelete, base+"/rules/"+ru.ID, nil); r.status != http.StatusNoContent {
		t.Errorf("custom rule: %d %s", r.status, r.body)
	}
}

// TestToken_PolicyEvaluation checks Okta's evaluation: active policies covering the
// client, by priority; in each, active rules by priority; the first rule whose grant
// types and scopes match decides (its token lifetime shows which one it was); a
// policy without a matching rule hands over to the next; none is access_denied.
func TestToken_PolicyEvaluation(t *testing.T) {
	t.Parallel()
	h := start(t)
	srv := NoPolicyServerID
	h.createScope(srv, map[string]any{"name": "free:read"})
	h.createScope(srv, map[string]any{"name": "free:write"})
	id, secret := h.register("svc")
	base := "/api/v1/authorizationServers/" + srv + "/policies/"
	lifetime := func(scope string) int {
		t.Helper()
		r := h.tokenCall(srv, ccForm(scope), id, secret)
		if r.status == http.StatusUnauthorized {
			if e := r.oauthErr(t); e.Error != "access_denied" ||
				e.Description != "Policy evaluation failed for this request, please check the policy configurations." {
				t.Fatalf("refusal: %s", r.body)
			}
			return 0
		}
		if r.status != http.StatusOK {
			t.Fatalf("token: %d %s", r.status, r.body)
		}
		var tok tokenResponse
		r.decode(t, &tok)
		return tok.ExpiresIn / 60
	}

	all := h.createPolicy(srv, policyBody("everyone", 0))
	h.createRule(srv, all.ID, ruleBody("read", 0, 30, "free:read"))
	if got := lifetime("free:read"); got != 30 {
		t.Fatalf("ALL_CLIENTS policy: %d min", got)
	}
	if got := lifetime("free:read free:write"); got != 0 {
		t.Errorf("a rule must cover every requested scope: %d min", got)
	}
	// A policy for another client is passed over, whatever its priority.
	h.createRule(srv, h.createPolicy(srv, policyBody("others", 1, "0oaSomeoneElse")).ID, ruleBody("any", 0, 5, "*"))
	if got := lifetime("free:read"); got != 30 {
		t.Errorf("policy of another client applied: %d min", got)
	}
	// A policy naming this client at priority 1 decides first.
	mine := h.createPolicy(srv, policyBody("mine", 1, id))
	wild := h.createRule(srv, mine.ID, ruleBody("wild", 0, 10, "*"))
	narrow := h.createRule(srv, mine.ID, ruleBody("narrow", 1, 15, "free:read"))
	if got := lifetime("free:read"); got != 15 {
		t.Errorf("rule priority: %d min, want the priority-1 rule's 15", got)
	}
	if got := lifetime("free:write"); got != 10 {
		t.Errorf("second rule: %d min, want 10", got)
	}
	// An inactive rule is skipped; one that matches no grant type too.
	h.mgmtCall(http.MethodPost, base+mine.ID+"/rules/"+narrow.ID+"/lifecycle/deactivate", nil)
	if got := lifetime("free:read"); got != 10 {
		t.Errorf("inactive rule applied: %d min", got)
	}
	authCode := ruleBody("wild", 0, 10, "*")
	authCode["conditions"].(map[string]any)["grantTypes"] = map[string]any{"include": []string{"implicit"}}
	authCode["conditions"].(map[string]any)["people"] = map[string]any{"groups": map[string]any{"include": []string{"EVERYONE"}}}
	if r := h.mgmtCall(http.MethodPut, base+mine.ID+"/rules/"+wild.ID, authCode); r.status != http.StatusOK {
		t.Fatalf("replace rule: %d %s", r.status, r.body)
	}
	if got := lifetime("free:read"); got != 30 {
		t.Errorf("no rule of the first policy matches: %d min, want the next policy's 30", got)
	}
	// An inactive policy is skipped.
	h.mgmtCall(http.MethodPost, base+mine.ID+"/rules/"+narrow.ID+"/lifecycle/activate", nil)
	if got := lifetime("free:read"); got != 15 {
		t.Fatalf("reactivated rule: %d min", got)
	}
	h.mgmtCall(http.MethodPost, base+mine.ID+"/lifecycle/deactivate", nil)
	if got := lifetime("free:read"); got != 30 {
		t.Errorf("inactive policy applied: %d min", got)
	}
	// Without the ALL_CLIENTS policy nothing is left.
	if r := h.mgmtCall(http.MethodDelete, base+all.ID, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.status)
	}
	if got := lifetime("free:read"); got != 0 {
		t.Errorf("token after the only matching policy was deleted: %d min", got)
	}
}
