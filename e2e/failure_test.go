package e2e

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
)

// A portal whose auth strategy name is taken by a different strategy fails at that
// step; compensation removes everything the run created and the other portal of the
// same batch completes. Run again after a healthy portal made the shared claim, the
// failing portal adopts the claim and its compensation leaves it alone.
func TestOnboard_PermanentFailureLeavesTheOrgsAsTheyWere(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	kc, err := konnect.New(konnect.Config{BaseURL: s.sb.KonnectURL, Token: sbkonnect.DefaultToken, HTTPClient: s.sb.HTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	// Someone else's strategy under the name the portal wants (key auth, no DCR).
	theirs, err := kc.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{Name: "dcrflow-broken", DisplayName: "Theirs",
		Issuer: "https://elsewhere.example.com/oauth2/x", CredentialClaim: []string{"sub"}, Scopes: []string{"x"}, AuthMethods: []string{"bearer"}})
	if err != nil {
		t.Fatal(err)
	}
	before := s.state(t)

	broken := dcrflow.PortalSpec{Key: "broken", Portal: "internal", AuthServer: "default", ClaimName: "client_id",
		Scopes:      []dcrflow.ScopeSpec{{Name: "broken:read"}},
		DCRProvider: "dcrflow-broken", DCRTokenName: "default",
		Strategy: dcrflow.StrategySpec{Name: "dcrflow-broken", DisplayName: "Broken", AuthMethods: []string{"client_credentials"}},
		APIs:     []dcrflow.APISpec{{API: "reporting-api", Visibility: "private"}}, Validate: true}
	healthy := dcrflow.PortalSpec{Key: "healthy", Portal: "public", AuthServer: "partners", ClaimName: "client_id",
		Scopes:      []dcrflow.ScopeSpec{{Name: "partners:read"}}, // the only scope the partners policy grants
		DCRProvider: "dcrflow-healthy", DCRTokenName: "default",
		Strategy: dcrflow.StrategySpec{Name: "dcrflow-healthy", DisplayName: "Healthy", AuthMethods: []string{"bearer"}},
		APIs:     []dcrflow.APISpec{{API: "customers-api", Visibility: "public"}}, Validate: true}

	outcomes := s.onboard(t, []dcrflow.PortalSpec{broken, healthy})
	b, h := outcomes[0], outcomes[1]
	if !h.Succeeded {
		t.Fatalf("the healthy portal failed too: %v", h.Err)
	}
	if b.Succeeded || b.Result == nil || b.Result.Failure == nil {
		t.Fatalf("broken portal: succeeded=%v result=%+v err=%v", b.Succeeded, b.Result, b.Err)
	}
	if b.Result.Failure.Step != "auth_strategy" || !strings.Contains(b.Result.Failure.Message, "dcrflow-broken") || !strings.Contains(b.Err.Error(), "auth_strategy") {
		t.Errorf("failure = %+v, err = %v", b.Result.Failure, b.Err)
	}
	if len(b.Result.CompensationErrors) != 0 {
		t.Errorf("compensation errors: %v", b.Result.CompensationErrors)
	}

	after := s.state(t)
	// Nothing of the broken portal is left: compare everything but the healthy portal's work.
	if got := providers(after, "dcrflow-broken"); len(got) != 0 {
		t.Errorf("the created DCR provider was left behind: %+v", got)
	}
	if got := strategies(after, "dcrflow-broken"); len(got) != 1 || got[0].ID != theirs.ID || !reflect.DeepEqual(got[0].Configs, strategies(before, "dcrflow-broken")[0].Configs) {
		t.Errorf("the foreign strategy was touched: %+v", got)
	}
	if got, want := server(after, "default"), server(before, "default"); !reflect.DeepEqual(got, want) {
		t.Errorf("the default server changed:\n got %+v\nwant %+v", got, want)
	}
	if pub := publication(after, apiID(after, "reporting-api"), portalID(after, "internal")); pub != nil {
		t.Errorf("reporting-api was left published: %+v", pub)
	}
	if h.Result.Validation == nil || !h.Result.Validation.Passed {
		t.Errorf("healthy validation = %+v", h.Result.Validation)
	}

	// The shared claim made by a healthy portal survives the broken one's compensation.
	healthy.Key, healthy.Portal, healthy.AuthServer = "healthy-default", "europe", "default"
	healthy.DCRProvider, healthy.Strategy.Name = "dcrflow-healthy-default", "dcrflow-healthy-default"
	healthy.APIs = []dcrflow.APISpec{{API: "accounts-api", Visibility: "public"}}
	healthy.Scopes = []dcrflow.ScopeSpec{{Name: "europe:read"}}
	if o := s.onboard(t, []dcrflow.PortalSpec{healthy})[0]; !o.Succeeded {
		t.Fatalf("healthy on default: %v", o.Err)
	}
	o := s.onboard(t, []dcrflow.PortalSpec{broken})[0]
	if o.Succeeded {
		t.Fatal("broken portal succeeded the second time")
	}
	for _, r := range o.Result.Resources {
		if r.Kind == dcrflow.KindClaim && r.Action != dcrflow.ActionAdopted {
			t.Errorf("second broken run: claim %s", r.Action)
		}
	}
	claims := 0
	for _, c := range server(s.state(t), "default").Claims {
		if c.Name == "client_id" {
			claims++
		}
	}
	if claims != 1 {
		t.Errorf("client_id claims on default after the second failure = %d, want 1", claims)
	}
}
