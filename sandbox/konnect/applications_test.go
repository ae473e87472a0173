package konnect

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dcrflow/dcrflow/internal/contract"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
)

// oktaOrg is the Okta emulator behind a switch that can make it answer 503.
type oktaOrg struct {
	em   *sbokta.Emulator
	url  string
	down atomic.Bool
}

func startOkta(t *testing.T) *oktaOrg {
	t.Helper()
	o := &oktaOrg{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.down.Load() {
			w.Header().Set(faults.HeaderInjected, "okta-down") // an injected fault: not checked against the spec
			sbokta.WriteError(w, r, http.StatusServiceUnavailable, 0)
			return
		}
		o.em.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	em, err := sbokta.New(sbokta.DefaultSeed(), sbokta.Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	o.em, o.url = em, srv.URL
	return o
}

func (o *oktaOrg) clients() map[string]string {
	out := map[string]string{}
	for _, c := range o.em.Snapshot().Clients {
		out[c.ClientID] = c.ClientName
	}
	return out
}

// startWithOkta is a Konnect emulator whose calls to Okta are checked against the
// Okta specs too.
func startWithOkta(t *testing.T) *harness {
	t.Helper()
	return start(t, func(_ *Seed, o *Options) {
		o.HTTPClient = &http.Client{Transport: contract.Transport(t, http.DefaultTransport)}
	})
}

// dcrStrategy creates an Okta DCR provider for issuer and token and a strategy on
// it, and returns the strategy's id.
func dcrStrategy(t *testing.T, h *harness, name, issuer, token string) string {
	t.Helper()
	pb := oktaProvider(name, token)
	pb["issuer"] = issuer
	a := h.call("POST", "/v2/dcr-providers", pb)
	want(t, a, http.StatusCreated)
	var p DCRProvider
	a.decode(t, &p)
	a = h.call("POST", "/v2/application-auth-strategies", oidcStrategy(name, p.ID))
	want(t, a, http.StatusCreated)
	var s AuthStrategy
	a.decode(t, &s)
	return s.ID
}

// appJSON decodes either application shape.
type appJSON struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Description   *string           `json:"description"`
	Labels        map[string]string `json:"labels"`
	ClientID      *string           `json:"client_id"`
	DCRProvider   *idOnly           `json:"dcr_provider"`
	Portal        idOnly            `json:"portal"`
	GrantedScopes []string          `json:"granted_scopes"`
	Owner         AppOwner          `json:"owner"`
	AuthStrategy  struct {
		ID             string   `json:"id"`
		Name           string   `json:"name"`
		CredentialType string   `json:"credential_type"`
		AuthMethods    []string `json:"auth_methods"`
		KeyNames       []string `json:"key_names"`
	} `json:"auth_strategy"`
}

func appBody(name, ownerType, ownerID, strategyID string) map[string]any {
	b := map[string]any{"name": name, "description": "app " + name, "labels": map[string]any{"env": "test"},
		"owner": map[string]any{"type": ownerType, "id": ownerID}}
	if strategyID != "" {
		b["auth_strategy_id"] = strategyID
	}
	return b
}

func seeded(t *testing.T, portal int) (portalID, developerID, teamID string) {
	t.Helper()
	p := DefaultSeed().Portals[portal]
	if len(p.Developers) != 1 || len(p.Teams) != 1 {
		t.Fatalf("portal %s seeds %d developers and %d teams, want one each", p.Name, len(p.Developers), len(p.Teams))
	}
	return p.ID, p.Developers[0].ID, p.Teams[0].ID
}

func TestDevelopersAndTeams_SeededPerPortal(t *testing.T) {
	t.Parallel()
	h := start(t)
	for i, p := range DefaultSeed().Portals {
		_, devID, teamID := seeded(t, i)
		a := h.call("GET", "/v3/portals/"+p.ID+"/developers?filter[status]=approved", nil)
		want(t, a, http.StatusOK)
		var devs listBody[Developer]
		a.decode(t, &devs)
		if len(devs.Data) != 1 || devs.Data[0].ID != devID || devs.Data[0].Status != "approved" || devs.Meta.Page.Total != 1 {
			t.Errorf("portal %s developers: %s", p.Name, a.body)
		}
		a = h.call("GET", "/v3/portals/"+p.ID+"/teams?filter[can_own_applications]=true", nil)
		want(t, a, http.StatusOK)
		var teams listBody[Team]
		a.decode(t, &teams)
		if len(teams.Data) != 1 || teams.Data[0].ID != teamID || !teams.Data[0].CanOwnApplications {
			t.Errorf("portal %s teams: %s", p.Name, a.body)
		}
	}
	portal := DefaultSeed().Portals[0].ID
	var devs listBody[Developer]
	h.call("GET", "/v3/portals/"+portal+"/developers?filter[status]=pending", nil).decode(t, &devs)
	if len(devs.Data) != 0 {
		t.Errorf("pending developers: %+v", devs.Data)
	}
	a := h.call("GET", "/v3/portals/"+newUUID()+"/developers", nil)
	want(t, a, http.StatusNotFound)
	a.problem(t)
	want(t, h.call("GET", "/v3/portals/"+newUUID()+"/teams", nil), http.StatusNotFound)
}

func TestApplications_DCRRegistersAndDeletesTheOktaClient(t *testing.T) {
	t.Parallel()
	okta := startOkta(t)
	h := startWithOkta(t)
	portal, dev, _ := seeded(t, 0)
	strategy := dcrStrategy(t, h, "okta-dcr", okta.url+"/oauth2/default", sbokta.DefaultDCRToken)

	a := h.call("POST", "/v3/portals/"+portal+"/applications", appBody("billing-app", "developer", dev, strategy))
	want(t, a, http.StatusCreated)
	if strings.Contains(strings.ToLower(string(a.body)), "secret") {
		t.Fatalf("the answer mentions a secret: %s", a.body)
	}
	var app appJSON
	a.decode(t, &app)
	if app.ClientID == nil || *app.ClientID == "" || app.DCRProvider == nil || app.Portal.ID != portal ||
		app.AuthStrategy.ID != strategy || app.AuthStrategy.CredentialType != "client_credentials" ||
		len(app.AuthStrategy.AuthMethods) != 2 || app.GrantedScopes != nil || app.Owner != (AppOwner{"developer", dev}) ||
		app.Labels["env"] != "test" || app.Description == nil || *app.Description != "app billing-app" {
		t.Fatalf("application: %s", a.body)
	}
	if name := okta.clients()[*app.ClientID]; name != "billing-app" {
		t.Fatalf("Okta has client %q named %q; want the application's name (clients %v)", *app.ClientID, name, okta.clients())
	}

	a = h.call("GET", "/v3/portals/"+portal+"/applications/"+app.ID, nil)
	want(t, a, http.StatusOK)
	var got appJSON
	a.decode(t, &got)
	if got.ClientID == nil || *got.ClientID != *app.ClientID {
		t.Errorf("get: %s", a.body)
	}
	a = h.call("GET", "/v3/portals/"+portal+"/applications?filter[name]=billing-app&filter[developer_id][eq]="+dev, nil)
	want(t, a, http.StatusOK)
	var list listBody[appJSON]
	a.decode(t, &list)
	if len(list.Data) != 1 || list.Data[0].ID != app.ID || list.Meta.Page.Total != 1 {
		t.Errorf("list: %s", a.body)
	}
	a = h.call("GET", "/v3/portals/"+portal+"/applications/"+app.ID+"/credentials", nil)
	want(t, a, http.StatusOK)
	var creds listBody[credential]
	a.decode(t, &creds)
	if len(creds.Data) != 1 || creds.Data[0].Type != "client_secret" || creds.Data[0].ClientID != *app.ClientID ||
		creds.Data[0].CreatedAt == nil || strings.Contains(string(a.body), "secret\":") {
		t.Errorf("credentials: %s", a.body)
	}
	// Another portal does not see it.
	other, _, _ := seeded(t, 1)
	want(t, h.call("GET", "/v3/portals/"+other+"/applications/"+app.ID, nil), http.StatusNotFound)

	// The strategy (and so its provider) stays while the application uses it.
	a = h.call("DELETE", "/v2/application-auth-strategies/"+strategy, nil)
	want(t, a, http.StatusConflict)
	if p := a.problem(t); !strings.Contains(p.Detail, "applications") {
		t.Errorf("409 detail %q", p.Detail)
	}

	a = h.call("DELETE", "/v3/portals/"+portal+"/applications/"+app.ID, nil)
	want(t, a, http.StatusNoContent)
	if _, ok := okta.clients()[*app.ClientID]; ok {
		t.Error("the Okta client outlived its application")
	}
	a = h.call("GET", "/v3/portals/"+portal+"/applications/"+app.ID, nil)
	want(t, a, http.StatusNotFound)
	if p := a.problem(t); p.Detail != "Application ["+app.ID+"] not found" {
		t.Errorf("404 detail %q", p.Detail)
	}
	want(t, h.call("DELETE", "/v3/portals/"+portal+"/applications/"+app.ID, nil), http.StatusNotFound)
	if n := len(h.e.State().(State).Applications); n != 0 {
		t.Errorf("state keeps %d applications", n)
	}
	want(t, h.call("DELETE", "/v2/application-auth-strategies/"+strategy, nil), http.StatusNoContent)
}

func TestApplications_KeyAuthTeamOwnedAndPaged(t *testing.T) {
	t.Parallel()
	h := start(t)
	portal, _, team := seeded(t, 2)
	a := h.call("POST", "/v2/application-auth-strategies", map[string]any{"name": "keys", "display_name": "Keys",
		"strategy_type": "key_auth", "configs": map[string]any{"key-auth": map[string]any{}}})
	want(t, a, http.StatusCreated)
	var st AuthStrategy
	a.decode(t, &st)
	for _, name := range []string{"k1", "k2", "k3"} {
		a := h.call("POST", "/v3/portals/"+portal+"/applications", appBody(name, "team", team, st.ID))
		want(t, a, http.StatusCreated)
		var app appJSON
		a.decode(t, &app)
		if app.ClientID != nil || app.AuthStrategy.CredentialType != "key_auth" || len(app.AuthStrategy.KeyNames) != 1 ||
			app.AuthStrategy.KeyNames[0] != "apikey" || app.Owner.Type != "team" {
			t.Fatalf("key auth application: %s", a.body)
		}
	}
	var page listBody[appJSON]
	h.call("GET", "/v3/portals/"+portal+"/applications?page[size]=2&page[number]=2&sort=name", nil).decode(t, &page)
	if len(page.Data) != 1 || page.Data[0].Name != "k3" || page.Meta.Page != (pageMeta{Number: 2, Size: 2, Total: 3}) {
		t.Errorf("page 2: %+v", page)
	}
	h.call("GET", "/v3/portals/"+portal+"/applications?filter[team_id][eq]="+team+"&filter[name][contains]=K2", nil).decode(t, &page)
	if len(page.Data) != 1 || page.Data[0].Name != "k2" {
		t.Errorf("filtered: %+v", page)
	}
	a = h.call("GET", "/v3/portals/"+portal+"/applications/"+page.Data[0].ID+"/credentials", nil)
	want(t, a, http.StatusOK)
	if !strings.Contains(string(a.body), `"data":[]`) {
		t.Errorf("key auth credentials: %s", a.body)
	}
	want(t, h.call("DELETE", "/v3/portals/"+portal+"/applications/"+page.Data[0].ID, nil), http.StatusNoContent)
}

func TestApplications_Refusals(t *testing.T) {
	t.Parallel()
	okta := startOkta(t)
	h := startWithOkta(t)
	portal, dev, team := seeded(t, 0)
	_, otherDev, _ := seeded(t, 1)
	strategy := dcrStrategy(t, h, "okta-dcr", okta.url+"/oauth2/default", sbokta.DefaultDCRToken)
	path := "/v3/portals/" + portal + "/applications"

	tests := []struct {
		name   string
		body   map[string]any
		field  string
		rule   string
		reason string
	}{
		{"owner missing", appBody("a", "developer", newUUID(), strategy), "owner.id", "missing_reference", "does not exist in this portal"},
		{"owner of another portal", appBody("a", "developer", otherDev, strategy), "owner.id", "missing_reference", "does not exist in this portal"},
		{"team as developer", appBody("a", "developer", team, strategy), "owner.id", "missing_reference", "developer"},
		{"unknown strategy", appBody("a", "developer", dev, newUUID()), "auth_strategy_id", "missing_reference", "does not exist"},
		{"no strategy, no portal default", appBody("a", "developer", dev, ""), "auth_strategy_id", "required", "default"},
		{"client_id with DCR", func() map[string]any {
			b := appBody("a", "developer", dev, strategy)
			b["client_id"] = "0oaMine"
			return b
		}(), "client_id", "invalid", "Dynamic Client Registration"},
	}
	for _, tt := range tests {
		a := h.call("POST", path, tt.body)
		want(t, a, http.StatusBadRequest)
		p := a.problem(t)
		if len(p.InvalidParameters) != 1 || p.InvalidParameters[0].Field != tt.field || p.InvalidParameters[0].Rule != tt.rule ||
			!strings.Contains(p.InvalidParameters[0].Reason, tt.reason) {
			t.Errorf("%s: %s", tt.name, a.body)
		}
	}
	// Shapes the spec itself refuses, sent without the request check.
	for name, body := range map[string]map[string]any{
		"strategy id not a uuid": appBody("a", "developer", dev, "nope"),
		"unknown property":       func() map[string]any { b := appBody("a", "developer", dev, strategy); b["my_property"] = 1; return b }(),
		"owner type":             appBody("a", "robot", dev, strategy),
		"no owner":               {"name": "a", "auth_strategy_id": strategy},
	} {
		a := h.callRaw("POST", path, body)
		want(t, a, http.StatusBadRequest)
		if p := a.problem(t); len(p.InvalidParameters) == 0 {
			t.Errorf("%s: %s", name, a.body)
		}
	}
	a := h.call("POST", "/v3/portals/"+newUUID()+"/applications", appBody("a", "developer", dev, strategy))
	want(t, a, http.StatusNotFound)
	a.problem(t)
	if n := len(okta.clients()); n != 0 {
		t.Errorf("refused creations left %d Okta clients", n)
	}
	if n := len(h.e.State().(State).Applications); n != 0 {
		t.Errorf("refused creations left %d applications", n)
	}
}

func TestApplications_IdentityProviderFailures(t *testing.T) {
	t.Parallel()
	okta := startOkta(t)
	h := startWithOkta(t)
	portal, dev, _ := seeded(t, 0)
	path := "/v3/portals/" + portal + "/applications"

	// A token Okta refuses: the caller's to fix, a 400 naming Okta's answer.
	bad := dcrStrategy(t, h, "bad-token", okta.url+"/oauth2/default", "00wrongDcrTokenValue")
	a := h.call("POST", path, appBody("a", "developer", dev, bad))
	want(t, a, http.StatusBadRequest)
	p := a.problem(t)
	if !strings.Contains(p.Detail, "401 (Invalid token provided)") || strings.Contains(string(a.body), "00wrongDcrTokenValue") ||
		len(p.InvalidParameters) != 1 || p.InvalidParameters[0].Field != "auth_strategy_id" {
		t.Errorf("refused by Okta: %s", a.body)
	}

	// Okta down: a 502 worth retrying; nothing is created.
	good := dcrStrategy(t, h, "good", okta.url+"/oauth2/default", sbokta.DefaultDCRToken)
	okta.down.Store(true)
	a = h.call("POST", path, appBody("a", "developer", dev, good))
	want(t, a, http.StatusBadGateway)
	if p := a.problem(t); !strings.Contains(p.Detail, "Unable to create the DCR application: the provider answered 503") {
		t.Errorf("Okta down: %s", a.body)
	}
	if n := len(h.e.State().(State).Applications); n != 0 {
		t.Fatalf("%d applications after failed creations", n)
	}

	// Deleting while Okta is down keeps the application, so the delete can be retried.
	okta.down.Store(false)
	a = h.call("POST", path, appBody("a", "developer", dev, good))
	want(t, a, http.StatusCreated)
	var app appJSON
	a.decode(t, &app)
	okta.down.Store(true)
	want(t, h.call("DELETE", path+"/"+app.ID, nil), http.StatusBadGateway)
	want(t, h.call("GET", path+"/"+app.ID+"/credentials", nil), http.StatusBadGateway)
	okta.down.Store(false)
	want(t, h.call("GET", path+"/"+app.ID, nil), http.StatusOK)
	// A client someone already deleted in Okta does not block the delete.
	if r := deleteOktaClient(t, okta, *app.ClientID); r != http.StatusNoContent {
		t.Fatalf("delete in Okta: %d", r)
	}
	a = h.call("GET", path+"/"+app.ID+"/credentials", nil)
	want(t, a, http.StatusOK)
	if !strings.Contains(string(a.body), `"data":[]`) {
		t.Errorf("credentials of a client gone from Okta: %s", a.body)
	}
	want(t, h.call("DELETE", path+"/"+app.ID, nil), http.StatusNoContent)

	// An unreachable org.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	gone := dcrStrategy(t, h, "gone", closed.URL+"/oauth2/default", sbokta.DefaultDCRToken)
	a = h.call("POST", path, appBody("a", "developer", dev, gone))
	want(t, a, http.StatusBadGateway)
	if p := a.problem(t); !strings.Contains(p.Detail, "could not be reached") {
		t.Errorf("unreachable: %s", a.body)
	}
}

func deleteOktaClient(t *testing.T, o *oktaOrg, id string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, o.url+"/oauth2/v1/clients/"+id, nil)
	req.Header.Set("Authorization", "SSWS "+sbokta.DefaultDCRToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
