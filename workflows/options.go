package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
)

// StepTimeout bounds one attempt of a step (a few HTTP calls). It is also how fast a
// dead worker's step is handed to another worker.
const StepTimeout = 10 * time.Second

// StepDeadline bounds a step with all its retries; transient faults longer than this
// fail the portal (and undo it).
const StepDeadline = 10 * time.Minute

// ValidateHeartbeatTimeout: validation makes several calls and heartbeats between
// them, so a dead worker or a hung call is noticed within this.
const ValidateHeartbeatTimeout = 10 * time.Second

// nonRetryable lists the error types that a retry cannot fix; activities also mark
// them non-retryable, this keeps the policy honest if one forgets.
var nonRetryable = []string{dcrflow.ErrTypeNotFound, dcrflow.ErrTypeConflict, dcrflow.ErrTypeInvalid,
	dcrflow.ErrTypeUnauthorized, dcrflow.ErrTypeConfig, dcrflow.ErrTypeValidation, dcrflow.ErrTypeAccessPolicy, dcrflow.ErrTypeClient}

// stepOptions: transient faults are retried with backoff (or after the server's
// rate-limit reset) until StepDeadline. WaitForCancellation: on cancel the workflow
// waits for the attempt in flight, so whatever it created is known before undoing.
var stepOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    StepTimeout,
	ScheduleToCloseTimeout: StepDeadline,
	WaitForCancellation:    true,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        30 * time.Second,
		NonRetryableErrorTypes: nonRetryable,
	},
}

// validateOptions: registration, JWKS, token and deletion in one attempt, heartbeating.
var validateOptions = func() workflow.ActivityOptions {
	o := stepOptions
	o.StartToCloseTimeout = time.Minute
	o.HeartbeatTimeout = ValidateHeartbeatTimeout
	return o
}()

// verifyOptions: Konnect's verify spends two calls of the Okta DCR budget, the one
// that binds first on a real org; the attempt waits its turn in that budget,
// heartbeating (activities.patient), instead of being deferred after StepTimeout.
var verifyOptions = validateOptions

// undoOptions: compensation must get through, so it retries longer than a step.
var undoOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    StepTimeout,
	ScheduleToCloseTimeout: 30 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        30 * time.Second,
		NonRetryableErrorTypes: []string{dcrflow.ErrTypeConflict, dcrflow.ErrTypeInvalid, dcrflow.ErrTypeUnauthorized, dcrflow.ErrTypeConfig, dcrflow.ErrTypeClient},
	},
}

// resolveOptions: step 1 resolves every API of the portal in one attempt, which
// heartbeats once per API; the attempt's time grows with the APIs (a step's time
// each), a dead worker is noticed within StepTimeout whatever their number.
func resolveOptions(apis int) workflow.ActivityOptions {
	o := stepOptions
	o.HeartbeatTimeout = StepTimeout
	o.StartToCloseTimeout = min(StepTimeout*time.Duration(1+apis), StepDeadline)
	return o
}
