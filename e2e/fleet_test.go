package e2e

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/launcher"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
)

func fleetPortal(key, server, scope string, apis ...string) dcrflow.PortalSpec {
	s := dcrflow.PortalSpec{Key: key, Portal: "payments", AuthServer: server, ClaimName: "client_id",
		Scopes: []dcrflow.ScopeSpec{{Name: scope}}, DCRProvider: "dcrflow-" + key, DCRTokenName: "default",
		Strategy: dcrflow.StrategySpec{Name: "dcrflow-" + key, DisplayName: key, AuthMethods: []string{"client_credentials"}},
		Validate: true, OnFailure: dcrflow.OnFailureCompensate, UpsertSearchAttributes: true}
	for _, a := range apis {
		s.APIs = append(s.APIs, dcrflow.APISpec{API: a, Visibility: "public"})
	}
	return s
}

// 50 portals, 10 made to fail (5 at resolve, 5 at the strategy step after building
// scopes, claim and provider): the summary is exact, the failed ones are undone, the
// others complete; never more than MaxConcurrent run at once; the fleet continues as
// new every 20 portals; progress and search attributes tell the same story.
func TestFleet_FiftyPortalsSomeFailing(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	if ok, err := launcher.SearchAttributesRegistered(ctx, s.temporal, "default"); err != nil || !ok {
		t.Fatalf("search attributes registered = %v, %v", ok, err)
	}
	kc, err := konnect.New(konnect.Config{BaseURL: s.sb.KonnectURL, Token: sbkonnect.DefaultToken, HTTPClient: s.sb.HTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	apis := []string{"payments-api", "refunds-api", "invoices-api", "customers-api", "accounts-api", "orders-api",
		"inventory-api", "shipping-api", "notifications-api", "reporting-api"}
	var specs []dcrflow.PortalSpec
	for i := range 40 {
		var with []string
		if i < len(apis) {
			with = []string{apis[i]}
		}
		specs = append(specs, fleetPortal(fmt.Sprintf("ok-%02d", i), "default", fmt.Sprintf("ok%02d:read", i), with...))
	}
	for i := range 5 {
		specs = append(specs, fleetPortal(fmt.Sprintf("noapi-%d", i), "default", "noapi:read", fmt.Sprintf("no-such-api-%d", i)))
		key := fmt.Sprintf("taken-%d", i)
		specs = append(specs, fleetPortal(key, "partners", "partners:read"))
		// Someone else's strategy holds the name this portal wants.
		if _, err := kc.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{Name: "dcrflow-" + key, DisplayName: "Theirs",
			Issuer: "https://elsewhere.example.com", CredentialClaim: []string{"sub"}, Scopes: []string{"x"}, AuthMethods: []string{"bearer"}}); err != nil {
			t.Fatal(err)
		}
	}
	before := s.state(t)

	const limit = 8
	f, err := launcher.StartFleet(ctx, s.temporal, s.taskQueue, dcrflow.FleetInput{Name: "fifty", Portals: specs, MaxConcurrent: limit, ContinueAsNewAfter: 20})
	if err != nil {
		t.Fatal(err)
	}
	// Mid-run: the progress query never shows more than the limit running.
	midRun := false
	waitFor(t, 3*time.Minute, "the fleet to finish", func() bool {
		p, err := launcher.FleetProgress(ctx, s.temporal, "fifty")
		if err != nil {
			return false // between continue-as-new runs
		}
		if len(p.Running) > limit {
			t.Fatalf("%d portals running, limit %d", len(p.Running), limit)
		}
		done := p.Done()
		if done > 0 && done < 50 && len(p.Running) > 0 {
			midRun = true
			// A child may end a moment before its parent records it, so any outcome
			// goes; the query must answer for the portal named.
			if r, err := launcher.PortalProgress(ctx, s.temporal, p.Running[0]); err == nil && (r.Portal != p.Running[0] || r.Step == "") {
				t.Errorf("progress of running portal %s = %+v", p.Running[0], r)
			}
		}
		return done == 50 && p.Total == 50
	})
	if !midRun {
		t.Error("never observed the fleet mid-run")
	}
	sum, err := f.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total != 50 || sum.Succeeded != 40 || sum.Failed != 10 || len(sum.Failures) != 10 {
		t.Fatalf("summary: %d total, %d succeeded, %d failed", sum.Total, sum.Succeeded, sum.Failed)
	}
	for _, fl := range sum.Failures {
		want := "resolve"
		if strings.HasPrefix(fl.Portal, "taken-") {
			want = "auth_strategy"
		}
		if fl.Step != want || !fl.Compensated || fl.Message == "" {
			t.Errorf("failure %+v, want step %s, compensated", fl, want)
		}
	}
	// The failed portals left nothing behind.
	after := s.state(t)
	if !reflect.DeepEqual(server(after, "partners"), server(before, "partners")) {
		t.Error("the partners server changed though all its portals failed")
	}
	for i := range 5 {
		if got := providers(after, fmt.Sprintf("dcrflow-taken-%d", i)); len(got) != 0 {
			t.Errorf("taken-%d left its provider", i)
		}
	}
	assertOnboarded(t, after, specs[:40])

	// Continue-as-new: 50 portals, 20 per run.
	if n := countWorkflows(t, s.temporal, "WorkflowId = 'dcrflow-fleet-fifty'"); n != 3 {
		t.Errorf("fleet runs = %d, want 3", n)
	}
	// Search attributes: one filter finds each outcome (visibility catches up quickly).
	waitFor(t, 30*time.Second, "visibility to show the outcomes", func() bool {
		return countWorkflows(t, s.temporal, "WorkflowType = 'OnboardPortal' AND DcrflowOutcome = 'succeeded'") == 40 &&
			countWorkflows(t, s.temporal, "WorkflowType = 'OnboardPortal' AND DcrflowOutcome = 'compensated'") == 10 &&
			countWorkflows(t, s.temporal, dcrflow.FleetFailedQuery("fifty")) == 10 // the fleet's full list of failures
	})
	if n := countWorkflows(t, s.temporal, "DcrflowPortal = 'taken-3' AND DcrflowStep = 'auth_strategy'"); n != 1 {
		t.Errorf("portal/step filter found %d runs, want 1", n)
	}
	if p, err := launcher.PortalProgress(ctx, s.temporal, "ok-07"); err != nil || p.Outcome != dcrflow.OutcomeSucceeded || p.Step != "validate" {
		t.Errorf("progress of a finished portal: %+v %v", p, err)
	}
}
