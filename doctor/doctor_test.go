package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/sandbox"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

const svcApp = "0oaSvcDoctor0000001"

// setup is the knobs of one doctor run on a sandbox.
type setup struct {
	oktaToken    string   // SSWS mode
	oauthGranted []string // OAuth mode when set: the app's scopes
	oauthWant    []string // and the client's
	dcrToken     string
	konnectToken string
	portals      []dcrflow.PortalSpec
	fixture      func(*sandbox.Fixture)
	temporalErr  error
}

func healthy() setup {
	return setup{oktaToken: sbokta.DefaultManagementToken, dcrToken: sbokta.DefaultDCRToken, konnectToken: sbkonnect.DefaultToken,
		portals: []dcrflow.PortalSpec{{Key: "payments", Portal: "payments", AuthServer: "default",
			Scopes: []dcrflow.ScopeSpec{{Name: "payments:read"}}, APIs: []dcrflow.APISpec{{API: "payments-api"}}}}}
}

// run runs doctor on a fresh sandbox and checks that it wrote nothing.
func run(t *testing.T, s setup) (Report, map[string]Check) {
	t.Helper()
	var pemKey []byte
	env := sandboxtest.Start(t, sandboxtest.WithFixture(func(fx *sandbox.Fixture) {
		if s.oauthGranted != nil {
			var jwks json.RawMessage
			var err error
			if pemKey, jwks, err = sbokta.NewServiceAppKey("k1"); err != nil {
				t.Fatal(err)
			}
			fx.Okta.ServiceApps = []sbokta.SeedServiceApp{{ClientID: svcApp, JWKS: jwks, GrantedScopes: s.oauthGranted}}
		}
		if s.fixture != nil {
			s.fixture(fx)
		}
	}))
	h := NewHeadroom()
	oc := okta.Config{OrgURL: env.OktaURL, Token: s.oktaToken, HTTPClient: env.HTTPClient, Observer: h.ObserveOkta}
	if s.oauthGranted != nil {
		oc = okta.Config{OrgURL: env.OktaURL, AuthMode: okta.AuthPrivateKey, HTTPClient: &http.Client{}, Observer: h.ObserveOkta,
			OAuth: okta.OAuthConfig{ClientID: svcApp, KeyID: "k1", PrivateKey: pemKey, Scopes: s.oauthWant}}
	}
	o, err := okta.New(oc)
	if err != nil {
		t.Fatal(err)
	}
	k, err := konnect.New(konnect.Config{BaseURL: env.KonnectURL, Token: s.konnectToken, HTTPClient: env.HTTPClient, Observer: h.ObserveKonnect})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := Run(ctx, Deps{Okta: o, DCRTokens: map[string]string{"default": s.dcrToken}, Konnect: k, Region: "eu", Portals: s.portals, Headroom: h,
		Temporal: func(context.Context) (string, error) { return "namespace default", s.temporalErr }})
	for _, req := range env.Sandbox.Requests(0) {
		if req.Method != http.MethodGet && !(req.Method == http.MethodPost && req.Path == "/oauth2/v1/token") {
			t.Errorf("doctor wrote: %s %s %s", req.System, req.Method, req.Path)
		}
	}
	by := map[string]Check{}
	for _, c := range r.Checks {
		by[c.Name] = c
	}
	var out bytes.Buffer
	if err := r.Print(&out, false); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", out.String())
	return r, by
}

func want(t *testing.T, by map[string]Check, name string, st Status, detail, fix string) {
	t.Helper()
	c, ok := by[name]
	if !ok {
		t.Fatalf("no check %q", name)
	}
	if c.Status != st || !strings.Contains(c.Detail, detail) || !strings.Contains(c.Fix, fix) {
		t.Errorf("%s = %s %q (fix %q); want %s with %q, fix %q", name, c.Status, c.Detail, c.Fix, st, detail, fix)
	}
}

func TestRun_Healthy(t *testing.T) {
	r, by := run(t, healthy())
	if !r.OK {
		t.Fatalf("not OK: %+v", r.Checks)
	}
	want(t, by, "okta.auth", Warn, "SSWS API token: the management API answers; an SSWS token carries every right of its admin, whose roles are SUPER_ADMIN: far more than onboarding needs", "prefer okta.auth_mode: private_key")
	want(t, by, "okta.auth_server default", Pass, "issuer http://", "")
	want(t, by, "okta.access_policy default (portal payments)", Pass, `policy "Default Policy" issues client_credentials tokens for [payments:read]`, "")
	want(t, by, "okta.dcr_token default", Pass, "valid for /oauth2/v1/clients", "")
	want(t, by, "konnect.token", Pass, "accepted in region eu", "")
	for _, res := range []string{"dcr_providers", "auth_strategies", "apis", "portals", "publications"} {
		want(t, by, "konnect.rights "+res, Pass, "may read", "")
	}
	want(t, by, "konnect.region", Pass, "the file's portals are in region eu", "")
	want(t, by, "rate_limit okta management (/api/v1)", Pass, "left in the current window", "")
	want(t, by, "rate_limit konnect", Warn, "Konnect sends no rate-limit headers and rate_limits.konnect_rpm is not set", "DCRFLOW_RATE_LIMITS_KONNECT_RPM")
	want(t, by, "temporal", Pass, "namespace default", "")
	var js bytes.Buffer
	if err := r.Print(&js, true); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || !back.OK || len(back.Checks) != len(r.Checks) {
		t.Fatalf("json: %v %s", err, js.String())
	}
}

// An SSWS token of an admin whose only role is limited to authorization servers is
// the least an API token can carry, and doctor reads that role from Okta.
func TestRun_SSWSTokenOfALeastPrivilegeAdmin(t *testing.T) {
	s := healthy()
	s.fixture = func(fx *sandbox.Fixture) {
		fx.Okta.ManagementTokenRoles = map[string][]string{sbokta.DefaultManagementToken: {"API_ACCESS_MANAGEMENT_ADMIN"}}
	}
	r, by := run(t, s)
	if !r.OK {
		t.Fatalf("not OK: %+v", r.Checks)
	}
	want(t, by, "okta.auth", Warn, "an SSWS token of an admin with the role API_ACCESS_MANAGEMENT_ADMIN (authorization servers only), the least an API token can carry", "prefer okta.auth_mode: private_key")
}

func TestRun_OAuthHealthy(t *testing.T) {
	s := healthy()
	s.oktaToken, s.oauthGranted = "", []string{okta.ScopeAuthServersRead, okta.ScopeAuthServersManage}
	r, by := run(t, s)
	if !r.OK {
		t.Fatalf("not OK: %+v", r.Checks)
	}
	want(t, by, "okta.auth", Pass, "OAuth 2.0 for Okta (service app, private_key_jwt), scopes okta.authorizationServers.read okta.authorizationServers.manage: the management API answers (every requested scope is granted", "")
}

// Each broken setup fails its own check, with its exact message and fix.
func TestRun_BrokenSetups(t *testing.T) {
	npKey := "okta.access_policy " + sbokta.NoPolicyServerID + " (portal payments)"
	for _, tc := range []struct {
		name        string
		change      func(*setup)
		check       string
		status      Status
		detail, fix string
	}{
		{"wrong okta token", func(s *setup) { s.oktaToken = "00sbxWrongToken" },
			"okta.auth", Fail, "HTTP 401 E0000011: Invalid token provided", "okta.token (DCRFLOW_OKTA_TOKEN) is not a valid API token of this org"},
		{"oauth scope not granted", func(s *setup) { s.oktaToken, s.oauthGranted = "", []string{okta.ScopeAuthServersRead} },
			"okta.auth", Fail, "OAuth access token request: HTTP 400 invalid_scope: The following scopes are not allowed: okta.authorizationServers.manage", "grant the service app every scope in okta.scopes"},
		{"no access policy", func(s *setup) { s.portals[0].AuthServer = sbokta.NoPolicyServerID },
			npKey, Fail, "every token request would fail with no_matching_policy (it has no access policy)", "or set access_policy: ensure"},
		{"wrong dcr token", func(s *setup) { s.dcrToken = "00sbxNotADCRToken" },
			"okta.dcr_token default", Fail, "HTTP 401", "Okta refuses this DCR token: create an API token (Security > API > Tokens) of an admin who may manage apps and set DCRFLOW_DCR_TOKEN_DEFAULT"},
		{"wrong konnect region", func(s *setup) {
			s.fixture = func(fx *sandbox.Fixture) { fx.Konnect.Portals, fx.Konnect.APIs = nil, nil } // a region where the org has nothing
		}, "konnect.region", Fail, "none of the file's portals (payments) is in region eu",
			"Konnect keeps portals, APIs and DCR providers per region: set konnect.region (DCRFLOW_KONNECT_REGION) to the region of your org's portals"},
		{"wrong konnect token", func(s *setup) { s.konnectToken = "kpat_wrongwrongwrongwrongwrongwrongwrongwrongwrong" },
			"konnect.token", Fail, "401", "konnect.token (DCRFLOW_KONNECT_TOKEN) is not a valid personal (kpat_) or system account (spat_) token"},
		{"temporal unreachable", func(s *setup) { s.temporalErr = errors.New("cannot reach Temporal at 127.0.0.1:1") },
			"temporal", Fail, "cannot reach Temporal", "temporal.address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := healthy()
			tc.change(&s)
			r, by := run(t, s)
			if r.OK {
				t.Fatal("the report is OK")
			}
			want(t, by, tc.check, tc.status, tc.detail, tc.fix)
			for _, c := range r.Checks {
				if strings.Contains(c.Detail+c.Fix, "00sbxNotADCRToken") || strings.Contains(c.Detail+c.Fix, "00sbxWrongToken") {
					t.Errorf("%s shows a token", c.Name)
				}
			}
			if tc.name == "wrong okta token" {
				if _, ran := by["okta.auth_server default"]; ran {
					t.Error("servers checked after the credentials failed")
				}
			}
		})
	}
}

func TestRun_OAuthReadOnlyScopeWarns(t *testing.T) {
	s := healthy()
	s.oktaToken, s.oauthGranted, s.oauthWant = "", []string{okta.ScopeAuthServersRead}, []string{okta.ScopeAuthServersRead}
	r, by := run(t, s)
	if !r.OK {
		t.Fatalf("a read-only doctor run failed: %+v", r.Checks)
	}
	want(t, by, "okta.auth", Warn, "okta.authorizationServers.manage is not requested: onboarding fails at step 2", "grant the service app okta.authorizationServers.manage")
}

func TestRun_AccessPolicyEnsureWarns(t *testing.T) {
	s := healthy()
	s.portals[0].AuthServer, s.portals[0].AccessPolicy = sbokta.NoPolicyServerID, dcrflow.AccessPolicyEnsure
	r, by := run(t, s)
	if !r.OK {
		t.Fatalf("not OK: %+v", r.Checks)
	}
	want(t, by, "okta.access_policy "+sbokta.NoPolicyServerID+" (portal payments)", Warn, "onboarding will create dcrflow-payments", "")
}
