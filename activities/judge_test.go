package activities

import (
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
)

// The judgments are what both a run and a plan decide with; these tests pin each
// outcome and what the run reports for it.

func TestVerdict_RunActionFollowsThePlanMapping(t *testing.T) {
	for _, c := range []struct {
		v    Verdict
		want dcrflow.Action
	}{
		{Verdict{Action: dcrflow.PlanCreate}, dcrflow.ActionCreated},
		{Verdict{Action: dcrflow.PlanAdopt}, dcrflow.ActionAdopted},
		{Verdict{Action: dcrflow.PlanAdopt, Own: true}, dcrflow.ActionCreated},
		{Verdict{Action: dcrflow.PlanPublish}, dcrflow.ActionPublished},
		{Verdict{Action: dcrflow.PlanRepublish}, dcrflow.ActionUpdated},
		{Verdict{Action: dcrflow.PlanUnchanged}, dcrflow.ActionUnchanged},
		{Verdict{Action: dcrflow.PlanConflict}, ""},
	} {
		if got := c.v.RunAction(); got != c.want {
			t.Errorf("%+v: run action %q, want %q", c.v, got, c.want)
		}
	}
}

func TestJudgeScope(t *testing.T) {
	marker := scopeMarker("p", "run1")
	for name, c := range map[string]struct {
		s      *okta.Scope
		marker string
		action dcrflow.PlanAction
		own    bool
	}{
		"missing":         {nil, marker, dcrflow.PlanCreate, false},
		"someone else's":  {&okta.Scope{Consent: okta.ConsentImplicit, Description: "theirs"}, marker, dcrflow.PlanAdopt, false},
		"this run's":      {&okta.Scope{Consent: okta.ConsentImplicit, Description: "Read " + marker}, marker, dcrflow.PlanAdopt, true},
		"another run's":   {&okta.Scope{Consent: okta.ConsentImplicit, Description: scopeMarker("p", "run0")}, marker, dcrflow.PlanAdopt, false},
		"in a plan":       {&okta.Scope{Consent: okta.ConsentImplicit, Description: marker}, "", dcrflow.PlanAdopt, false},
		"consent needed":  {&okta.Scope{Consent: okta.ConsentRequired}, marker, dcrflow.PlanConflict, false},
		"flexible is met": {&okta.Scope{Consent: okta.ConsentFlexible}, marker, dcrflow.PlanAdopt, false},
	} {
		v := judgeScope(c.s, c.marker)
		if v.Action != c.action || v.Own != c.own {
			t.Errorf("%s: %+v, want %s (own %v)", name, v, c.action, c.own)
		}
		if v.Action == dcrflow.PlanConflict && !strings.Contains(scopeConflict("x", v), "consent is REQUIRED") {
			t.Errorf("%s: conflict message %q", name, scopeConflict("x", v))
		}
	}
}

func TestJudgeClaim_NamesEveryDifferingField(t *testing.T) {
	good := okta.Claim{ValueType: okta.ValueTypeExpression, Value: ClaimValue, Status: okta.StatusActive}
	if v := judgeClaim(nil, false); v.Action != dcrflow.PlanCreate {
		t.Errorf("missing: %+v", v)
	}
	if v := judgeClaim(&good, false); v.Action != dcrflow.PlanAdopt || v.Own {
		t.Errorf("matching: %+v", v)
	}
	if v := judgeClaim(&good, true); v.RunAction() != dcrflow.ActionCreated {
		t.Errorf("the run's own: %+v", v)
	}
	bad := okta.Claim{ValueType: "SAME_AS_GROUPS", Value: `"x"`, Status: "INACTIVE", Scopes: []string{"a"}}
	v := judgeClaim(&bad, true)
	if v.Action != dcrflow.PlanConflict || len(v.Diffs) != 4 {
		t.Fatalf("differing: %+v", v)
	}
	for _, want := range []string{"value_type", "app.clientId", "INACTIVE", "[a]"} {
		if !strings.Contains(strings.Join(v.Diffs, "; "), want) {
			t.Errorf("diffs %v lack %q", v.Diffs, want)
		}
	}
}

func TestJudgeProvider(t *testing.T) {
	const issuer = "https://org/oauth2/default"
	own := map[string]string{LabelManagedBy: "dcrflow", LabelRun: "run1"}
	if v := judgeProvider(nil, issuer, "run1"); v.Action != dcrflow.PlanCreate {
		t.Errorf("missing: %+v", v)
	}
	if v := judgeProvider(&konnect.DCRProvider{ProviderType: "okta", Issuer: issuer + "/", Labels: own}, issuer, "run1"); v.Action != dcrflow.PlanAdopt || !v.Own {
		t.Errorf("the run's own (trailing slash): %+v", v)
	}
	if v := judgeProvider(&konnect.DCRProvider{ProviderType: "okta", Issuer: issuer, Labels: own}, issuer, ""); v.Own {
		t.Errorf("a plan owns nothing: %+v", v)
	}
	v := judgeProvider(&konnect.DCRProvider{ProviderType: "auth0", Issuer: "https://other"}, issuer, "run1")
	if v.Action != dcrflow.PlanConflict || len(v.Diffs) != 2 {
		t.Errorf("differing: %+v", v)
	}
}

func TestJudgeStrategy(t *testing.T) {
	in := StrategyInput{Strategy: dcrflow.StrategySpec{Name: "s", AuthMethods: []string{"bearer", "client_credentials"}},
		Issuer: "https://org/oauth2/default", Scopes: []string{"a", "b"}, ClaimName: "client_id", ProviderID: "prov1"}
	match := &konnect.AuthStrategy{StrategyType: "openid_connect", DCRProvider: &konnect.DCRProviderRef{ID: "prov1"},
		OIDC: &konnect.OIDCConfig{Issuer: in.Issuer, Scopes: []string{"b", "a"}, CredentialClaim: []string{"client_id"}, AuthMethods: []string{"client_credentials", "bearer"}}}
	if v := judgeStrategy(match, in, ""); v.Action != dcrflow.PlanAdopt {
		t.Errorf("matching (any order): %+v", v)
	}
	if v := judgeStrategy(nil, in, ""); v.Action != dcrflow.PlanCreate {
		t.Errorf("missing: %+v", v)
	}
	// A plan judges a strategy against a provider that does not exist yet: the run
	// would create a new provider, which the strategy cannot be bound to.
	planned := in
	planned.ProviderID = ""
	if v := judgeStrategy(match, planned, ""); v.Action != dcrflow.PlanConflict || !strings.Contains(v.Diffs[0], "not bound") {
		t.Errorf("provider to be created: %+v", v)
	}
	key := &konnect.AuthStrategy{StrategyType: "key_auth"}
	if v := judgeStrategy(key, in, ""); v.Action != dcrflow.PlanConflict || !strings.Contains(v.Diffs[0], "key_auth") {
		t.Errorf("key_auth: %+v", v)
	}
}

func TestJudgePublication(t *testing.T) {
	want := konnect.Publication{AuthStrategyIDs: []string{"s1"}, Visibility: "public"}
	if v := judgePublication(nil, want); v.Action != dcrflow.PlanPublish || v.RunAction() != dcrflow.ActionPublished {
		t.Errorf("not published: %+v", v)
	}
	if v := judgePublication(&konnect.Publication{AuthStrategyIDs: []string{"s1"}, Visibility: "public"}, want); v.Action != dcrflow.PlanUnchanged {
		t.Errorf("as wanted: %+v", v)
	}
	v := judgePublication(&konnect.Publication{AuthStrategyIDs: []string{"old"}, Visibility: "private", AutoApproveRegistrations: true}, want)
	if v.Action != dcrflow.PlanRepublish || v.RunAction() != dcrflow.ActionUpdated || len(v.Diffs) != 3 {
		t.Errorf("other settings: %+v", v)
	}
}
