package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
)

// nonRetryable lists the error types that a retry cannot fix; activities also mark
// them non-retryable, this keeps the policy honest if one forgets.
var nonRetryable = []string{dcrflow.ErrTypeNotFound, dcrflow.ErrTypeConflict, dcrflow.ErrTypeInvalid,
	dcrflow.ErrTypeUnauthorized, dcrflow.ErrTypeConfig, dcrflow.ErrTypeValidation}

// stepOptions: one HTTP call or a few per attempt; transient faults are retried with
// backoff (or after the server's rate-limit reset) for up to ten minutes per step.
var stepOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 10 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: nonRetryable,
	},
}

// validateOptions: registration, token, JWKS and deletion in one attempt.
var validateOptions = func() workflow.ActivityOptions {
	o := stepOptions
	o.StartToCloseTimeout = 2 * time.Minute
	return o
}()

// undoOptions: compensation must get through, so it retries longer than a step.
var undoOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 30 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: []string{dcrflow.ErrTypeConflict, dcrflow.ErrTypeInvalid, dcrflow.ErrTypeUnauthorized, dcrflow.ErrTypeConfig},
	},
}
