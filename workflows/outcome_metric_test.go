package workflows

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/internal/metrics"
	"github.com/dcrflow/dcrflow/internal/metrics/promtext"
)

func outcomeWorkflow(ctx workflow.Context, outcome dcrflow.Outcome) error {
	countOutcome(ctx, outcome)
	return nil
}

// countOutcome works on the handler of workflow.GetMetricsHandler and counts each
// outcome under its own label.
func TestCountOutcome_OneSeriesPerOutcome(t *testing.T) {
	m := metrics.New(nil)
	for _, outcome := range []dcrflow.Outcome{dcrflow.OutcomeSucceeded, dcrflow.OutcomeSucceeded, dcrflow.OutcomeCompensated} {
		var s testsuite.WorkflowTestSuite
		s.SetMetricsHandler(m.Handler())
		env := s.NewTestWorkflowEnvironment()
		env.RegisterWorkflow(outcomeWorkflow)
		env.ExecuteWorkflow(outcomeWorkflow, outcome)
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
	}
	text := scrapeClosed(t, m)
	mustCount(t, text, map[string]string{"outcome": "succeeded"}, 2)
	mustCount(t, text, map[string]string{"outcome": "compensated"}, 1)
	if _, ok := promtext.Value(text, dcrflow.MetricPortalsTotal, map[string]string{"outcome": "failed"}); ok {
		t.Error("an outcome never counted appears")
	}
}

var replayedCalls atomic.Int32

// replayedOutcome counts its outcome first, then makes three more workflow tasks:
// with no sticky cache each of them replays the history from the start, and with it
// the countOutcome call.
func replayedOutcome(ctx workflow.Context) error {
	replayedCalls.Add(1)
	countOutcome(ctx, "succeeded")
	for range 3 {
		if err := workflow.Sleep(ctx, time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// On a real server and worker, a portal is counted once however often its workflow
// code runs again in replay, and the counter carries the workflow's tags (sanitized
// for Prometheus, as the SDK's own metrics are).
func TestCountOutcome_CountedOnceAcrossReplays(t *testing.T) {
	srv := devserver.Start(t)
	worker.SetStickyWorkflowCacheSize(0)           // every workflow task replays the history
	defer worker.SetStickyWorkflowCacheSize(10000) // the SDK's default, for the tests after this one
	m := metrics.New(func(err error) { t.Errorf("metrics: %v", err) })
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: "default", MetricsHandler: m.Handler(), Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, "metrics-replay", worker.Options{})
	w.RegisterWorkflow(replayedOutcome)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "metrics-replay", TaskQueue: "metrics-replay"}, replayedOutcome)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	w.Stop()
	if n := replayedCalls.Load(); n < 2 {
		t.Fatalf("the workflow code ran %d time(s): no replay happened, the test proves nothing", n)
	}
	text := scrapeClosed(t, m)
	mustCount(t, text, map[string]string{"outcome": "succeeded", "workflow_type": "replayedOutcome",
		"task_queue": "metrics_replay", "namespace": "default"}, 1) // tally sanitizes '-' to '_'
}

// scrapeClosed closes m (reporting what tally buffered) and reads its registry.
func scrapeClosed(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.HTTPHandler().ServeHTTP(rec, httptest.NewRequest("GET", metrics.Path, nil))
	return rec.Body.String()
}

func mustCount(t *testing.T, text string, want map[string]string, expect float64) {
	t.Helper()
	if got, ok := promtext.Value(text, dcrflow.MetricPortalsTotal, want); !ok || got != expect {
		t.Errorf("%v (found %v), want %v: %s", got, ok, expect, promtext.Describe(text, dcrflow.MetricPortalsTotal, want))
	}
}
