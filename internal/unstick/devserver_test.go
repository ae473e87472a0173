package unstick_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/internal/logging"
	"github.com/dcrflow/dcrflow/internal/unstick"
)

// counter is an entity workflow that takes updates, as the usage records do.
func counter(ctx workflow.Context) error {
	n := 0
	if err := workflow.SetUpdateHandler(ctx, "add", func(ctx workflow.Context, x int) (int, error) { n += x; return n, nil }); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return false })
}

// The dev server (1.29) has temporalio/temporal#7741: a worker whose cache holds one
// workflow fails the first update task of each other workflow it turns to. The real
// SDK's line for that failure must reach the Unsticker, whose clear the real server
// must take, and every update must still land.
func TestUnsticker_ClearsTheWorkflowsTheServersBugFailsOnADevServer(t *testing.T) {
	srv := devserver.Start(t)
	worker.SetStickyWorkflowCacheSize(2) // holds one workflow: each switch evicts
	core, logs := observer.New(zapcore.DebugLevel)
	tl := logging.Temporal(zap.New(core))
	u := unstick.New(tl)
	var cleared atomic.Int64
	u.Cleared = func() { cleared.Add(1) }
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: "default", Logger: u.Logger(tl)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go u.Run(ctx, unstick.Reset(c, "default"))
	w := worker.New(c, "unstick", worker.Options{})
	w.RegisterWorkflowWithOptions(counter, workflow.RegisterOptions{Name: "counter"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	ids := []string{"count-a", "count-b", "count-c"}
	for _, id := range ids {
		if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "unstick"}, "counter"); err != nil {
			t.Fatal(err)
		}
	}
	const rounds = 4
	for i := range rounds * len(ids) {
		id := ids[i%len(ids)]
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: "add", Args: []any{1},
			WaitForStage: client.WorkflowUpdateStageCompleted})
		var n int
		if err == nil {
			err = h.Get(ctx, &n)
		}
		if err != nil {
			t.Fatalf("update %d of %s: %v", i, id, err)
		}
		if want := i/len(ids) + 1; n != want {
			t.Fatalf("%s counted %d after update %d, want %d: an update was lost or applied twice", id, n, i, want)
		}
	}
	failedTasks := logs.FilterMessage("Failed to process workflow task.").All()
	bug := 0
	for _, e := range failedTasks {
		if strings.Contains(fmt.Sprint(e.ContextMap()["Error"]), "premature end of stream") {
			bug++
		}
	}
	if bug == 0 {
		t.Fatalf("no task failed with the server's bug (%d failed otherwise): either the pinned server has the fix (then package unstick can go) or the cache no longer evicts, and this test proves nothing", len(failedTasks))
	}
	for deadline := time.Now().Add(10 * time.Second); cleared.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d tasks failed with the bug and no stickiness was cleared; log: %v", bug, logs.FilterMessageSnippet("stickiness").All())
		}
	}
	t.Logf("%d tasks failed with the bug, %d clears", bug, cleared.Load())
}
