package okta

import (
	"net/http"
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
