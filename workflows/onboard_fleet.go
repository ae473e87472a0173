package workflows

import (
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

// Fleet defaults.
const (
	DefaultMaxConcurrent      = 10
	DefaultContinueAsNewAfter = 500
)

// fleetBounded versions what OnboardFleet does since fleets of any size are bounded:
// the preflight step, attaching to a portal already running, chunks of portals.
// Runs recorded before it replay as they were.
const fleetBounded = "fleet-bounded"

// fl is the fleet's own activities, called through a nil pointer like a.
var fl *activities.Fleet

// OnboardFleet onboards many portals, each as a child OnboardPortal workflow with the
// portal's own id, at most MaxConcurrent at once. A portal's failure never stops the
// others; a portal already running (started by someone else) is waited for, not
// counted as failed. After ContinueAsNewAfter children it waits for the running ones
// and continues as new with the rest, carrying counts and the first failures only,
// so no portal is lost and neither history nor payloads grow with the fleet.
//
// The portals come in chunks: the first in the input, the others as
// SignalFleetChunk signals, which later runs read back from the first run's history
// (activities.Fleet.FleetChunk). When asked (TokenNames), its first step asks a
// worker for its DCR tokens and refuses the fleet, starting nothing, when one is
// missing.
func OnboardFleet(ctx workflow.Context, in dcrflow.FleetInput) (dcrflow.FleetSummary, error) {
	version := workflow.GetVersion(ctx, fleetBounded, workflow.DefaultVersion, 1)
	if in.MaxConcurrent <= 0 {
		in.MaxConcurrent = DefaultMaxConcurrent
	}
	if in.ContinueAsNewAfter <= 0 {
		in.ContinueAsNewAfter = DefaultContinueAsNewAfter
	}
	f := &fleet{in: in, sum: foldLegacy(in.Summary), version: version, chunks: map[int][]byte{}, nextChunk: max(in.NextChunk, 1),
		chunkRun: in.ChunkRun}
	if len(in.Packed) > 0 {
		specs, err := dcrflow.UnpackPortals(in.Packed)
		if err != nil {
			return f.sum, temporal.NewNonRetryableApplicationError("fleet input: "+err.Error(), dcrflow.ErrTypeInvalid, err)
		}
		f.queue = append(specs, in.Portals...)
	} else {
		f.queue = in.Portals
	}
	if f.sum.Total == 0 && in.Chunks == 0 {
		f.sum.Total = len(f.queue)
	}
	if f.chunkRun == "" && in.Chunks > 1 {
		f.chunkRun = workflow.GetInfo(ctx).WorkflowExecution.RunID // this run receives them
		f.receiving = true
	}
	if err := workflow.SetQueryHandler(ctx, dcrflow.QueryProgress, f.progress); err != nil {
		return f.sum, err
	}
	if version >= 1 {
		if err := workflow.SetQueryHandler(ctx, dcrflow.QueryFleetFailures, f.failures); err != nil {
			return f.sum, err
		}
		// Chunks are taken in as they come; duplicates (a starter run again) are ignored.
		ch := workflow.GetSignalChannel(ctx, dcrflow.SignalFleetChunk)
		workflow.Go(ctx, func(ctx workflow.Context) {
			for {
				var c dcrflow.FleetChunk
				ch.Receive(ctx, &c)
				if _, dup := f.chunks[c.Index]; f.receiving && !dup && c.Index > 0 && c.Index < in.Chunks {
					f.chunks[c.Index] = c.Packed
				}
			}
		})
	}
	workflow.SetCurrentDetails(ctx, f.details())

	if version >= 1 && len(in.TokenNames) > 0 {
		if err := f.preflight(ctx); err != nil {
			return f.sum, err
		}
	}

	sel := workflow.NewSelector(ctx)
	started := 0
	for {
		for len(f.running) < in.MaxConcurrent && ctx.Err() == nil && (started < in.ContinueAsNewAfter || !f.allReceived()) {
			spec, ok, err := f.next(ctx)
			if err != nil {
				return f.sum, err
			}
			if !ok {
				break
			}
			if !f.spaced(ctx) {
				break // canceled
			}
			f.start(ctx, sel, spec)
			started++
		}
		if len(f.running) == 0 {
			break
		}
		sel.Select(ctx)
		workflow.SetCurrentDetails(ctx, f.details())
	}
	if ctx.Err() != nil {
		return f.sum, temporal.NewCanceledError(fmt.Sprintf("fleet canceled with %d portal(s) not finished", f.sum.Total-f.sum.Done()))
	}
	if len(f.queue) > 0 || f.nextChunk < in.Chunks {
		rest := in
		packed, err := dcrflow.PackPortals(f.queue)
		if err != nil {
			return f.sum, err
		}
		rest.Portals, rest.Packed, rest.Summary, rest.TokenNames = nil, packed, f.sum, nil
		if len(f.queue) == 0 {
			rest.Packed = nil
		}
		rest.NextChunk, rest.ChunkRun = f.nextChunk, f.chunkRun
		return f.sum, workflow.NewContinueAsNewError(ctx, OnboardFleet, rest)
	}
	return f.sum, nil
}

type fleet struct {
	in        dcrflow.FleetInput
	sum       dcrflow.FleetSummary
	version   workflow.Version
	running   []string
	queue     []dcrflow.PortalSpec // portals of the chunk being started
	nextChunk int                  // the next chunk to take (chunk 0 is the input's)
	chunkRun  string               // the run whose history holds the chunks
	receiving bool                 // this run is chunkRun: chunks arrive here
	chunks    map[int][]byte       // chunks received, not yet taken
	taken     int                  // chunks taken from chunks (for allReceived)
	checked   *dcrflow.Preflight
	lastStart time.Time // of the last child (StartInterval)
}

// foldLegacy turns the summary of a fleet started before counts (every portal by
// name) into counts and kept failures.
func foldLegacy(s dcrflow.FleetSummary) dcrflow.FleetSummary {
	s.Succeeded += len(s.SucceededKeys)
	s.Failed += len(s.FailedList)
	for _, fail := range s.FailedList {
		if len(s.Failures) < dcrflow.MaxFleetFailures {
			s.Failures = append(s.Failures, fail)
		}
	}
	s.SucceededKeys, s.FailedList = nil, nil
	return s
}

// allReceived tells whether every chunk the fleet waits for has come: the run that
// receives them does not continue as new before (their signals are in its history).
func (f *fleet) allReceived() bool {
	return !f.receiving || len(f.chunks)+f.taken >= f.in.Chunks-1
}

// next is the next portal to start, taking the next chunk when the one at hand is
// done: from the signals this run received, or read back from the run that did.
func (f *fleet) next(ctx workflow.Context) (dcrflow.PortalSpec, bool, error) {
	for len(f.queue) == 0 {
		if f.nextChunk >= f.in.Chunks {
			return dcrflow.PortalSpec{}, false, nil
		}
		var packed []byte
		if f.receiving {
			i := f.nextChunk
			if err := workflow.Await(ctx, func() bool { _, ok := f.chunks[i]; return ok }); err != nil {
				return dcrflow.PortalSpec{}, false, nil // canceled: the caller sees ctx.Err()
			}
			packed = f.chunks[i]
			delete(f.chunks, i)
			f.taken++
		} else {
			actx := workflow.WithActivityOptions(ctx, chunkOptions)
			actx = withSummary(actx, fmt.Sprintf("Read chunk %d of %d of fleet %s's portals", f.nextChunk+1, f.in.Chunks, f.in.Name))
			err := workflow.ExecuteActivity(actx, fl.FleetChunk, activities.ChunkInput{
				WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, RunID: f.chunkRun, Index: f.nextChunk}).Get(ctx, &packed)
			if err != nil {
				if ctx.Err() != nil {
					return dcrflow.PortalSpec{}, false, nil
				}
				return dcrflow.PortalSpec{}, false, err
			}
		}
		specs, err := dcrflow.UnpackPortals(packed)
		if err != nil {
			return dcrflow.PortalSpec{}, false, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("fleet chunk %d: %v", f.nextChunk, err), dcrflow.ErrTypeInvalid, err)
		}
		f.queue = specs
		f.nextChunk++
	}
	spec := f.queue[0]
	f.queue = f.queue[1:]
	return spec, true, nil
}

// preflight asks a worker for its DCR tokens; a fleet naming one it lacks fails at
// once, having started nothing.
func (f *fleet) preflight(ctx workflow.Context) error {
	actx := workflow.WithActivityOptions(ctx, preflightOptions)
	actx = withSummary(actx, "Preflight: ask a worker for its DCR token names")
	var info dcrflow.WorkerInfo
	if err := workflow.ExecuteActivity(actx, a.WorkerInfo).Get(ctx, &info); err != nil {
		return err
	}
	p := &dcrflow.Preflight{Worker: info}
	for _, name := range f.in.TokenNames {
		if !slices.Contains(info.DCRTokenNames, dcrflow.DCRTokenName(name)) {
			p.Missing = append(p.Missing, name)
		}
	}
	f.checked = p
	if len(p.Missing) > 0 {
		var vars []string
		for _, m := range p.Missing {
			vars = append(vars, dcrflow.DCRTokenEnv(m))
		}
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("fleet %s refused, no portal started: the worker has no DCR token named %v (it has: %v); set %v on the worker",
			f.in.Name, p.Missing, info.DCRTokenNames, vars), dcrflow.ErrTypeConfig, nil)
	}
	return nil
}

// chunkOptions: reading a chunk back pages through the first run's history.
var chunkOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Minute,
	HeartbeatTimeout:    20 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
		NonRetryableErrorTypes: []string{dcrflow.ErrTypeNotFound, dcrflow.ErrTypeInvalid, dcrflow.ErrTypeConfig}},
}

// preflightOptions: one quick answer from any worker.
var preflightOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    5 * time.Second,
	ScheduleToCloseTimeout: 10 * time.Minute,
	RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 10 * time.Second},
}

// awaitOptions: waiting for a portal's run lasts as long as that run (a held run may
// wait for days); heartbeats tell a dead worker's wait from a long one.
var awaitOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Hour,
	HeartbeatTimeout:    30 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second},
}

// spaced waits until StartInterval has passed since the last start (a timer, only
// when it has not), and says whether the fleet goes on (false: canceled).
func (f *fleet) spaced(ctx workflow.Context) bool {
	if f.in.StartInterval > 0 && !f.lastStart.IsZero() {
		if wait := f.lastStart.Add(f.in.StartInterval).Sub(workflow.Now(ctx)); wait > 0 {
			if err := workflow.Sleep(ctx, wait); err != nil {
				return false
			}
		}
	}
	f.lastStart = workflow.Now(ctx)
	return true
}

// start launches one portal's child and registers what to do when it ends.
func (f *fleet) start(ctx workflow.Context, sel workflow.Selector, spec dcrflow.PortalSpec) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            dcrflow.OnboardWorkflowID(spec.Key),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		// Canceling the fleet cancels its portals, which then undo their work.
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		StaticSummary:     fmt.Sprintf("Onboard portal %s to Okta DCR (server %s), fleet %s", spec.Portal, spec.AuthServer, f.in.Name),
	})
	f.running = append(f.running, spec.Key)
	future := workflow.ExecuteChildWorkflow(cctx, OnboardPortal, spec)
	sel.AddFuture(future, func(fu workflow.Future) {
		var res dcrflow.OnboardResult
		err := fu.Get(ctx, &res)
		if err != nil && f.version >= 1 && temporal.IsWorkflowExecutionAlreadyStartedError(err) && ctx.Err() == nil {
			f.attach(ctx, sel, spec.Key)
			return
		}
		f.ended(spec.Key, err)
	})
}

// attach waits for a portal's run that someone else started (the README's promise:
// starting a running portal attaches to it) and counts its outcome.
func (f *fleet) attach(ctx workflow.Context, sel workflow.Selector, key string) {
	actx := workflow.WithActivityOptions(ctx, awaitOptions)
	actx = withSummary(actx, "Wait for portal "+key+", already running")
	future := workflow.ExecuteActivity(actx, fl.AwaitPortal, key)
	sel.AddFuture(future, func(fu workflow.Future) {
		var out activities.AttachedOutcome
		err := fu.Get(ctx, &out)
		f.sum.Attached++
		switch {
		case err != nil:
			f.ended(key, err)
		case out.Succeeded:
			f.ended(key, nil)
		default:
			f.stopped(key)
			f.fail(out.Failure)
		}
	})
}

// stopped takes one of the key's places off running: a key is there twice while one
// start waits for another (attach), and the other must still be waited for.
func (f *fleet) stopped(key string) {
	if i := slices.Index(f.running, key); i >= 0 {
		f.running = slices.Delete(f.running, i, i+1)
	}
}

// ended counts a portal's outcome.
func (f *fleet) ended(key string, err error) {
	f.stopped(key)
	if err == nil {
		f.sum.Succeeded++
		return
	}
	f.fail(activities.PortalFailure(key, err))
}

func (f *fleet) fail(failure dcrflow.FleetFailure) {
	f.sum.Failed++
	if len(f.sum.Failures) < dcrflow.MaxFleetFailures {
		f.sum.Failures = append(f.sum.Failures, failure)
	}
}

func (f *fleet) progress() (dcrflow.FleetProgress, error) {
	p := dcrflow.FleetProgress{Name: f.in.Name, Total: f.sum.Total, Pending: f.sum.Total - f.sum.Done() - len(f.running),
		Running: slices.Clone(f.running), Succeeded: f.sum.Succeeded, Failed: f.sum.Failed, Attached: f.sum.Attached,
		Kept: len(f.sum.Failures), Preflight: f.checked}
	if f.receiving {
		p.ChunksMissing = f.in.Chunks - 1 - len(f.chunks) - f.taken
	}
	return p, nil
}

// failures is a page of the kept failures.
func (f *fleet) failures(offset, limit int) (dcrflow.FailuresPage, error) {
	page := dcrflow.FailuresPage{Failed: f.sum.Failed, Kept: len(f.sum.Failures), Offset: offset}
	if limit <= 0 || limit > dcrflow.MaxFailuresPage {
		limit = dcrflow.MaxFailuresPage
	}
	if offset < 0 {
		return page, fmt.Errorf("offset %d: want 0 or more", offset)
	}
	if offset < len(f.sum.Failures) {
		page.Failures = slices.Clone(f.sum.Failures[offset:min(offset+limit, len(f.sum.Failures))])
	}
	return page, nil
}

func (f *fleet) details() string {
	p, _ := f.progress()
	return fmt.Sprintf("**Fleet %s**: %d of %d done — %d succeeded, %d failed; %d running, %d waiting",
		p.Name, p.Done(), p.Total, p.Succeeded, p.Failed, len(p.Running), p.Pending)
}
