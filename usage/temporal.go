package usage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// Temporal is the Record kept by the UsageRecord entity workflows on a Temporal
// server: each call is an Update-with-Start, so the domain's record starts with its
// first use and every change is serialised by its workflow.
//
// A record belongs to the workers of one task queue and the orgs they manage: the
// same authorization server id ("default") exists in every Okta org, and a record
// must run where its workers poll.
type Temporal struct {
	Client    client.Client
	TaskQueue string
	// OktaOrg and KonnectOrg name the orgs, e.g. by their API hosts.
	OktaOrg, KonnectOrg string

	seedsMu    sync.Mutex
	rebuilding int                 // rebuilds under way
	reads      map[string]*reading // what rebuilds under way read of runs (readOnce)

	batchMu sync.Mutex
	queues  map[string]*queue // record workflow ID → changes waiting for its next update (apply)
}

// WorkflowID is the id of the UsageRecord entity workflow that holds one shard of a
// domain: dcrflow-usage/<task queue>/<org>/<domain>/<shard>.
func (t *Temporal) WorkflowID(domain string, shard int) string {
	org := t.KonnectOrg
	if strings.HasPrefix(domain, oktaPrefix) {
		org = t.OktaOrg
	}
	return strings.Join([]string{"dcrflow-usage", t.TaskQueue, org, domain, strconv.Itoa(shard)}, "/")
}

var _ Record = (*Temporal)(nil)

func (t *Temporal) startOptions(domain string, shard int) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       t.WorkflowID(domain, shard),
		TaskQueue:                t.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            "dcrflow's record of which portals use the shared resources of " + domain,
	}
}

func (t *Temporal) update(ctx context.Context, domain string, shard int, name string, arg, out any) error {
	op := t.Client.NewWithStartWorkflowOperation(t.startOptions(domain, shard), WorkflowType, State{Domain: domain, Shard: shard, UpdatesPerRun: UpdatesPerRun, EventsPerRun: EventsPerRun})
	h, err := t.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateName:   name,
			Args:         []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return fmt.Errorf("usage record %s: %s: %w", domain, name, err)
	}
	if err := h.Get(ctx, out); err != nil {
		return fmt.Errorf("usage record %s: %s: %w", domain, name, err)
	}
	return nil
}

// Join implements Record.
func (t *Temporal) Join(ctx context.Context, j Join) (Joined, error) {
	r, err := t.apply(ctx, j.Domain, j.Key, Op{Join: &j})
	if err != nil || r.Joined == nil {
		return Joined{}, answerless(err, j.Domain, UpdateJoin)
	}
	return *r.Joined, nil
}

// Note implements Record.
func (t *Temporal) Note(ctx context.Context, n Note) error {
	_, err := t.apply(ctx, n.Domain, n.Key, Op{Note: &n})
	return err
}

// Leave implements Record.
func (t *Temporal) Leave(ctx context.Context, l Leave) (Left, error) {
	r, err := t.apply(ctx, l.Domain, l.Key, Op{Leave: &l})
	if err != nil || r.Left == nil {
		return Left{}, answerless(err, l.Domain, UpdateLeave)
	}
	return *r.Left, nil
}

// Release implements Record.
func (t *Temporal) Release(ctx context.Context, r Release) error {
	_, err := t.apply(ctx, r.Domain, r.Key, Op{Release: &r})
	return err
}

// answerless is err, or the error of a join or leave the record did not answer.
func answerless(err error, domain, name string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("usage record %s: %s: the record's answer is missing", domain, name)
}

// Changes of one record wait in its queue while an update of it is on its way; the
// next update takes them all (up to MaxBatch), in the order they came. A record so
// gets at most one update at a time from each worker, however many activities use
// it: under load that is a fraction of the updates, workflow tasks and history
// events, and no update is refused for the server's bound on those in flight per
// workflow (10 by default).
type queue struct{ waiting []*change }

type change struct {
	ctx    context.Context // its caller's: a change whose caller has gone is not sent
	op     Op
	answer chan answer // buffered: the sender never waits for the caller
}

type answer struct {
	res OpResult
	err error
}

// batchWait bounds a batch's update when none of its callers has a deadline.
const batchWait = time.Minute

// apply makes the change with the others waiting for its record and returns its own
// answer. A caller that gives up gets its context's error at once; its change may
// still be applied, as an update abandoned on its way may be.
func (t *Temporal) apply(ctx context.Context, domain string, k Key, op Op) (OpResult, error) {
	shard := ShardOf(k)
	id := t.WorkflowID(domain, shard)
	c := &change{ctx: ctx, op: op, answer: make(chan answer, 1)}
	t.batchMu.Lock()
	if t.queues == nil {
		t.queues = map[string]*queue{}
	}
	q, sending := t.queues[id]
	if !sending {
		q = &queue{}
		t.queues[id] = q
	}
	q.waiting = append(q.waiting, c)
	t.batchMu.Unlock()
	if !sending {
		go t.drain(id, domain, shard, q)
	}
	select {
	case a := <-c.answer:
		return a.res, a.err
	case <-ctx.Done():
		return OpResult{}, fmt.Errorf("usage record %s: %s: %w", domain, op.name(), ctx.Err())
	}
}

// drain sends the record's waiting changes, a batch at a time, until none wait.
func (t *Temporal) drain(id, domain string, shard int, q *queue) {
	for {
		t.batchMu.Lock()
		var batch []*change
		for len(q.waiting) > 0 && len(batch) < MaxBatch {
			c := q.waiting[0]
			q.waiting[0] = nil
			q.waiting = q.waiting[1:]
			if c.ctx.Err() == nil {
				batch = append(batch, c)
			}
		}
		if len(batch) == 0 {
			delete(t.queues, id)
			t.batchMu.Unlock()
			return
		}
		t.batchMu.Unlock()
		t.send(domain, shard, batch)
	}
}

// send makes one batch's update and hands each change its answer. A record run by a
// worker from before batches refuses the update; the changes then go one by one.
func (t *Temporal) send(domain string, shard int, batch []*change) {
	ctx, cancel := batchContext(batch)
	defer cancel()
	ops := make([]Op, len(batch))
	for i, c := range batch {
		ops[i] = c.op
	}
	var results []OpResult
	err := t.update(ctx, domain, shard, UpdateBatch, ops, &results)
	if err != nil && strings.Contains(err.Error(), "unknown update "+UpdateBatch) {
		for _, c := range batch {
			var a answer
			a.res, a.err = t.single(c.ctx, domain, shard, c.op)
			c.answer <- a
		}
		return
	}
	if err == nil && len(results) != len(batch) {
		err = fmt.Errorf("usage record %s: %s: %d answers for %d changes", domain, UpdateBatch, len(results), len(batch))
	}
	for i, c := range batch {
		a := answer{err: err}
		if err == nil {
			a.res = results[i]
		}
		c.answer <- a
	}
}

// batchContext lasts as long as the batch's most patient caller.
func batchContext(batch []*change) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, c := range batch {
		d, ok := c.ctx.Deadline()
		if !ok {
			return context.WithTimeout(context.Background(), batchWait)
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.Background(), latest)
}

// single makes one change as its own update (the records before batches).
func (t *Temporal) single(ctx context.Context, domain string, shard int, op Op) (OpResult, error) {
	var r OpResult
	switch {
	case op.Join != nil:
		r.Joined = &Joined{}
		return r, t.update(ctx, domain, shard, UpdateJoin, *op.Join, r.Joined)
	case op.Note != nil:
		return r, t.update(ctx, domain, shard, UpdateNote, *op.Note, nil)
	case op.Leave != nil:
		r.Left = &Left{}
		return r, t.update(ctx, domain, shard, UpdateLeave, *op.Leave, r.Left)
	case op.Release != nil:
		return r, t.update(ctx, domain, shard, UpdateRelease, *op.Release, nil)
	}
	return r, fmt.Errorf("usage record %s: %s", domain, op.name())
}

// StartRebuilt starts the record of a shard with the book a sibling's rebuild found
// for it, so that it need not read every portal again on its first use; a record
// that runs, or ever ran (its runs may have heard of portals since), is left alone:
// it rebuilds itself if it must. It says whether it started the record.
func (t *Temporal) StartRebuilt(ctx context.Context, st State) (bool, error) {
	o := t.startOptions(st.Domain, st.Shard)
	o.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL
	o.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	o.WorkflowExecutionErrorWhenAlreadyStarted = true
	st.Rebuilt, st.UpdatesPerRun, st.EventsPerRun = true, UpdatesPerRun, EventsPerRun
	_, err := t.Client.ExecuteWorkflow(ctx, o, WorkflowType, st)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("usage record %s/%d: start it rebuilt: %w", st.Domain, st.Shard, err)
	}
	return true, nil
}

// OrgOf names an org by its API URL's host (the URL itself when it has none).
func OrgOf(apiURL string) string {
	if u, err := url.Parse(apiURL); err == nil && u.Host != "" {
		return u.Host
	}
	return apiURL
}
