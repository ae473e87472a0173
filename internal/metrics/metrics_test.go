package metrics

import (
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

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

// value sums the samples of name whose labels include want; ok says any matched.
func value(text, name string, want map[string]string) (sum float64, ok bool) {
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		series, raw := line[:i], line[i+1:]
		n, labels, _ := strings.Cut(series, "{")
		if n != name {
			continue
		}
		have := map[string]string{}
		for _, kv := range strings.Split(strings.TrimSuffix(labels, "}"), ",") {
			if k, v, found := strings.Cut(kv, "="); found {
				have[k] = strings.Trim(v, `"`)
			}
		}
		match := true
		for k, v := range want {
			match = match && have[k] == v
		}
		if !match {
			continue
		}
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			continue
		}
		sum, ok = sum+f, true
	}
	return sum, ok
}

func mustValue(t *testing.T, text, name string, want map[string]string, expect float64) {
	t.Helper()
	got, ok := value(text, name, want)
	if !ok || math.Abs(got-expect) > 1e-9 {
		t.Errorf("%s%v = %v (found %v), want %v", name, want, got, ok, expect)
	}
}

func TestObserveKonnect_CountsCallsAnd429Waits(t *testing.T) {
	m := New(nil)
	defer m.Close()
	m.ObserveKonnect(konnect.ResponseInfo{Method: "POST", Op: "create-dcr-provider", StatusCode: 201, Duration: 30 * time.Millisecond})
	m.ObserveKonnect(konnect.ResponseInfo{Method: "POST", Op: "create-dcr-provider", StatusCode: 201, Duration: 20 * time.Millisecond})
	m.ObserveKonnect(konnect.ResponseInfo{Method: "POST", Op: "create-dcr-provider", StatusCode: 429,
		Header: http.Header{"Retry-After": {"3"}}, Duration: time.Millisecond})
	// No Retry-After: the sandbox's RateLimit-Reset stands in, as in the client.
	m.ObserveKonnect(konnect.ResponseInfo{Method: "GET", Op: "list-portals", StatusCode: 429,
		Header: http.Header{"Ratelimit-Reset": {"2"}}})
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
	now := time.Unix(1_700_000_000, 0)
	m.now = func() time.Time { return now }
	m.ObserveOkta(okta.ResponseInfo{Op: "ListScopes", Method: "GET", StatusCode: 200, Duration: 10 * time.Millisecond})
	m.ObserveOkta(okta.ResponseInfo{Op: "CreateScope", Method: "POST", StatusCode: 429,
		RateLimit: okta.RateLimit{Limit: 100, Reset: now.Add(7 * time.Second)}})
	// A reset already past: at least a second, as the client hands Temporal.
	m.ObserveOkta(okta.ResponseInfo{Op: "CreateScope", Method: "POST", StatusCode: 429,
		RateLimit: okta.RateLimit{Reset: now.Add(-time.Second)}})
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
	PortalOutcome(nil, "succeeded")
}

func outcomeWorkflow(ctx workflow.Context, outcome string) error {
	PortalOutcome(workflow.GetMetricsHandler(ctx), outcome)
	return nil
}

// PortalOutcome works on the handler a workflow gets from workflow.GetMetricsHandler
// and counts each outcome under its own label.
func TestPortalOutcome_FromWorkflowContext(t *testing.T) {
	m := New(nil)
	for _, outcome := range []string{"succeeded", "succeeded", "compensated"} {
		var s testsuite.WorkflowTestSuite
		s.SetMetricsHandler(m.Handler())
		env := s.NewTestWorkflowEnvironment()
		env.RegisterWorkflow(outcomeWorkflow)
		env.ExecuteWorkflow(outcomeWorkflow, outcome)
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil { // reports what tally buffered
		t.Fatal(err)
	}
	text := scrape(t, m)
	mustValue(t, text, PortalsTotal, map[string]string{"outcome": "succeeded"}, 2)
	mustValue(t, text, PortalsTotal, map[string]string{"outcome": "compensated"}, 1)
	if _, ok := value(text, PortalsTotal, map[string]string{"outcome": "failed"}); ok {
		t.Error("an outcome never counted appears")
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
		if v, _ := value(text, "temporal_workflow_completed_total", nil); v > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mustValue(t, text, "temporal_workflow_completed_total", map[string]string{"namespace": "default"}, 1)
	mustValue(t, text, "temporal_activity_execution_latency_seconds_count", nil, 1)
	mustValue(t, text, APIRequests, map[string]string{"system": "konnect", "operation": "list-apis", "status": "200"}, 1)
	if _, ok := value(text, "go_goroutines", nil); !ok {
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
