// Package unstick works around a Temporal server bug (temporalio/temporal#7741, fixed
// in server 1.31): once a worker has dropped a workflow from its cache, an update's
// speculative workflow task that reaches it on its sticky queue cannot be replayed. The
// history the worker reads back lacks the task's own events, so the task fails
// ("premature end of stream"), the updates it carried are retried, and their next task
// takes the same path. A usage record under a steady flow of joins can fail this way
// hundreds of times in a row, replaying itself each time.
//
// The SDK reports each such failure to its logger and nowhere else, so Logger watches
// the lines it passes on: after one, it clears that workflow's stickiness. Its next task
// goes to the shared queue, with the whole history, and the worker takes it up again.
package unstick

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// The SDK's line for a workflow task it failed, its keys, and the bug's signature.
const (
	failedTask   = "Failed to process workflow task."
	keyWorkflow  = "WorkflowID"
	keyRun       = "RunID"
	keyError     = "Error"
	bugSignature = "premature end of stream"
)

// Defaults: how often one workflow's stickiness may be cleared, how many clears may
// wait, and how long one may take.
const (
	DefaultEvery   = 250 * time.Millisecond
	DefaultPending = 64
	resetTimeout   = 5 * time.Second
)

// ResetFunc clears one workflow run's stickiness (the frontend's ResetStickyTaskQueue).
type ResetFunc func(ctx context.Context, workflowID, runID string) error

// Reset is ResetFunc through c's frontend, in namespace.
func Reset(c client.Client, namespace string) ResetFunc {
	return func(ctx context.Context, workflowID, runID string) error {
		_, err := c.WorkflowService().ResetStickyTaskQueue(ctx, &workflowservice.ResetStickyTaskQueueRequest{Namespace: namespace,
			Execution: &commonpb.WorkflowExecution{WorkflowId: workflowID, RunId: runID}})
		return err
	}
}

// Unsticker clears the stickiness of the workflows whose tasks failed with the bug.
// Clears are asynchronous (the SDK's logger must not block), at most one per workflow
// per Every, and dropped when Pending are already waiting: the next failure asks again.
type Unsticker struct {
	Every   time.Duration
	Pending int
	// Cleared hears each clear that succeeded (a metric); nil is fine.
	Cleared func()

	log   log.Logger // where the clears are reported: the wrapped logger
	once  sync.Once
	queue chan run

	mu   sync.Mutex
	last map[string]time.Time // workflow ID → last clear asked for
}

type run struct{ workflowID, runID string }

// New returns an Unsticker that reports its clears to l. Wrap l with Logger, give the
// result to the Temporal client, then Run the Unsticker with that client's reset.
func New(l log.Logger) *Unsticker {
	return &Unsticker{Every: DefaultEvery, Pending: DefaultPending, log: l, last: map[string]time.Time{}}
}

func (u *Unsticker) init() {
	u.once.Do(func() {
		if u.Pending <= 0 {
			u.Pending = DefaultPending
		}
		u.queue = make(chan run, u.Pending)
	})
}

// Logger wraps l: every line goes through to it unchanged, and a failed workflow task
// with the bug's signature asks u to clear that workflow's stickiness.
func (u *Unsticker) Logger(l log.Logger) log.Logger {
	u.init()
	return &logger{Logger: log.Skip(l, 1), u: u}
}

// Run clears stickiness with reset until ctx ends.
func (u *Unsticker) Run(ctx context.Context, reset ResetFunc) {
	u.init()
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-u.queue:
			rctx, cancel := context.WithTimeout(ctx, resetTimeout)
			err := reset(rctx, r.workflowID, r.runID)
			cancel()
			if err != nil {
				u.log.Warn("could not clear a workflow's stickiness after its task failed (temporalio/temporal#7741); its next failure asks again",
					keyWorkflow, r.workflowID, keyRun, r.runID, keyError, err)
				continue
			}
			if u.Cleared != nil {
				u.Cleared()
			}
			u.log.Info("cleared a workflow's stickiness after its task failed (temporalio/temporal#7741): its next task carries its whole history",
				keyWorkflow, r.workflowID, keyRun, r.runID)
		}
	}
}

// failed looks at a failed task's line and queues a clear when it is the bug's.
func (u *Unsticker) failed(keyvals []any) {
	var wf, rn, errText string
	for i := 0; i+1 < len(keyvals); i += 2 {
		k, _ := keyvals[i].(string)
		switch k {
		case keyWorkflow:
			wf = fmt.Sprint(keyvals[i+1])
		case keyRun:
			rn = fmt.Sprint(keyvals[i+1])
		case keyError:
			errText = fmt.Sprint(keyvals[i+1])
		}
	}
	if wf == "" || !strings.Contains(errText, bugSignature) || !u.due(wf, time.Now()) {
		return
	}
	select {
	case u.queue <- run{workflowID: wf, runID: rn}:
	default: // enough clears are waiting; this workflow's next failure asks again
		u.forget(wf)
	}
}

// due says whether wf may be cleared now, and if so notes it; the map is swept of
// entries older than Every when it grows, so it stays as small as the failing set.
func (u *Unsticker) due(wf string, now time.Time) bool {
	every := u.Every
	if every <= 0 {
		every = DefaultEvery
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if t, ok := u.last[wf]; ok && now.Sub(t) < every {
		return false
	}
	if len(u.last) >= 4*u.Pending {
		for k, t := range u.last {
			if now.Sub(t) >= every {
				delete(u.last, k)
			}
		}
	}
	u.last[wf] = now
	return true
}

func (u *Unsticker) forget(wf string) {
	u.mu.Lock()
	delete(u.last, wf)
	u.mu.Unlock()
}

// logger is the SDK's logger with the Unsticker listening.
type logger struct {
	log.Logger
	u *Unsticker
}

// Each method adds one frame, which Logger's Skip takes back.
func (l *logger) Debug(msg string, keyvals ...any) { l.Logger.Debug(msg, keyvals...) }
func (l *logger) Info(msg string, keyvals ...any)  { l.Logger.Info(msg, keyvals...) }
func (l *logger) Error(msg string, keyvals ...any) { l.Logger.Error(msg, keyvals...) }

func (l *logger) Warn(msg string, keyvals ...any) {
	l.Logger.Warn(msg, keyvals...)
	if msg == failedTask {
		l.u.failed(keyvals)
	}
}

// With keeps the Unsticker listening on the child loggers the SDK makes.
func (l *logger) With(keyvals ...any) log.Logger {
	return &logger{Logger: log.With(l.Logger, keyvals...), u: l.u}
}

// WithCallerSkip keeps the callers the lines name those of the SDK.
func (l *logger) WithCallerSkip(depth int) log.Logger {
	return &logger{Logger: log.Skip(l.Logger, depth), u: l.u}
}
