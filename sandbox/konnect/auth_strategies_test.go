package konnect

import (
	"net/http"
	"strings"
	"testing"
)

func oidcStrategy(name, providerID string) map[string]any {
	b := map[string]any{
		"name": name, "display_name": "Display " + name, "strategy_type": "openid_connect",
		"configs": map[string]any{"openid-connect": map[string]any{
			"issuer":           "https://example.okta.com/oauth2/default",
			"credential_claim": []string{"client_id"},
			"scopes":           []string{"payments:read", "payments:write"},
			"auth_methods":     []string{"client_credentials", "bearer"},
			"audience":         []string{"api://payments"}, // additional properties are allowed
		}},
		"labels": map[string]any{"owner": "team-a"},
	}
	if providerID != "" {
		b["dcr_provider_id"] = providerID
	}
	return b
}

func createStrategy(t *testing.T, h *harness, name, providerID string) AuthStrategy {
	t.Helper()
	a := h.call("POST", "/v2/application-auth-strategies", oidcStrategy(name, providerID))
	want(t, a, http.StatusCreated)
	var s AuthStrategy
	a.decode(t, &s)
	return s
}

func TestAuthStrategies_CreateGet(t *testing.T) {
	t.Parallel()
	h := start(t)
	p := createProvider(t, h, "okta-main")
	s := createStrategy(t, h, "dcr", p.ID)
	if !isUUID(s.ID) || s.StrategyType != "openid_connect" || s.Active || s.Labels["owner"] != "team-a" ||
		s.DCRProvider == nil || s.DCRProvider.ID != p.ID || s.DCRProvider.Name != "okta-main" || s.DCRProvider.ProviderType != "okta" {
		t.Fatalf("created %+v", s)
	}
	oidc := s.Configs["openid-connect"].(map[string]any)
	if oidc["issuer"] != "https://example.okta.com/oauth2/default" || oidc["audience"] == nil {
		t.Fatalf("configs %v", s.Configs)
	}
	var got AuthStrategy
	a := h.call("GET", "/v2/application-auth-strategies/"+s.ID, nil)
	want(t, a, http.StatusOK)
	a.decode(t, &got)
	if got.ID != s.ID || got.DCRProvider == nil || got.DisplayName != "Display dcr" {
		t.Fatalf("get %+v", got)
	}
	// The nested provider follows a rename.
	want(t, h.call("PATCH", "/v2/dcr-providers/"+p.ID, map[string]any{"name": "okta-renamed"}), http.StatusOK)
	h.call("GET", "/v2/application-auth-strategies/"+s.ID, nil).decode(t, &got)
	if got.DCRProvider.Name != "okta-renamed" {
		t.Fatalf("nested provider name %q", got.DCRProvider.Name)
	}
	want(t, h.call("GET", "/v2/application-auth-strategies/"+newUUID(), nil), http.StatusNotFound)
}

func TestAuthStrategies_WithoutProviderAndKeyAuth(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := createStrategy(t, h, "plain-oidc", "")
	if s.DCRProvider != nil {
		t.Fatalf("dcr_provider %+v, want null", s.DCRProvider)
	}
	a := h.call("POST", "/v2/application-auth-strategies", map[string]any{
		"name": "keys", "display_name": "API keys", "strategy_type": "key_auth",
		"configs": map[string]any{"key-auth": map[string]any{"key_names": []string{"apikey"}}},
	})
	want(t, a, http.StatusCreated)
	var k AuthStrategy
	a.decode(t, &k)
	if k.StrategyType != "key_auth" || !k.SupportsMultipleCredentials {
		t.Fatalf("key auth %+v", k)
	}
}

func TestAuthStrategies_CreateValidation(t *testing.T) {
	t.Parallel()
	h := start(t)
	oidc := func(b map[string]any) map[string]any {
		return b["configs"].(map[string]any)["openid-connect"].(map[string]any)
	}
	tests := []struct {
		name   string
		change func(map[string]any)
		field  string
		rule   string
	}{
		{"missing name", func(b map[string]any) { delete(b, "name") }, "name", "required"},
		{"missing display_name", func(b map[string]any) { delete(b, "display_name") }, "display_name", "required"},
		{"bad strategy_type", func(b map[string]any) { b["strategy_type"] = "basic" }, "strategy_type", "enum"},
		{"missing configs", func(b map[string]any) { delete(b, "configs") }, "configs", "required"},
		{"wrong configs key", func(b map[string]any) { b["configs"] = map[string]any{"openid_connect": map[string]any{}} }, "configs.openid_connect", "unknown_property"},
		{"missing issuer", func(b map[string]any) { delete(oidc(b), "issuer") }, "configs.openid-connect.issuer", "required"},
		{"missing scopes", func(b map[string]any) { delete(oidc(b), "scopes") }, "configs.openid-connect.scopes", "required"},
		{"scopes not an array", func(b map[string]any) { oidc(b)["scopes"] = "read" }, "configs.openid-connect.scopes", "is_array"},
		{"too many claims", func(b map[string]any) { oidc(b)["credential_claim"] = make([]string, 11) }, "configs.openid-connect.credential_claim", "max_items"},
		{"bad provider id", func(b map[string]any) { b["dcr_provider_id"] = "nope" }, "dcr_provider_id", "is_uuid"},
		{"unknown provider", func(b map[string]any) { b["dcr_provider_id"] = newUUID() }, "dcr_provider_id", "missing_reference"},
		{"unknown property", func(b map[string]any) { b["colour"] = 1 }, "colour", "unknown_property"},
		{"bad label", func(b map[string]any) { b["labels"] = map[string]any{"_x": "y"} }, "labels._x", "is_label"},
		// Konnect checks the extra OIDC fields against the plugin's schema (terraform-provider-konnect#193).
		{"unknown oidc field", func(b map[string]any) { oidc(b)["labels"] = map[string]any{"a": "b"} }, "configs.openid-connect.labels", "invalid"},
		{"misspelt oidc field", func(b map[string]any) { oidc(b)["scope"] = "x" }, "configs.openid-connect.scope", "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := oidcStrategy("s-"+strings.ReplaceAll(tt.name, " ", "-"), "")
			tt.change(b)
			a := h.callRaw("POST", "/v2/application-auth-strategies", b)
			want(t, a, http.StatusBadRequest)
			p := a.problem(t)
			if got := fields(p.InvalidParameters)[tt.field]; got != tt.rule {
				t.Fatalf("invalid_parameters %+v: want %s/%s", p.InvalidParameters, tt.field, tt.rule)
			}
		})
	}
	if n := len(h.e.State().(State).AuthStrategies); n != 0 {
		t.Fatalf("%d strategies created by invalid requests", n)
	}
}

func TestAuthStrategies_DuplicateNameConflicts(t *testing.T) {
	t.Parallel()
	h := start(t)
	createStrategy(t, h, "dcr", "")
	a := h.callRaw("POST", "/v2/application-auth-strategies", oidcStrategy("dcr", ""))
	want(t, a, http.StatusConflict)
	if p := a.problem(t); !strings.Contains(p.Detail, "already exists") {
		t.Fatalf("problem %+v", p)
	}
}

func TestAuthStrategies_ListFilters(t *testing.T) {
	t.Parallel()
	h := start(t)
	p := createProvider(t, h, "okta-main")
	createStrategy(t, h, "dcr-a", p.ID)
	createStrategy(t, h, "dcr-b", p.ID)
	createStrategy(t, h, "plain", "")
	tests := []struct {
		query string
		want  []string
	}{
		{"filter[name]=dcr-a", []string{"dcr-a"}},
		{"filter[name][eq]=dcr", nil},
		{"filter[name][contains]=dcr", []string{"dcr-a", "dcr-b"}},
		{"filter[strategy_type][eq]=openid_connect&page[size]=2", []string{"dcr-a", "dcr-b"}},
		{"filter[dcr_provider_id][eq]=" + p.ID, []string{"dcr-a", "dcr-b"}},
		{"filter[dcr_provider_name][eq]=okta-main&sort=name%20desc", []string{"dcr-b", "dcr-a"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			a := h.call("GET", "/v2/application-auth-strategies?"+tt.query, nil)
			want(t, a, http.StatusOK)
			var body listBody[AuthStrategy]
			a.decode(t, &body)
			var names []string
			for _, s := range body.Data {
				names = append(names, s.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("got %v, want %v", names, tt.want)
			}
		})
	}
	want(t, h.callRaw("GET", "/v2/application-auth-strategies?filter[dcr_provider_id][contains]=x", nil), http.StatusBadRequest)
}

func TestAuthStrategies_DeleteInUse(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := createStrategy(t, h, "dcr", "")
	seed := DefaultSeed()
	api, portal := seed.APIs[0].ID, seed.Portals[0].ID
	pubPath := "/v3/apis/" + api + "/publications/" + portal
	want(t, h.call("PUT", pubPath, map[string]any{"auth_strategy_ids": []string{s.ID}, "visibility": "public"}), http.StatusOK)

	var got AuthStrategy
	h.call("GET", "/v2/application-auth-strategies/"+s.ID, nil).decode(t, &got)
	if !got.Active {
		t.Fatal("strategy used by a publication is not active")
	}
	a := h.call("DELETE", "/v2/application-auth-strategies/"+s.ID, nil)
	want(t, a, http.StatusConflict)
	if p := a.problem(t); p.Title != "Conflict" {
		t.Fatalf("problem %+v", p)
	}
	want(t, h.call("DELETE", pubPath, nil), http.StatusNoContent)
	want(t, h.call("DELETE", "/v2/application-auth-strategies/"+s.ID, nil), http.StatusNoContent)
	want(t, h.call("DELETE", "/v2/application-auth-strategies/"+s.ID, nil), http.StatusNotFound)
}

func TestAuthStrategies_PortalDefaultIsInUse(t *testing.T) {
	t.Parallel()
	const sid = "55555555-5555-4555-8555-555555555555"
	h := start(t, func(s *Seed, _ *Options) {
		s.AuthStrategies = []SeedAuthStrategy{oidcSeed(sid, "default-strategy", "")}
		s.Portals[0].DefaultApplicationAuthStrategyID = sid
	})
	want(t, h.call("DELETE", "/v2/application-auth-strategies/"+sid, nil), http.StatusConflict)
}
