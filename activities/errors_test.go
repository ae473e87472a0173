package activities_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/ratelimit"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
	"github.com/dcrflow/dcrflow/usage"
)

// A request the worker's budget defers is a retryable, benign RateLimited failure
// whose retry comes when the budget has a slot, as after a 429.
func TestAPIErrors_ABudgetDeferralIsRetriedAfterItsWait(t *testing.T) {
	sb := sandboxtest.Start(t)
	// One management call a minute: the step's second call has no slot for a minute.
	budget := ratelimit.New(ratelimit.Config{Budgets: map[ratelimit.System]int{ratelimit.OktaManagement: 1}})
	hc := &http.Client{Transport: budget.Transport(sb.HTTPClient.Transport, ratelimit.OktaRoutes(sb.OktaURL))}
	oc, err := okta.New(okta.Config{OrgURL: sb.OktaURL, Token: sbokta.DefaultManagementToken, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(&activities.Activities{Okta: oc, DCRTokens: map[string]string{"default": sbokta.DefaultDCRToken}, Usage: &usage.Memory{}})

	// EnsureClaim finds no claim (the budget's one call), then cannot create it.
	_, err = env.ExecuteActivity(a.EnsureClaim, activities.ClaimInput{AuthServerID: "default", Name: "client_id"})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		t.Fatalf("err = %v, want an application error", err)
	}
	if app.Type() != dcrflow.ErrTypeRateLimited || app.NonRetryable() || app.Category() != temporal.ApplicationErrorCategoryBenign {
		t.Errorf("deferral: type %s, non-retryable %v, category %v; want a retryable, benign %s", app.Type(), app.NonRetryable(), app.Category(), dcrflow.ErrTypeRateLimited)
	}
	if d := app.NextRetryDelay(); d < 50*time.Second || d > 62*time.Second {
		t.Errorf("NextRetryDelay = %v, want the wait for the next slot (about a minute)", d)
	}
	for _, r := range sb.Sandbox.Requests(0) {
		if r.Method == http.MethodPost {
			t.Errorf("the deferred request was sent: %s %s", r.Method, r.Path)
		}
	}
}
