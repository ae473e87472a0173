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

// WorkerDesk is a long-lived workflow per task queue (dcrflow.WorkerDeskID) that
// answers the starter's preflight: each UpdateWorkerInfo runs the WorkerInfo
// activity on a worker and returns its answer. One workflow serves every starter,
// so asking leaves nothing behind in the namespace's list; it continues as new after
// many questions to keep its history small.
func WorkerDesk(ctx workflow.Context) error {
	answered := 0
	err := workflow.SetUpdateHandler(ctx, dcrflow.UpdateWorkerInfo, func(ctx workflow.Context) (dcrflow.WorkerInfo, error) {
		answered++
		return WorkerInfo(ctx) // the same question, asked from here
	})
	if err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool {
		return (answered >= deskAnswersPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested()) && workflow.AllHandlersFinished(ctx)
	}); err != nil {
		return err
	}
	return workflow.NewContinueAsNewError(ctx, WorkerDesk)
}

// deskAnswersPerRun bounds one run of WorkerDesk (about 10 events per answer).
const deskAnswersPerRun = 200
