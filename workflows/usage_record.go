package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/usage"
)

// usageUpdatesPerRun bounds the updates of a record whose input does not say
// (usage.State.UpdatesPerRun): started by an older version, it decides by a version
// marker, 500 for runs from before the marker. A worker that has to replay a record
// (it lost its cache; the server failed a workflow task, as it does now and then for
// updates: temporalio/temporal#7741) reads its whole history and book, so runs are
// kept short. Records started now carry the bound in their input: no marker, and no
// search-attribute upsert with it, in each of their runs.
var usageUpdatesPerRun = usage.UpdatesPerRun

const (
	changeShorterRuns        = "usage-record-shorter-runs"
	usageUpdatesPerRunBefore = 500
)

// rebuildOptions: the rebuild is a local activity — the record's first joins wait for
// it, and on a new namespace it reads next to nothing — that must get through before
// the record can answer; on a large namespace it may take minutes.
var rebuildOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout: 30 * time.Minute,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
}

// UsageRecord is the entity workflow that holds one domain's record of who uses
// what (package usage): per Okta authorization server and for the Konnect org, each
// in usage.Shards records by resource, started by the first join (Update-with-Start)
// and never ending. Joins, notes,
// leaves and releases are updates, applied one at a time, so two portals can never
// both believe they are the last user. When first started it rebuilds the record
// from the onboarding records of portals onboarded before it existed; updates wait
// for that. It continues as new, carrying the packed record, to bound its history.
func UsageRecord(ctx workflow.Context, in usage.State) error {
	book, err := in.Book()
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), dcrflow.ErrTypeInvalid, err)
	}
	limit := in.UpdatesPerRun
	if limit <= 0 {
		limit = usageUpdatesPerRun
		if workflow.GetVersion(ctx, changeShorterRuns, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			limit = usageUpdatesPerRunBefore
		}
	}
	ready, updates := in.Rebuilt, 0
	wait := func(ctx workflow.Context) error {
		updates++
		return workflow.Await(ctx, func() bool { return ready })
	}
	handlers := []struct {
		name string
		fn   any
	}{
		{usage.UpdateJoin, func(ctx workflow.Context, j usage.Join) (usage.Joined, error) {
			if err := wait(ctx); err != nil {
				return usage.Joined{}, err
			}
			return book.Join(j, workflow.Now(ctx)), nil
		}},
		{usage.UpdateNote, func(ctx workflow.Context, n usage.Note) error {
			if err := wait(ctx); err != nil {
				return err
			}
			book.Note(n)
			return nil
		}},
		{usage.UpdateLeave, func(ctx workflow.Context, l usage.Leave) (usage.Left, error) {
			if err := wait(ctx); err != nil {
				return usage.Left{}, err
			}
			return book.Leave(l, workflow.Now(ctx)), nil
		}},
		{usage.UpdateRelease, func(ctx workflow.Context, r usage.Release) error {
			if err := wait(ctx); err != nil {
				return err
			}
			book.Release(r)
			return nil
		}},
	}
	for _, h := range handlers {
		if err := workflow.SetUpdateHandler(ctx, h.name, h.fn); err != nil {
			return err
		}
	}
	// A worker's changes of this record that met on their way, applied in order; one
	// update (counted as one) and one answer each.
	if err := workflow.SetUpdateHandlerWithOptions(ctx, usage.UpdateBatch, func(ctx workflow.Context, ops []usage.Op) ([]usage.OpResult, error) {
		if err := wait(ctx); err != nil {
			return nil, err
		}
		return book.Apply(ops, workflow.Now(ctx)), nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, ops []usage.Op) error { return usage.ValidateBatch(ops) }}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, usage.QueryEntries, func() ([]usage.Entry, error) { return book.Snapshot(), nil }); err != nil {
		return err
	}
	if !ready {
		var rebuilt usage.State
		actx := workflow.WithLocalActivityOptions(ctx, rebuildOptions)
		if err := workflow.ExecuteLocalActivity(actx, a.RebuildUsage, usage.State{Domain: in.Domain, Shard: in.Shard}).Get(ctx, &rebuilt); err != nil {
			return err
		}
		seeded, err := rebuilt.Book()
		if err != nil {
			return temporal.NewNonRetryableApplicationError(err.Error(), dcrflow.ErrTypeInvalid, err)
		}
		// Joins that arrived meanwhile wait for ready, so the rebuilt record is all.
		book, ready = seeded, true
	}
	events := in.EventsPerRun // 0 for records started before it was said
	if err := workflow.Await(ctx, func() bool {
		info := workflow.GetInfo(ctx)
		return updates >= limit || (events > 0 && info.GetCurrentHistoryLength() >= events) || info.GetContinueAsNewSuggested()
	}); err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	next := usage.State{Domain: in.Domain, Shard: in.Shard, Rebuilt: true, UpdatesPerRun: usageUpdatesPerRun, EventsPerRun: usage.EventsPerRun}
	if err := next.Pack(book); err != nil {
		return err
	}
	return workflow.NewContinueAsNewError(ctx, UsageRecord, next)
}
