package okta

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
)

func TestAuthServers_GetAndFindByName(t *testing.T) {
	t.Parallel()
	h := start(t)
	as, err := h.c.GetAuthServer(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	if as.ID != "default" || as.Name != "default" || as.Issuer != h.env.OktaURL+"/oauth2/default" || as.Audiences[0] != "api://default" {
		t.Errorf("default server: %+v", as)
	}
	found, err := h.c.FindAuthServerByName(ctx(t), "partners")
	if err != nil || found == nil || found.ID != sbokta.PartnersServerID {
		t.Fatalf("find partners: %+v %v", found, err)
	}
	// q is a search: "part" matches partners, but only an exact name counts.
	if found, err := h.c.FindAuthServerByName(ctx(t), "part"); err != nil || found != nil {
		t.Errorf("find part: %+v %v", found, err)
	}
	_, err = h.c.GetAuthServer(ctx(t), "ausMissing")
	e := asErr(t, err)
	if !IsNotFound(err) || e.Code != CodeNotFound || e.Temporary() || e.RequestID == "" {
		t.Errorf("missing server: %+v", e)
	}
	noSecrets(t, err, mgmtToken)
}

func TestScopes_CreateFindListDelete(t *testing.T) {
	t.Parallel()
	h := start(t)
	created, err := h.c.CreateScope(ctx(t), "default", Scope{Name: "orders:read", Description: "Read orders",
		Consent: ConsentImplicit, MetadataPublish: PublishAllClients, Default: boolPtr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.Consent != ConsentImplicit || created.MetadataPublish != PublishAllClients ||
		created.Default == nil || *created.Default || created.System {
		t.Errorf("created %+v", created)
	}
	found, err := h.c.FindScope(ctx(t), "default", "orders:read")
	if err != nil || found == nil || found.ID != created.ID {
		t.Fatalf("find: %+v %v", found, err)
	}
	if found, err := h.c.FindScope(ctx(t), "default", "orders"); err != nil || found != nil {
		t.Errorf("find by prefix: %+v %v", found, err)
	}
	all, err := h.c.ListScopes(ctx(t), "default")
	if err != nil || len(all) != 7 || !all[0].System || all[0].Name != "openid" {
		t.Fatalf("list: %d %v", len(all), err)
	}
	if err := h.c.DeleteScope(ctx(t), "default", created.ID); err != nil {
		t.Fatal(err)
	}
	if found, err := h.c.FindScope(ctx(t), "default", "orders:read"); err != nil || found != nil {
		t.Errorf("after delete: %+v %v", found, err)
	}
	err = h.c.DeleteScope(ctx(t), "default", created.ID)
	if !IsNotFound(err) {
		t.Errorf("second delete: %v", err)
	}
}

func TestScopes_DuplicateNameIsDuplicate(t *testing.T) {
	t.Parallel()
	h := start(t)
	if _, err := h.c.CreateScope(ctx(t), "default", Scope{Name: "dup"}); err != nil {
		t.Fatal(err)
	}
	_, err := h.c.CreateScope(ctx(t), "default", Scope{Name: "dup"})
	e := asErr(t, err)
	if !IsDuplicate(err) || e.StatusCode != 400 || e.Code != CodeValidation || len(e.Causes) != 1 || e.Temporary() {
		t.Errorf("duplicate: %+v", e)
	}
	noSecrets(t, err, mgmtToken)
	// Other refusals are not duplicates. An unknown consent breaks the spec's enum on
	// purpose, so this one request goes out unchecked.
	_, err = h.client(mgmtToken, &http.Client{Timeout: 30 * time.Second}).CreateScope(ctx(t), "default", Scope{Name: "fresh", Consent: "SOMETIMES"})
	if IsDuplicate(err) || asErr(t, err).Code != CodeMalformed {
		t.Errorf("bad consent: %v", err)
	}
}

func TestScopes_ListFollowsPagesBeyond200(t *testing.T) {
	t.Parallel()
	h := start(t)
	for i := range 250 {
		if _, err := h.c.CreateScope(ctx(t), sbokta.PartnersServerID, Scope{Name: fmt.Sprintf("bulk:%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := h.c.ListScopes(ctx(t), sbokta.PartnersServerID)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 6+3+250 {
		t.Fatalf("%d scopes", len(all))
	}
	ids := map[string]bool{}
	for _, s := range all {
		ids[s.ID] = true
	}
	if len(ids) != len(all) || !slices.ContainsFunc(all, func(s Scope) bool { return s.Name == "bulk:249" }) {
		t.Error("pages overlap or miss scopes")
	}
	if pages := h.observed("ListScopes"); len(pages) != 2 {
		t.Errorf("%d pages fetched, want 2", len(pages))
	}
	found, err := h.c.FindScope(ctx(t), sbokta.PartnersServerID, "bulk:249")
	if err != nil || found == nil {
		t.Errorf("find on the second page: %+v %v", found, err)
	}
}

func TestClaims_CreateFindDuplicateDelete(t *testing.T) {
	t.Parallel()
	h := start(t)
	want := Claim{Name: "client_id", Status: StatusActive, ClaimType: ClaimTypeResource, ValueType: ValueTypeExpression,
		Value: "app.clientId", AlwaysIncludeInToken: boolPtr(true)}
	created, err := h.c.CreateClaim(ctx(t), "default", want)
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.Value != "app.clientId" || len(created.Scopes) != 0 || *created.AlwaysIncludeInToken != true {
		t.Errorf("created %+v", created)
	}
	if got, err := h.c.FindClaim(ctx(t), "default", "client_id", ClaimTypeResource); err != nil || got == nil || got.ID != created.ID {
		t.Errorf("find RESOURCE: %+v %v", got, err)
	}
	if got, err := h.c.FindClaim(ctx(t), "default", "client_id", ClaimTypeIdentity); err != nil || got != nil {
		t.Errorf("find IDENTITY: %+v %v", got, err)
	}
	all, err := h.c.ListClaims(ctx(t), "default")
	if err != nil || len(all) != 2 || all[0].Name != "sub" || !all[0].System {
		t.Errorf("list: %+v %v", all, err)
	}
	_, err = h.c.CreateClaim(ctx(t), "default", want)
	if !IsDuplicate(err) {
		t.Errorf("duplicate: %v", err)
	}
	if err := h.c.DeleteClaim(ctx(t), "default", created.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.c.DeleteClaim(ctx(t), "default", created.ID); !IsNotFound(err) {
		t.Errorf("second delete: %v", err)
	}
}

func TestPolicies_ListPoliciesAndRules(t *testing.T) {
	t.Parallel()
	h := start(t)
	pols, err := h.c.ListPolicies(ctx(t), "default")
	if err != nil || len(pols) != 1 {
		t.Fatalf("policies: %+v %v", pols, err)
	}
	p := pols[0]
	if p.Name != "Default Policy" || p.Status != StatusActive || p.Priority != 1 || !slices.Equal(p.Clients, []string{"ALL_CLIENTS"}) {
		t.Errorf("policy %+v", p)
	}
	rules, err := h.c.ListPolicyRules(ctx(t), "default", p.ID)
	if err != nil || len(rules) != 1 {
		t.Fatalf("rules: %+v %v", rules, err)
	}
	r := rules[0]
	if !slices.Contains(r.GrantTypes, "client_credentials") || !slices.Equal(r.Scopes, []string{"*"}) ||
		r.AccessTokenLifetime != time.Hour || !slices.Equal(r.Groups, []string{"EVERYONE"}) {
		t.Errorf("rule %+v", r)
	}
	if pols, err := h.c.ListPolicies(ctx(t), sbokta.NoPolicyServerID); err != nil || len(pols) != 0 {
		t.Errorf("free plan: %+v %v", pols, err)
	}
	if _, err := h.c.ListPolicyRules(ctx(t), "default", "00pMissing"); !IsNotFound(err) {
		t.Errorf("unknown policy: %v", err)
	}
}

func TestPolicies_CreateRuleGrantsTokensDeleteRevokes(t *testing.T) {
	t.Parallel()
	h := start(t)
	srv := sbokta.NoPolicyServerID
	if _, err := h.c.CreateScope(ctx(t), srv, Scope{Name: "free:read"}); err != nil {
		t.Fatal(err)
	}
	rc, err := h.c.RegisterClient(ctx(t), dcrToken, serviceClient())
	if err != nil {
		t.Fatal(err)
	}
	issuer := h.env.OktaURL + "/oauth2/" + srv
	if _, err := h.c.ClientCredentialsToken(ctx(t), issuer, rc.ClientID, rc.ClientSecret, []string{"free:read"}); asErr(t, err).Code != CodeAccessDenied {
		t.Fatalf("before the policy: %v", err)
	}

	p, err := h.c.CreatePolicy(ctx(t), srv, Policy{Name: "dcrflow", Description: "DCR clients", Clients: []string{AllClients}, Priority: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.ID == "" || p.Type != PolicyTypeOAuth || p.Status != StatusActive || p.Priority != 1 || p.System ||
		!slices.Equal(p.Clients, []string{AllClients}) || p.Name != "dcrflow" || p.Description != "DCR clients" {
		t.Errorf("policy %+v", p)
	}
	r, err := h.c.CreatePolicyRule(ctx(t), srv, p.ID, PolicyRule{Name: "client credentials",
		GrantTypes: []string{"client_credentials"}, Scopes: []string{"free:read"}, AccessTokenLifetime: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == "" || r.Type != RuleTypeResource || r.Status != StatusActive || r.Priority != 1 ||
		!slices.Equal(r.Groups, []string{GroupEveryone}) || !slices.Equal(r.Scopes, []string{"free:read"}) ||
		r.AccessTokenLifetime != 15*time.Minute {
		t.Errorf("rule %+v", r)
	}
	if rules, err := h.c.ListPolicyRules(ctx(t), srv, p.ID); err != nil || len(rules) != 1 || rules[0].ID != r.ID {
		t.Errorf("rules: %+v %v", rules, err)
	}
	tok, err := h.c.ClientCredentialsToken(ctx(t), issuer, rc.ClientID, rc.ClientSecret, []string{"free:read"})
	if err != nil || tok.ExpiresIn != 15*time.Minute {
		t.Fatalf("token under the new policy: %v %v", tok, err)
	}

	_, err = h.c.CreatePolicy(ctx(t), srv, Policy{Name: "dcrflow", Description: "again", Clients: []string{AllClients}})
	if !IsDuplicate(err) {
		t.Errorf("duplicate policy: %v", err)
	}
	_, err = h.c.CreatePolicyRule(ctx(t), srv, p.ID, PolicyRule{Name: "bad", GrantTypes: []string{"client_credentials"}, Scopes: []string{"nope"}})
	if e := asErr(t, err); e.StatusCode != http.StatusBadRequest || e.Code != CodeValidation || e.Temporary() {
		t.Errorf("rule with an unknown scope: %+v", e)
	}

	if err := h.c.DeletePolicy(ctx(t), srv, p.ID); err != nil {
		t.Fatal(err)
	}
	if pols, err := h.c.ListPolicies(ctx(t), srv); err != nil || len(pols) != 0 {
		t.Errorf("after delete: %+v %v", pols, err)
	}
	if _, err := h.c.ClientCredentialsToken(ctx(t), issuer, rc.ClientID, rc.ClientSecret, []string{"free:read"}); asErr(t, err).Code != CodeAccessDenied {
		t.Errorf("token after the policy is gone: %v", err)
	}
	if err := h.c.DeletePolicy(ctx(t), srv, p.ID); !IsNotFound(err) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := h.c.CreatePolicyRule(ctx(t), srv, p.ID, PolicyRule{Name: "x", GrantTypes: []string{"client_credentials"}, Scopes: []string{"*"}}); !IsNotFound(err) {
		t.Errorf("rule in a deleted policy: %v", err)
	}
}

func TestCalls_RefuseEmptyArguments(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := ctx(t)
	for name, call := range map[string]func() error{
		"GetAuthServer":   func() error { _, err := h.c.GetAuthServer(c, ""); return err },
		"ListScopes":      func() error { _, err := h.c.ListScopes(c, ""); return err },
		"DeleteScope":     func() error { return h.c.DeleteScope(c, "default", "") },
		"CreateClaim":     func() error { _, err := h.c.CreateClaim(c, "default", Claim{}); return err },
		"ListPolicyRules": func() error { _, err := h.c.ListPolicyRules(c, "default", ""); return err },
		"CreatePolicy":    func() error { _, err := h.c.CreatePolicy(c, "default", Policy{Name: "p"}); return err },
		"CreatePolicyRule": func() error {
			_, err := h.c.CreatePolicyRule(c, "default", "00p", PolicyRule{Name: "r", GrantTypes: []string{"client_credentials"}})
			return err
		},
		"CreatePolicyRule lifetime": func() error {
			_, err := h.c.CreatePolicyRule(c, "default", "00p", PolicyRule{Name: "r", GrantTypes: []string{"client_credentials"},
				Scopes: []string{"*"}, AccessTokenLifetime: 90 * time.Second})
			return err
		},
		"DeletePolicy": func() error { return h.c.DeletePolicy(c, "", "00p") },
		"GetClient":    func() error { _, err := h.c.GetClient(c, dcrToken, ""); return err },
		"DeleteClient": func() error { return h.c.DeleteClient(c, dcrToken, "") },
		"Token": func() error {
			_, err := h.c.ClientCredentialsToken(c, "http://example.com/oauth2/x", "a", "b", nil)
			return err
		},
	} {
		err := call()
		if !errors.Is(err, ErrInvalidArgument) || asErr(t, err).Temporary() {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(h.env.Sandbox.Requests(0)) != 0 {
		t.Error("a refused call reached the sandbox")
	}
}
