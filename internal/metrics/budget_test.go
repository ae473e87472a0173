package metrics

import (
	"github.com/dcrflow/dcrflow/internal/metrics/promtext"

	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/ratelimit"
)

func TestBudgetMetrics_RatesWaitsAndDeferralsNotCountedAsCalls(t *testing.T) {
	m := New(nil)
	defer m.Close()
	b := ratelimit.New(ratelimit.Config{Budgets: map[ratelimit.System]int{ratelimit.OktaManagement: 600, ratelimit.Konnect: 1200}, Observer: m})
	b.SetWorkers(2)
	m.BudgetWaited(ratelimit.Konnect, 1500*time.Millisecond)
	m.BudgetWaited(ratelimit.Konnect, 500*time.Millisecond)
	m.BudgetDeferred(ratelimit.OktaDCR)

	// A deferral reaches the clients' observers as a failed exchange: not a call.
	budgetErr := &url.Error{Op: "Get", URL: "http://x", Err: &ratelimit.BudgetError{System: ratelimit.OktaManagement, Wait: time.Second}}
	m.ObserveOkta(okta.ResponseInfo{Op: "ListScopes", Method: http.MethodGet, Err: budgetErr})
	m.ObserveKonnect(konnect.ResponseInfo{Op: "list-portals", Method: http.MethodGet, Err: fmt.Errorf("konnect: %w", budgetErr)})
	m.ObserveOkta(okta.ResponseInfo{Op: "ListScopes", Method: http.MethodGet, StatusCode: 200})

	text := scrape(t, m)
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{BudgetRate, map[string]string{"budget": "okta_management"}, 600 * (1 - ratelimit.DefaultHeadroom) / 2},
		{BudgetRate, map[string]string{"budget": "konnect"}, 1200 * (1 - ratelimit.DefaultHeadroom) / 2},
		{BudgetWorkers, nil, 2},
		{BudgetWait, map[string]string{"budget": "konnect"}, 2},
		{BudgetDeferred, map[string]string{"budget": "okta_dcr"}, 1},
		{APIRequests, map[string]string{"system": "okta"}, 1},
		{APIRequests, map[string]string{"system": "konnect"}, 0},
	} {
		if got, _ := promtext.Value(text, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	var none *Metrics // the worker without metrics
	none.BudgetRate(ratelimit.Konnect, 1)
	none.BudgetWorkers(1)
	none.BudgetWaited(ratelimit.Konnect, time.Second)
	none.BudgetDeferred(ratelimit.Konnect)
}
