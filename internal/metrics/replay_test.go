package metrics

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow/internal/devserver"
)

var replayedCalls atomic.Int32

// replayedOutcome counts its outcome first, then makes three more workflow tasks:
// with no sticky cache each of them replays the history from the start, and with it
// the PortalOutcome call.
func replayedOutcome(ctx workflow.Context) error {
	replayedCalls.Add(1)
	PortalOutcome(workflow.GetMetricsHandler(ctx), "succeeded")
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
func TestPortalOutcome_CountedOnceAcrossReplays(t *testing.T) {
	srv := devserver.Start(t)
	worker.SetStickyWorkflowCacheSize(0) // every workflow task replays the history
	m := New(func(err error) { t.Errorf("metrics: %v", err) })
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
	if err := m.Close(); err != nil { // reports what tally buffered
		t.Fatal(err)
	}
	if n := replayedCalls.Load(); n < 2 {
		t.Fatalf("the workflow code ran %d time(s): no replay happened, the test proves nothing", n)
	}
	text := scrape(t, m)
	mustValue(t, text, PortalsTotal, map[string]string{"outcome": "succeeded", "workflow_type": "replayedOutcome",
		"task_queue": "metrics_replay", "namespace": "default"}, 1) // tally sanitizes '-' to '_'
	if t.Failed() {
		t.Log(metricsLines(text, PortalsTotal))
	}
}

func metricsLines(text, name string) string {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, name) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
