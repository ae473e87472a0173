package konnect

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	oktaclient "github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// seededOwner is the first portal of the default seed with its developer and team.
func seededOwner(t *testing.T) (portalID, developerID, teamID string) {
	t.Helper()
	p := sbkonnect.DefaultSeed().Portals[0]
	if len(p.Developers) == 0 || len(p.Teams) == 0 {
		t.Fatalf("portal %s seeds no developer or team", p.Name)
	}
	return p.ID, p.Developers[0].ID, p.Teams[0].ID
}

// dcrSetup creates an Okta DCR provider on the sandbox's Okta org and an OIDC
// strategy bound to it, and returns the strategy.
func dcrSetup(t *testing.T, c *Client, env *sandboxtest.Env) *AuthStrategy {
	t.Helper()
	p, err := c.DCRProviders.CreateOkta(ctx(t), oktaProvider(env, "okta-dcr"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.AuthStrategies.CreateOIDC(ctx(t), CreateOIDCStrategy{Name: "okta-dcr", DisplayName: "Okta",
		Issuer: env.OktaURL + "/oauth2/default", CredentialClaim: []string{"client_id"}, Scopes: []string{"orders:read"},
		AuthMethods: []string{"client_credentials", "bearer"}, DCRProviderID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// oktaDCR is an Okta client on the sandbox, to look at what Konnect registered.
func oktaDCR(t *testing.T, env *sandboxtest.Env) *oktaclient.Client {
	t.Helper()
	oc, err := oktaclient.New(oktaclient.Config{OrgURL: env.OktaURL, Token: sbokta.DefaultManagementToken, HTTPClient: env.HTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	return oc
}

func konnectApps(env *sandboxtest.Env) []sbkonnect.Application {
	return env.Sandbox.State()["konnect"].(sbkonnect.State).Applications
}

func TestApplicationsService_DCRClientLivesAndDiesWithTheApplication(t *testing.T) {
	t.Parallel()
	c, env := setup(t)
	portal, dev, _ := seededOwner(t)
	strategy := dcrSetup(t, c, env)
	okta := oktaDCR(t, env)

	app, err := c.Applications.Create(ctx(t), portal, CreateApplication{Name: "dcrflow-validation", Description: "throw-away",
		Owner: ApplicationOwner{Type: OwnerDeveloper, ID: dev}, AuthStrategyID: strategy.ID, Labels: map[string]string{"managed-by": "dcrflow"}})
	if err != nil {
		t.Fatal(err)
	}
	if app.ID == "" || app.ClientID == "" || app.PortalID != portal || app.DCRProviderID != strategy.DCRProvider.ID ||
		app.AuthStrategy.ID != strategy.ID || app.AuthStrategy.CredentialType != CredentialClientCredentials ||
		app.Owner != (ApplicationOwner{OwnerDeveloper, dev}) || app.Description != "throw-away" ||
		app.Labels["managed-by"] != "dcrflow" || app.CreatedAt.IsZero() {
		t.Fatalf("created %+v", app)
	}
	// Konnect registered the client in Okta with the provider's DCR token.
	rc, err := okta.GetClient(ctx(t), sbokta.DefaultDCRToken, app.ClientID)
	if err != nil {
		t.Fatalf("the Okta client of the application: %v", err)
	}
	if rc.ClientName != "dcrflow-validation" || rc.ApplicationType != "service" {
		t.Errorf("Okta client %v", rc)
	}

	got, err := c.Applications.Get(ctx(t), portal, app.ID)
	if err != nil || got.ClientID != app.ClientID || got.Name != app.Name {
		t.Fatalf("Get: %+v %v", got, err)
	}
	named, err := c.Applications.List(ctx(t), portal, "dcrflow-validation")
	if err != nil || len(named) != 1 || named[0].ID != app.ID {
		t.Fatalf("List by name: %+v %v", named, err)
	}
	if none, err := c.Applications.List(ctx(t), portal, "dcrflow"); err != nil || len(none) != 0 {
		t.Errorf("List by a prefix: %+v %v", none, err)
	}
	// The strategy cannot go while the application uses it.
	if err := c.AuthStrategies.Delete(ctx(t), strategy.ID); !IsConflict(err) {
		t.Errorf("delete a strategy in use: %v", err)
	}

	if err := c.Applications.Delete(ctx(t), portal, app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := okta.GetClient(ctx(t), sbokta.DefaultDCRToken, app.ClientID); !oktaclient.IsNotFound(err) {
		t.Errorf("the Okta client outlived its application: %v", err)
	}
	if _, err := c.Applications.Get(ctx(t), portal, app.ID); !IsNotFound(err) {
		t.Errorf("Get after delete: %v", err)
	}
	if err := c.Applications.Delete(ctx(t), portal, app.ID); !IsNotFound(err) {
		t.Errorf("second Delete: %v", err)
	}
	if n := len(konnectApps(env)); n != 0 {
		t.Errorf("%d applications left", n)
	}
	mustNotContain(t, "sandbox state", konnectState(t, env), sbokta.DefaultDCRToken, sbkonnect.DefaultToken)
	if err := c.AuthStrategies.Delete(ctx(t), strategy.ID); err != nil {
		t.Errorf("delete the strategy once unused: %v", err)
	}
}

func TestApplicationsService_MissingOwnerIsATypedErrorWithTheServersReason(t *testing.T) {
	t.Parallel()
	c, env := setup(t)
	portal, _, _ := seededOwner(t)
	strategy := dcrSetup(t, c, env)
	missing := "00000000-0000-4000-8000-000000000001"

	_, err := c.Applications.Create(ctx(t), portal, CreateApplication{Name: "orphan",
		Owner: ApplicationOwner{Type: OwnerDeveloper, ID: missing}, AuthStrategyID: strategy.ID})
	var e *Error
	if !asError(err, &e) {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	if e.Op != "create-application" || e.StatusCode != http.StatusBadRequest || e.Temporary() || len(e.InvalidParameters) != 1 ||
		e.InvalidParameters[0].Field != "owner.id" || e.InvalidParameters[0].Rule != "missing_reference" {
		t.Fatalf("error %+v", e)
	}
	if reason := e.InvalidParameters[0].Reason; !strings.Contains(err.Error(), reason) || !strings.Contains(reason, missing) {
		t.Errorf("the message %q does not carry the server's reason %q", err, reason)
	}
	// A team of the portal may own it instead; nothing was left behind by the refusal.
	if n := len(env.Sandbox.State()["okta"].(sbokta.State).Clients); n != 0 {
		t.Errorf("a refused application left %d Okta clients", n)
	}
	_, _, team := seededOwner(t)
	app, err := c.Applications.Create(ctx(t), portal, CreateApplication{Name: "team-app",
		Owner: ApplicationOwner{Type: OwnerTeam, ID: team}, AuthStrategyID: strategy.ID})
	if err != nil || app.Owner.Type != OwnerTeam {
		t.Fatalf("team owner: %+v %v", app, err)
	}
	if err := c.Applications.Delete(ctx(t), portal, app.ID); err != nil {
		t.Fatal(err)
	}
	// An unknown portal is a 404.
	_, err = c.Applications.Create(ctx(t), "00000000-0000-4000-8000-000000000002", CreateApplication{Name: "x",
		Owner: ApplicationOwner{Type: OwnerTeam, ID: team}, AuthStrategyID: strategy.ID})
	if !IsNotFound(err) {
		t.Errorf("unknown portal: %v", err)
	}
}

func TestApplicationsService_IdentityProviderDownIsTemporary(t *testing.T) {
	t.Parallel()
	c, env := setup(t)
	portal, dev, _ := seededOwner(t)
	strategy := dcrSetup(t, c, env)
	if _, err := env.Sandbox.Faults.Add(faults.Fault{Method: "POST", Path: "/oauth2/v1/clients", Status: http.StatusServiceUnavailable, Count: 1}); err != nil {
		t.Fatal(err)
	}
	in := CreateApplication{Name: "retry-me", Owner: ApplicationOwner{Type: OwnerDeveloper, ID: dev}, AuthStrategyID: strategy.ID}
	_, err := c.Applications.Create(ctx(t), portal, in)
	var e *Error
	if !asError(err, &e) || e.StatusCode != http.StatusBadGateway || !e.Temporary() || !strings.Contains(e.Detail, "503") {
		t.Fatalf("Okta down: %v", err)
	}
	if n := len(konnectApps(env)); n != 0 {
		t.Fatalf("%d applications after a failed registration", n)
	}
	// The fault is spent: the retry succeeds.
	app, err := c.Applications.Create(ctx(t), portal, in)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if err := c.Applications.Delete(ctx(t), portal, app.ID); err != nil {
		t.Fatal(err)
	}
}

func TestApplicationsService_ListFollowsEveryPage(t *testing.T) {
	t.Parallel()
	const keyAuth = "5d4a8c1e-2b3f-4e6a-9c7d-8e9f0a1b2c3d"
	c, env := setup(t, withKonnect(func(s *sbkonnect.Seed) {
		s.AuthStrategies = append(s.AuthStrategies, sbkonnect.SeedAuthStrategy{ID: keyAuth, Name: "keys", DisplayName: "Keys",
			StrategyType: "key_auth", Configs: map[string]any{"key-auth": map[string]any{"key_names": []string{"apikey"}}}})
		s.Portals[0].DefaultApplicationAuthStrategyID = keyAuth
	}))
	portal, dev, _ := seededOwner(t)
	const n = 103
	for i := range n {
		name := fmt.Sprintf("app-%03d", i)
		if _, err := c.Applications.Create(ctx(t), portal, CreateApplication{Name: name, Owner: ApplicationOwner{Type: OwnerDeveloper, ID: dev}}); err != nil {
			t.Fatal(err)
		}
	}
	since := len(env.Sandbox.Requests(0))
	apps, err := c.Applications.List(ctx(t), portal, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != n || apps[0].AuthStrategy.ID != keyAuth || apps[0].AuthStrategy.CredentialType != CredentialKeyAuth || apps[0].ClientID != "" {
		t.Fatalf("listed %d, first %+v", len(apps), apps[0])
	}
	lists := 0
	for _, r := range env.Sandbox.Requests(since) {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/applications") {
			lists++
		}
	}
	if lists != 2 {
		t.Errorf("%d list calls for %d applications, want 2 pages of 100", lists, n)
	}
	if other, err := c.Applications.List(ctx(t), sbkonnect.DefaultSeed().Portals[1].ID, ""); err != nil || len(other) != 0 {
		t.Errorf("another portal: %d %v", len(other), err)
	}
}

func TestApplicationsService_RefusesEmptyArguments(t *testing.T) {
	t.Parallel()
	c, env := setup(t)
	owner := ApplicationOwner{Type: OwnerDeveloper, ID: "d"}
	for name, call := range map[string]func() error{
		"Create no portal": func() error {
			_, err := c.Applications.Create(ctx(t), "", CreateApplication{Name: "a", Owner: owner})
			return err
		},
		"Create no owner": func() error { _, err := c.Applications.Create(ctx(t), "p", CreateApplication{Name: "a"}); return err },
		"Get":             func() error { _, err := c.Applications.Get(ctx(t), "p", ""); return err },
		"List":            func() error { _, err := c.Applications.List(ctx(t), "", ""); return err },
		"Delete":          func() error { return c.Applications.Delete(ctx(t), "", "a") },
	} {
		// Refused before sending, and not worth a retry: the same call is refused again.
		if err := call(); !errors.Is(err, ErrInvalidArgument) || IsTemporary(err) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := len(env.Sandbox.Requests(0)); n != 0 {
		t.Errorf("%d calls reached the sandbox", n)
	}
}
