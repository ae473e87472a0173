package metrics

import (
	"github.com/dcrflow/dcrflow/ratelimit"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/dcrflow/dcrflow/internal/metrics/promtext"

	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
)

// scrape returns the registry in the Prometheus text format.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.HTTPHandler().ServeHTTP(rec, httptest.NewRequest("GET", Path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", Path, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func mustValue(t *testing.T, text, name string, want map[string]string, expect float64) {
	t.Helper()
	got, ok := promtext.Value(text, name, want)
	if !ok || math.Abs(got-expect) > 1e-9 {
		t.Errorf("%v (found %v), want %v: %s", got, ok, expect, promtext.Describe(text, name, want))
	}
}

func TestObserveKonnect_CountsCallsAnd429Waits(t *testing.T) {
	m := New(nil)
	defer m.Close()
	m.ObserveKonnect(konnect.ResponseInfo{Method: "POST", Op: "create-dcr-provider", StatusCode: 201, Duration: 30 * time.Millisecond})
	m.ObserveKonnect(konnect.ResponseInfo{Method: "POST", Op: "create-dcr-provider", StatusCode: 201, Duration: 20 * time.Millisecond})
	m.ObserveKonnect(konnect.ResponseInfo{Method: "POST", Op: "create-dcr-provider", StatusCode: 429,
		Header: http.Header{"Retry-After": {"3"}}, Wait: 3 * time.Second, Duration: time.Millisecond})
	// No Retry-After: the sandbox's RateLimit-Reset stands in, as in the client.
	m.ObserveKonnect(konnect.ResponseInfo{Method: "GET", Op: "list-portals", StatusCode: 429,
		Header: http.Header{"Ratelimit-Reset": {"2"}}, Wait: 2 * time.Second})
	m.ObserveKonnect(konnect.ResponseInfo{Method: "GET", Op: "list-portals", Err: errors.New("connection refused")})

	text := scrape(t, m)
	mustValue(t, text, APIRequests, map[string]string{"system": "konnect", "operation": "create-dcr-provider", "status": "201"}, 2)
	mustValue(t, text, APIRequests, map[string]string{"system": "konnect", "operation": "create-dcr-provider", "status": "429"}, 1)
	mustValue(t, text, APIRequests, map[string]string{"system": "konnect", "operation": "list-portals", "status": "error"}, 1)
	mustValue(t, text, APILatency+"_count", map[string]string{"system": "konnect", "operation": "create-dcr-provider"}, 3)
	mustValue(t, text, APILatency+"_sum", map[string]string{"system": "konnect", "operation": "create-dcr-provider"}, 0.051)
	mustValue(t, text, RateLimited, map[string]string{"system": "konnect"}, 2)
	mustValue(t, text, RateLimitWait+"_count", map[string]string{"system": "konnect"}, 2)
	mustValue(t, text, RateLimitWait+"_sum", map[string]string{"system": "konnect"}, 5)
	mustValue(t, text, RateLimited, map[string]string{"system": "okta"}, 0) // present before its first 429
	if strings.Contains(text, "okta\",operation") {
		t.Errorf("an Okta call was counted:\n%s", text)
	}
}

func TestObserveOkta_CountsCallsAnd429Waits(t *testing.T) {
	m := New(nil)
	defer m.Close()
	m.ObserveOkta(okta.ResponseInfo{Op: "ListScopes", Method: "GET", StatusCode: 200, Duration: 10 * time.Millisecond})
	m.ObserveOkta(okta.ResponseInfo{Op: "CreateScope", Method: "POST", StatusCode: 429,
		Wait: 7 * time.Second})
	m.ObserveOkta(okta.ResponseInfo{Op: "CreateScope", Method: "POST", StatusCode: 429, Wait: time.Second})
	// A 429 that named no reset: counted, no wait recorded.
	m.ObserveOkta(okta.ResponseInfo{Op: "CreateScope", Method: "POST", StatusCode: 429})
	// No operation, no answer.
	m.ObserveOkta(okta.ResponseInfo{Method: "GET", Err: errors.New("timeout")})

	text := scrape(t, m)
	mustValue(t, text, APIRequests, map[string]string{"system": "okta", "operation": "ListScopes", "status": "200"}, 1)
	mustValue(t, text, APIRequests, map[string]string{"system": "okta", "operation": "CreateScope", "status": "429"}, 3)
	mustValue(t, text, APIRequests, map[string]string{"system": "okta", "operation": "unknown", "status": "error"}, 1)
	mustValue(t, text, RateLimited, map[string]string{"system": "okta"}, 3)
	mustValue(t, text, RateLimitWait+"_count", map[string]string{"system": "okta"}, 2)
	mustValue(t, text, RateLimitWait+"_sum", map[string]string{"system": "okta"}, 8)
	mustValue(t, text, RateLimited, map[string]string{"system": "konnect"}, 0)
}

// A nil *Metrics is the worker without metrics: everything is a no-op.
func TestNilMetrics_RecordsNothing(t *testing.T) {
	var m *Metrics
	m.ObserveOkta(okta.ResponseInfo{StatusCode: 429})
	m.ObserveKonnect(konnect.ResponseInfo{StatusCode: 200})
	if m.Handler() != nil {
		t.Error("a nil *Metrics hands the SDK a non-nil handler")
	}
	if m.URL() != "" || m.Close() != nil {
		t.Error("a nil *Metrics has a URL or fails to close")
	}
}

// Serve binds at once, serves the SDK's metrics (Prometheus-named) beside dcrflow's,
// and stops on Close; a busy address fails at start.
func TestServe_SDKAndOwnMetricsOverHTTP(t *testing.T) {
	m, err := Serve("127.0.0.1:0", func(err error) { t.Errorf("metrics error: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !strings.HasPrefix(m.URL(), "http://127.0.0.1:") || !strings.HasSuffix(m.URL(), Path) {
		t.Fatalf("url = %s", m.URL())
	}
	m.Handler().WithTags(map[string]string{"namespace": "default"}).Counter("temporal_workflow_completed").Inc(1)
	m.Handler().Timer("temporal_activity_execution_latency").Record(250 * time.Millisecond)
	m.ObserveKonnect(konnect.ResponseInfo{Op: "list-apis", StatusCode: 200})

	get := func() string {
		resp, err := http.Get(m.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	deadline := time.Now().Add(5 * time.Second) // tally reports every second
	var text string
	for {
		text = get()
		if v, _ := promtext.Value(text, "temporal_workflow_completed_total", nil); v > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mustValue(t, text, "temporal_workflow_completed_total", map[string]string{"namespace": "default"}, 1)
	mustValue(t, text, "temporal_activity_execution_latency_seconds_count", nil, 1)
	mustValue(t, text, APIRequests, map[string]string{"system": "konnect", "operation": "list-apis", "status": "200"}, 1)
	if _, ok := promtext.Value(text, "go_goroutines", nil); !ok {
		t.Error("no Go runtime metrics")
	}

	host := strings.TrimSuffix(strings.TrimPrefix(m.URL(), "http://"), Path)
	if _, err := Serve(host, nil); err == nil {
		t.Error("a busy address was accepted")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", host, time.Second); err == nil {
		c.Close()
		t.Error("still listening after Close")
	}
}

// The registry passes Prometheus's own lint (names, units, help, counters ending in
// _total), with every dcrflow series and the SDK's present.
func TestRegistry_PassesPromlint(t *testing.T) {
	m := New(nil)
	m.ObserveOkta(okta.ResponseInfo{Op: "ListScopes", StatusCode: 429, Wait: 2 * time.Second})
	m.ObserveKonnect(konnect.ResponseInfo{Op: "list-apis", StatusCode: 200})
	m.BudgetRate(ratelimit.Konnect, 10)
	m.BudgetWorkers(1)
	m.BudgetWaited(ratelimit.Konnect, time.Second)
	m.BudgetDeferred(ratelimit.Konnect)
	m.Handler().WithTags(map[string]string{"namespace": "default"}).Counter("temporal_workflow_completed").Inc(1)
	m.Handler().Timer("temporal_activity_execution_latency").Record(time.Millisecond)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(families).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "dcrflow_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		} else {
			t.Logf("promlint (not dcrflow's): %s: %s", p.Metric, p.Text)
		}
	}
	if len(families) < 10 {
		t.Fatalf("only %d families gathered: the lint saw too little", len(families))
	}
}
