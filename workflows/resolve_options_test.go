package workflows

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

// Step 1 resolves every API of the portal in one attempt: its attempt grows with the
// APIs (a step's time each) and it must heartbeat (within StepTimeout), so a portal
// with many APIs is not cut off after 10 s while a dead worker is still noticed fast.
func TestOnboardPortal_ResolveGetsTimeForEachAPIAndAHeartbeatTimeout(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	var info *activity.Info
	env.SetOnActivityStartedListener(func(i *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if i.ActivityType.Name == "ResolveTargets" {
			info = i
		}
	})
	env.OnActivity(a.ResolveTargets, mock.Anything, mock.Anything).Return(activities.Targets{},
		temporal.NewNonRetryableApplicationError("stop here", dcrflow.ErrTypeNotFound, nil))
	many := spec
	many.APIs = nil
	for i := range 30 {
		many.APIs = append(many.APIs, dcrflow.APISpec{API: fmt.Sprintf("api-%d", i), Visibility: "public"})
	}
	env.ExecuteWorkflow(OnboardPortal, many)
	if info == nil {
		t.Fatal("ResolveTargets never started")
	}
	if info.HeartbeatTimeout != StepTimeout {
		t.Errorf("heartbeat timeout = %v, want %v", info.HeartbeatTimeout, StepTimeout)
	}
	if d := info.Deadline.Sub(info.StartedTime); d < 30*StepTimeout || d > StepDeadline {
		t.Errorf("attempt time = %v, want a step's time per API (%v), at most %v", d, 31*StepTimeout, StepDeadline)
	}
}
