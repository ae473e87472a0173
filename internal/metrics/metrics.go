// Package metrics is the worker's Prometheus endpoint: the Temporal SDK's own metrics
// (through tally, with Prometheus naming) and dcrflow's, on one registry served at
// /metrics.
//
// dcrflow's own metrics:
//
//	dcrflow_api_requests_total{system, operation, status}      every HTTP exchange with Okta or Konnect
//	dcrflow_api_request_duration_seconds{system, operation}    its latency (histogram)
//	dcrflow_rate_limited_total{system}                         429 answers
//	dcrflow_rate_limit_wait_seconds{system}                    the wait a 429 named (histogram; _sum is the total)
//	dcrflow_portals_total{outcome, + the SDK's workflow tags}  portals by outcome (counted in workflow code)
//	dcrflow_budget_rate_per_minute{budget}                     this worker's current rate under the request budget
//	dcrflow_budget_workers                                     live workers the budgets are shared by
//	dcrflow_budget_wait_seconds_total{budget}                  time requests waited for a slot in the budget
//	dcrflow_budget_deferred_total{budget}                      requests not sent: their slot lay beyond what the step allows
//	dcrflow_sticky_cleared_total                               workflows sent back to the shared queue after the server's bug failed their task
//
// system is okta or konnect; operation is the client's operation name (ListScopes,
// create-dcr-provider), never a URL, an id or a token; status is the HTTP status, or
// "error" when no answer arrived. A request the budget deferred was never sent and
// counts only in dcrflow_budget_deferred_total. budget is okta_management, okta_dcr
// or konnect (ratelimit.System).
package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/ratelimit"
)

// Label values of the system label.
const (
	SystemOkta    = "okta"
	SystemKonnect = "konnect"
)

// Metric names.
const (
	APIRequests    = "dcrflow_api_requests_total"
	APILatency     = "dcrflow_api_request_duration_seconds"
	RateLimited    = "dcrflow_rate_limited_total"
	RateLimitWait  = "dcrflow_rate_limit_wait_seconds"
	PortalsTotal   = dcrflow.MetricPortalsTotal // counted by the workflows
	BudgetRate     = "dcrflow_budget_rate_per_minute"
	BudgetWorkers  = "dcrflow_budget_workers"
	BudgetWait     = "dcrflow_budget_wait_seconds_total"
	BudgetDeferred = "dcrflow_budget_deferred_total"
	StickyCleared  = "dcrflow_sticky_cleared_total"
	statusNoAnswer = "error"
	unknownOp      = "unknown"
)

// Path is where the metrics are served.
const Path = "/metrics"

// reportInterval is how often the SDK's metrics reach the registry (tally buffers
// counters between reports).
const reportInterval = time.Second

// Metrics holds the registry, the SDK's tally scope and dcrflow's own collectors.
// A nil *Metrics is valid and records nothing: the worker without metrics.
type Metrics struct {
	mux      *http.ServeMux // when served: Mount adds to it
	registry *prometheus.Registry
	scope    tally.Scope
	closer   io.Closer
	handler  client.MetricsHandler

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	limited  *prometheus.CounterVec
	wait     *prometheus.HistogramVec

	budgetRate     *prometheus.GaugeVec
	budgetWorkers  prometheus.Gauge
	budgetWait     *prometheus.CounterVec
	budgetDeferred *prometheus.CounterVec
	stickyCleared  prometheus.Counter

	srv       *http.Server
	url       string
	closeOnce sync.Once
	closeErr  error
}

// New builds the registry and the SDK's metrics handler without serving them.
// onError hears metrics the SDK's scope could not register (nil: they are dropped).
func New(onError func(error)) *Metrics {
	return newMetrics(onError, reportInterval)
}

func newMetrics(onError func(error), interval time.Duration) *Metrics {
	if onError == nil {
		onError = func(error) {}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:       reg,
		DefaultTimerType: tallyprom.HistogramTimerType,
		OnRegisterError:  onError,
	})
	root, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		// tally's own tally_internal_* series say nothing about dcrflow.
		OmitCardinalityMetrics: true,
	}, interval)
	scope := sdktally.NewPrometheusNamingScope(root)
	m := &Metrics{
		registry: reg,
		scope:    scope,
		closer:   closer,
		handler:  sdktally.NewMetricsHandler(scope),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: APIRequests,
			Help: "HTTP exchanges with Okta and Konnect, by system, operation and status (error: no answer)."},
			[]string{"system", "operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: APILatency,
			Help:    "Latency of HTTP exchanges with Okta and Konnect, by system and operation.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}},
			[]string{"system", "operation"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: RateLimited,
			Help: "429 (rate limited) answers from Okta and Konnect, by system."},
			[]string{"system"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: RateLimitWait,
			Help:    "The wait a 429 answer asked for (Okta X-Rate-Limit-Reset, Konnect Retry-After), by system.",
			Buckets: []float64{1, 2, 5, 10, 30, 60, 120, 300}},
			[]string{"system"}),
		budgetRate: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: BudgetRate,
			Help: "This worker's current rate under each request budget (its share, lowered when others use the org), in requests per minute."},
			[]string{"budget"}),
		budgetWorkers: prometheus.NewGauge(prometheus.GaugeOpts{Name: BudgetWorkers,
			Help: "Live workers on the task queue that share the request budgets."}),
		budgetWait: prometheus.NewCounterVec(prometheus.CounterOpts{Name: BudgetWait,
			Help: "Seconds requests waited for their slot in the request budget."},
			[]string{"budget"}),
		budgetDeferred: prometheus.NewCounterVec(prometheus.CounterOpts{Name: BudgetDeferred,
			Help: "Requests not sent because their slot in the budget lay beyond what the step allows; the step is retried then."},
			[]string{"budget"}),
		stickyCleared: prometheus.NewCounter(prometheus.CounterOpts{Name: StickyCleared,
			Help: "Workflows whose stickiness the worker cleared after the Temporal server's bug failed their task (temporalio/temporal#7741; package unstick)."}),
	}
	reg.MustRegister(m.requests, m.latency, m.limited, m.wait, m.budgetRate, m.budgetWorkers, m.budgetWait, m.budgetDeferred, m.stickyCleared)
	for _, sys := range []string{SystemOkta, SystemKonnect} { // present, at 0, before the first 429
		m.limited.WithLabelValues(sys)
	}
	return m
}

// Serve builds Metrics and serves them on addr (host:port) at Path. The address is
// bound before Serve returns, so a bad or busy one fails at start.
func Serve(addr string, onError func(error)) (*Metrics, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := New(onError)
	mux := http.NewServeMux()
	mux.Handle(Path, m.HTTPHandler())
	m.mux = mux
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	m.url = "http://" + ln.Addr().String() + Path
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && onError != nil {
			onError(err)
		}
	}()
	return m, nil
}

// URL is where the metrics are served; "" when not served.
func (m *Metrics) URL() string {
	if m == nil {
		return ""
	}
	return m.url
}

// HTTPHandler serves the registry in the Prometheus text format.
func (m *Metrics) HTTPHandler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Handler is for client.Options.MetricsHandler: the SDK's metrics, and through
// workflow.GetMetricsHandler the workflows' own. nil on a nil *Metrics (the SDK then
// records nothing).
func (m *Metrics) Handler() client.MetricsHandler {
	if m == nil {
		return nil
	}
	return m.handler
}

// Close reports what the SDK's scope still buffers and stops serving.
func (m *Metrics) Close() error {
	if m == nil {
		return nil
	}
	m.closeOnce.Do(func() {
		m.closeErr = m.closer.Close()
		if m.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			m.closeErr = errors.Join(m.closeErr, m.srv.Shutdown(ctx))
		}
	})
	return m.closeErr
}

// ObserveOkta is okta.Config.Observer.
func (m *Metrics) ObserveOkta(info okta.ResponseInfo) {
	if m == nil || deferred(info.Err) {
		return
	}
	m.observe(SystemOkta, info.Op, info.StatusCode, info.Duration, info.Wait)
}

// ObserveKonnect is konnect.Config.Observer.
func (m *Metrics) ObserveKonnect(info konnect.ResponseInfo) {
	if m == nil || deferred(info.Err) {
		return
	}
	m.observe(SystemKonnect, info.Op, info.StatusCode, info.Duration, info.Wait)
}

// observe records one exchange; wait is the delay a 429 named (0: none named).
func (m *Metrics) observe(system, op string, status int, d time.Duration, wait time.Duration) {
	if op == "" {
		op = unknownOp
	}
	code := statusNoAnswer
	if status != 0 {
		code = strconv.Itoa(status)
	}
	m.requests.WithLabelValues(system, op, code).Inc()
	m.latency.WithLabelValues(system, op).Observe(d.Seconds())
	if status == http.StatusTooManyRequests {
		m.limited.WithLabelValues(system).Inc()
		if wait > 0 {
			m.wait.WithLabelValues(system).Observe(wait.Seconds())
		}
	}
}

// deferred tells a request the budget never sent from a failed exchange.
func deferred(err error) bool {
	_, ok := ratelimit.AsBudgetError(err)
	return ok
}

var _ ratelimit.Observer = (*Metrics)(nil)

// BudgetRate is ratelimit.Observer's.
func (m *Metrics) BudgetRate(s ratelimit.System, perMinute float64) {
	if m != nil {
		m.budgetRate.WithLabelValues(string(s)).Set(perMinute)
	}
}

// BudgetWorkers is ratelimit.Observer's.
func (m *Metrics) BudgetWorkers(n int) {
	if m != nil {
		m.budgetWorkers.Set(float64(n))
	}
}

// BudgetWaited is ratelimit.Observer's.
func (m *Metrics) BudgetWaited(s ratelimit.System, d time.Duration) {
	if m != nil {
		m.budgetWait.WithLabelValues(string(s)).Add(d.Seconds())
	}
}

// BudgetDeferred is ratelimit.Observer's.
func (m *Metrics) BudgetDeferred(s ratelimit.System) {
	if m != nil {
		m.budgetDeferred.WithLabelValues(string(s)).Inc()
	}
}

// StickyCleared counts one workflow whose stickiness the worker cleared (unstick).
func (m *Metrics) StickyCleared() {
	if m != nil {
		m.stickyCleared.Inc()
	}
}
