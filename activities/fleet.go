package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/dcrflow/dcrflow"
)

// Fleet holds what the fleet's own activities need: a Temporal client (to wait for a
// portal's run the fleet did not start, and to read the chunks of portals from the
// fleet's first run) and the data converter its payloads are written with.
type Fleet struct {
	Temporal      client.Client
	DataConverter converter.DataConverter // optional: the default one
}

// AttachedOutcome is how a portal's run that the fleet attached to ended.
type AttachedOutcome struct {
	Succeeded bool                 `json:"succeeded"`
	Failure   dcrflow.FleetFailure `json:"failure"`
}

// AwaitHeartbeat is how often AwaitPortal heartbeats while it waits.
const AwaitHeartbeat = 5 * time.Second

// AwaitPortal waits for the running onboarding of a portal (started by someone else:
// the starter's -portal, another fleet) and reports its outcome. It heartbeats while
// it waits, so a dead worker's wait is taken over by another.
func (f *Fleet) AwaitPortal(ctx context.Context, portal string) (AttachedOutcome, error) {
	if f == nil || f.Temporal == nil {
		return AttachedOutcome{}, configError("this worker has no Temporal client for the fleet's activities")
	}
	hbCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		t := time.NewTicker(AwaitHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, portal)
			}
		}
	}()
	var res dcrflow.OnboardResult
	err := f.Temporal.GetWorkflow(ctx, dcrflow.OnboardWorkflowID(portal), "").Get(ctx, &res)
	if err == nil {
		return AttachedOutcome{Succeeded: true}, nil
	}
	if ctx.Err() != nil {
		return AttachedOutcome{}, ctx.Err()
	}
	var ended *temporal.WorkflowExecutionError
	if errors.As(err, &ended) {
		out := PortalFailure(portal, err)
		out.Attached = true
		return AttachedOutcome{Failure: out}, nil
	}
	// Temporal did not answer: the wait goes on in the next attempt.
	return AttachedOutcome{}, temporal.NewApplicationErrorWithOptions(fmt.Sprintf("wait for portal %s: %v", portal, err),
		dcrflow.ErrTypeTransient, temporal.ApplicationErrorOptions{})
}

// ChunkInput names one chunk of a fleet's portals: which run holds it, which chunk.
type ChunkInput struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Index      int    `json:"index"`
}

// FleetChunk reads one chunk of a fleet's portals from the history of the fleet's
// first run, where the starter's SignalFleetChunk signals left them. The answer is
// one chunk: no payload grows with the fleet.
func (f *Fleet) FleetChunk(ctx context.Context, in ChunkInput) ([]byte, error) {
	if f == nil || f.Temporal == nil {
		return nil, configError("this worker has no Temporal client for the fleet's activities")
	}
	dc := f.DataConverter
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	it := f.Temporal.GetWorkflowHistory(ctx, in.WorkflowID, in.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for n := 0; it.HasNext(); n++ {
		ev, err := it.Next()
		if err != nil {
			return nil, temporal.NewApplicationErrorWithOptions(fmt.Sprintf("read fleet %s run %s: %v", in.WorkflowID, in.RunID, err),
				dcrflow.ErrTypeTransient, temporal.ApplicationErrorOptions{})
		}
		if n%500 == 0 {
			activity.RecordHeartbeat(ctx, n)
		}
		sig := ev.GetWorkflowExecutionSignaledEventAttributes()
		if sig == nil || sig.GetSignalName() != dcrflow.SignalFleetChunk {
			continue
		}
		var chunk dcrflow.FleetChunk
		if err := dc.FromPayloads(sig.GetInput(), &chunk); err != nil {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("fleet %s: chunk signal does not decode: %v", in.WorkflowID, err), dcrflow.ErrTypeInvalid, nil)
		}
		if chunk.Index == in.Index {
			return chunk.Packed, nil
		}
	}
	return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("fleet %s: run %s holds no chunk %d of portals (past the namespace's retention?)", in.WorkflowID, in.RunID, in.Index),
		dcrflow.ErrTypeNotFound, nil)
}

// PortalFailure reads a portal run's error: the OnboardResult it carries when it
// failed for good, else the innermost message. The message is cut to
// dcrflow.MaxFailureMessage bytes.
func PortalFailure(portal string, err error) dcrflow.FleetFailure {
	out := dcrflow.FleetFailure{Portal: portal, Message: innermost(err)}
	var app *temporal.ApplicationError
	var res dcrflow.OnboardResult
	if errors.As(err, &app) && app.Type() == dcrflow.ErrTypeOnboardFailed && app.Details(&res) == nil && res.Failure != nil {
		out.Step, out.Message = res.Failure.Step, res.Failure.Message
		out.Compensated, out.Left = len(res.CompensationErrors) == 0, res.CompensationErrors
	}
	out.Message = Truncate(out.Message, dcrflow.MaxFailureMessage)
	return out
}

// innermost is the innermost application error's message: the server's words,
// without Temporal's wrapping.
func innermost(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// Truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
