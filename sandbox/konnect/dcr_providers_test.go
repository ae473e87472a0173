package konnect

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func oktaProvider(name, token string) map[string]any {
	return map[string]any{
		"name": name, "display_name": "Okta " + name, "provider_type": "okta",
		"issuer":     "https://example.okta.com/oauth2/default",
		"dcr_config": map[string]any{"dcr_token": token},
		"labels":     map[string]any{"owner": "team-a"},
	}
}

func createProvider(t *testing.T, h *harness, name string) DCRProvider {
	t.Helper()
	a := h.call("POST", "/v2/dcr-providers", oktaProvider(name, "tok-"+name))
	want(t, a, http.StatusCreated)
	var p DCRProvider
	a.decode(t, &p)
	return p
}

func TestDCRProviders_CreateGet(t *testing.T) {
	t.Parallel()
	h := start(t)
	p := createProvider(t, h, "okta-main")
	if !isUUID(p.ID) || p.Name != "okta-main" || p.DisplayName != "Okta okta-main" || p.ProviderType != "okta" ||
		p.Issuer != "https://example.okta.com/oauth2/default" || p.Active || p.Labels["owner"] != "team-a" || p.CreatedAt.IsZero() {
		t.Fatalf("created %+v", p)
	}
	a := h.call("GET", "/v2/dcr-providers/"+p.ID, nil)
	want(t, a, http.StatusOK)
	if !bytes.Contains(a.body, []byte(`"dcr_config":{}`)) || bytes.Contains(a.body, []byte("tok-okta-main")) {
		t.Fatalf("get shows dcr_config wrongly: %s", a.body)
	}
	a = h.call("GET", "/v2/dcr-providers/"+newUUID(), nil)
	want(t, a, http.StatusNotFound)
	if p := a.problem(t); p.Title != "Not Found" {
		t.Fatalf("problem %+v", p)
	}
}

func TestDCRProviders_CreateValidation(t *testing.T) {
	t.Parallel()
	h := start(t)
	long := strings.Repeat("x", 257)
	tests := []struct {
		name   string
		change func(map[string]any)
		field  string
		rule   string
	}{
		{"missing name", func(b map[string]any) { delete(b, "name") }, "name", "required"},
		{"empty name", func(b map[string]any) { b["name"] = "" }, "name", "min_length"},
		{"long name", func(b map[string]any) { b["name"] = long }, "name", "max_length"},
		{"name not a string", func(b map[string]any) { b["name"] = 5 }, "name", "is_string"},
		{"missing issuer", func(b map[string]any) { delete(b, "issuer") }, "issuer", "required"},
		{"bad issuer", func(b map[string]any) { b["issuer"] = "okta.example.com" }, "issuer", "invalid"},
		{"missing dcr_config", func(b map[string]any) { delete(b, "dcr_config") }, "dcr_config", "required"},
		{"missing token", func(b map[string]any) { b["dcr_config"] = map[string]any{} }, "dcr_config.dcr_token", "required"},
		{"long token", func(b map[string]any) { b["dcr_config"] = map[string]any{"dcr_token": long} }, "dcr_config.dcr_token", "max_length"},
		{"unknown dcr_config key", func(b map[string]any) {
			b["dcr_config"] = map[string]any{"dcr_token": "t", "initial_client_id": "x"}
		}, "dcr_config.initial_client_id", "unknown_property"},
		{"unknown property", func(b map[string]any) { b["colour"] = "blue" }, "colour", "unknown_property"},
		{"missing provider_type", func(b map[string]any) { delete(b, "provider_type") }, "provider_type", "required"},
		{"unknown provider_type", func(b map[string]any) { b["provider_type"] = "keycloak" }, "provider_type", "enum"},
		{"unemulated provider_type", func(b map[string]any) { b["provider_type"] = "auth0" }, "provider_type", "enum"},
		{"reserved label key", func(b map[string]any) { b["labels"] = map[string]any{"konnect-x": "y"} }, "labels.konnect-x", "is_label"},
		{"bad label value", func(b map[string]any) { b["labels"] = map[string]any{"env": "-bad-"} }, "labels.env", "is_label"},
		{"label not a string", func(b map[string]any) { b["labels"] = map[string]any{"env": 1} }, "labels.env", "is_string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := oktaProvider("p-"+strings.ReplaceAll(tt.name, " ", "-"), "tok")
			tt.change(b)
			a := h.callRaw("POST", "/v2/dcr-providers", b)
			want(t, a, http.StatusBadRequest)
			p := a.problem(t)
			if p.Title != "Invalid Request" || p.Detail != "Invalid Parameters" {
				t.Fatalf("problem %+v", p)
			}
			if got := fields(p.InvalidParameters)[tt.field]; got != tt.rule {
				t.Fatalf("invalid_parameters %+v: want %s with rule %s", p.InvalidParameters, tt.field, tt.rule)
			}
		})
	}
	a := h.callRaw("POST", "/v2/dcr-providers", "{not json")
	want(t, a, http.StatusBadRequest)
	if n := len(h.e.State().(State).DCRProviders); n != 0 {
		t.Fatalf("%d providers created by invalid requests", n)
	}
	// A valid label key that merely starts with upper-case KONG is allowed.
	b := oktaProvider("upper", "tok")
	b["labels"] = map[string]any{"KONGCTL-namespace": "team-a"}
	want(t, h.call("POST", "/v2/dcr-providers", b), http.StatusCreated)
}

func TestDCRProviders_DuplicateNameConflicts(t *testing.T) {
	t.Parallel()
	h := start(t)
	createProvider(t, h, "okta-main")
	a := h.callRaw("POST", "/v2/dcr-providers", oktaProvider("okta-main", "other"))
	want(t, a, http.StatusConflict)
	if p := a.problem(t); p.Title != "Conflict" || !strings.Contains(p.Detail, "okta-main") {
		t.Fatalf("problem %+v", p)
	}
}

func TestDCRProviders_ListFiltersAndPages(t *testing.T) {
	t.Parallel()
	h := start(t)
	for i := range 25 {
		createProvider(t, h, "okta-"+strconv.Itoa(i))
	}
	createProvider(t, h, "other")
	list := func(q string) (names []string, total int) {
		t.Helper()
		a := h.call("GET", "/v2/dcr-providers?"+q, nil)
		want(t, a, http.StatusOK)
		var body listBody[DCRProvider]
		a.decode(t, &body)
		for _, p := range body.Data {
			names = append(names, p.Name)
		}
		return names, body.Meta.Page.Total
	}
	tests := []struct {
		query     string
		wantFirst string
		wantLen   int
		wantTotal int
	}{
		{"", "okta-0", 10, 26},
		{"page[size]=10&page[number]=3", "okta-20", 6, 26},
		{"page[size]=10&page[number]=4", "", 0, 26},
		{"page[size]=100", "okta-0", 26, 26},
		{"filter[name]=okta-1", "okta-1", 1, 1},
		{"filter[name][eq]=okta-1", "okta-1", 1, 1},
		{"filter[name][contains]=OKTA-1", "okta-1", 10, 11},
		{"filter[name][neq]=other", "okta-0", 10, 25},
		{"filter[provider_type][eq]=okta&filter[name][eq]=other", "other", 1, 1},
		{"filter[issuer][contains]=example.okta.com&page[size]=5", "okta-0", 5, 26},
		{"filter[provider_type][eq]=auth0", "", 0, 0},
		{"sort=name desc&page[size]=1", "other", 1, 26},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			names, total := list(strings.ReplaceAll(tt.query, " ", "%20"))
			first := ""
			if len(names) > 0 {
				first = names[0]
			}
			if len(names) != tt.wantLen || total != tt.wantTotal || first != tt.wantFirst {
				t.Fatalf("got %d items (first %q) of %d; want %d (first %q) of %d", len(names), first, total, tt.wantLen, tt.wantFirst, tt.wantTotal)
			}
		})
	}
	id := h.e.State().(State).DCRProviders[3].ID
	if names, _ := list("filter[id]=" + id); len(names) != 1 || names[0] != "okta-3" {
		t.Fatalf("filter[id]: %v", names)
	}
}

func TestDCRProviders_ListRejectsBadQueries(t *testing.T) {
	t.Parallel()
	h := start(t)
	tests := []struct{ query, field, rule string }{
		{"filter[colour]=blue", "filter[colour]", "enum"},
		{"filter[name][like]=x", "filter[name][like]", "enum"},
		{"filter=x", "filter", "invalid"},
		{"page[size]=abc", "page[size]", "is_number"},
		{"page[size]=0", "page[size]", "min"},
		{"page[size]=101", "page[size]", "max"},
		{"page[number]=0", "page[number]", "min"},
		{"sort=colour", "sort", "enum"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			a := h.callRaw("GET", "/v2/dcr-providers?"+tt.query, nil)
			want(t, a, http.StatusBadRequest)
			p := a.problem(t)
			if got := fields(p.InvalidParameters)[tt.field]; got != tt.rule {
				t.Fatalf("invalid_parameters %+v: want %s/%s", p.InvalidParameters, tt.field, tt.rule)
			}
			if p.InvalidParameters[0].Source != "query" {
				t.Fatalf("source %q, want query", p.InvalidParameters[0].Source)
			}
		})
	}
}

func TestDCRProviders_Update(t *testing.T) {
	t.Parallel()
	h := start(t)
	p := createProvider(t, h, "okta-main")
	createProvider(t, h, "taken")
	a := h.call("PATCH", "/v2/dcr-providers/"+p.ID, map[string]any{
		"name": "okta-renamed", "display_name": "Renamed", "issuer": "https://other.okta.com/oauth2/aus1",
		"dcr_config": map[string]any{"dcr_token": "rotated-token"},
		"labels":     map[string]any{"owner": nil, "env": "prod"},
	})
	want(t, a, http.StatusOK)
	var got DCRProvider
	a.decode(t, &got)
	if got.Name != "okta-renamed" || got.DisplayName != "Renamed" || got.Issuer != "https://other.okta.com/oauth2/aus1" ||
		got.Labels["env"] != "prod" || got.Labels["owner"] != "" || got.CreatedAt != p.CreatedAt {
		t.Fatalf("updated %+v", got)
	}
	h.e.mu.Lock()
	token := h.e.st.providers[p.ID].token
	h.e.mu.Unlock()
	if token != "rotated-token" {
		t.Fatalf("stored token %q after rotation", token)
	}
	if bytes.Contains(a.body, []byte("rotated-token")) {
		t.Fatal("update answer shows the token")
	}

	tests := []struct {
		name string
		body any
		code int
	}{
		{"provider_type is immutable", map[string]any{"provider_type": "auth0"}, http.StatusBadRequest},
		{"bad issuer", map[string]any{"issuer": "nope"}, http.StatusBadRequest},
		{"name taken", map[string]any{"name": "taken"}, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := h.callRaw("PATCH", "/v2/dcr-providers/"+p.ID, tt.body)
			want(t, a, tt.code)
			a.problem(t)
		})
	}
	want(t, h.call("PATCH", "/v2/dcr-providers/"+newUUID(), map[string]any{"name": "x"}), http.StatusNotFound)
}

func TestDCRProviders_DeleteAndInUse(t *testing.T) {
	t.Parallel()
	h := start(t)
	p := createProvider(t, h, "okta-main")
	s := createStrategy(t, h, "dcr-strategy", p.ID)
	var got DCRProvider
	h.call("GET", "/v2/dcr-providers/"+p.ID, nil).decode(t, &got)
	if !got.Active {
		t.Fatal("provider used by a strategy is not active")
	}
	a := h.callRaw("DELETE", "/v2/dcr-providers/"+p.ID, nil)
	want(t, a, http.StatusConflict)
	a.problem(t)
	want(t, h.call("DELETE", "/v2/application-auth-strategies/"+s.ID, nil), http.StatusNoContent)
	a = h.call("DELETE", "/v2/dcr-providers/"+p.ID, nil)
	want(t, a, http.StatusNoContent)
	if len(a.body) != 0 {
		t.Fatalf("204 with body %s", a.body)
	}
	want(t, h.call("DELETE", "/v2/dcr-providers/"+p.ID, nil), http.StatusNotFound)
	want(t, h.callRaw("GET", "/v2/dcr-providers/not-a-uuid", nil), http.StatusNotFound)
}

func TestDCRProviders_FilterValueEscaping(t *testing.T) {
	t.Parallel()
	h := start(t)
	createProvider(t, h, "a,b & c")
	a := h.call("GET", "/v2/dcr-providers?filter[name][eq]="+url.QueryEscape("a,b & c"), nil)
	want(t, a, http.StatusOK)
	var body listBody[DCRProvider]
	a.decode(t, &body)
	if len(body.Data) != 1 {
		t.Fatalf("%d matches for an exact name with commas", len(body.Data))
	}
}
