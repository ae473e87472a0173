package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
)

// WorkerInfo asks a worker of the task queue what it can serve (the names of its DCR
// tokens), so that the starter refuses a file naming a token no worker holds before
// any portal starts.
func WorkerInfo(ctx workflow.Context) (dcrflow.WorkerInfo, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	var info dcrflow.WorkerInfo
	err := workflow.ExecuteActivity(ctx, a.WorkerInfo).Get(ctx, &info)
	return info, err
}
