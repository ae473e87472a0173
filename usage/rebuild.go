package usage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"golang.org/x/sync/errgroup"

	"github.com/dcrflow/dcrflow"
)

// Seeds rebuilds the uses of one record (a shard of a domain) from what Temporal
// knows of the portals onboarded before it existed: the result of each portal's
// newest completed onboarding, unless an offboarding completed after it, and the
// progress of each onboarding still running (or held). beat is called as the reading
// goes on.
//
// The first record of a domain needs only the runs that do not join the records
// themselves (those of versions before the records, an upgrade): a run that joins
// them and used a resource of this record would have started it. Otherwise (another
// record of the domain runs or ran: this one may have been terminated, and its closed
// runs go after the namespace's retention) it reads every run: runs that joined a
// lost record are known nowhere else. The first record starts the others (see
// activities.RebuildUsage), so this is the first use of a domain, or a lost record.
//
// A completed run's result never changes, so it is read once per worker and kept for
// the other records (a domain's shards, the other domains), which rebuild themselves
// at about the same time; so is a running one's progress (see progress). Both go when
// no rebuild is left, so a worker does not hold every portal's result for the rest of
// its life.
func (t *Temporal) Seeds(ctx context.Context, domain string, shard int, beat func()) ([]Seed, error) {
	t.seedsMu.Lock()
	t.rebuilding++
	t.seedsMu.Unlock()
	defer func() {
		t.seedsMu.Lock()
		if t.rebuilding--; t.rebuilding == 0 {
			t.reads = nil
		}
		t.seedsMu.Unlock()
	}()
	ranBefore, err := t.domainRanBefore(ctx, domain, shard)
	if err != nil {
		return nil, err
	}
	needed := func(e *workflowpb.WorkflowExecutionInfo) bool { return ranBefore || !JoinsRecords(e) }
	done := map[string]run{}
	if err := t.list(ctx, t.query("OnboardPortal", "Completed"), func(e *workflowpb.WorkflowExecutionInfo) {
		id, closed := e.GetExecution().GetWorkflowId(), e.GetCloseTime().AsTime()
		if r, ok := done[id]; !ok || closed.After(r.closed) {
			done[id] = run{id, e.GetExecution().GetRunId(), closed, needed(e)}
		}
	}); err != nil {
		return nil, err
	}
	offboarded := map[string]time.Time{}
	if err := t.list(ctx, t.query("OffboardPortal", "Completed"), func(e *workflowpb.WorkflowExecutionInfo) {
		key := strings.TrimPrefix(e.GetExecution().GetWorkflowId(), dcrflow.OffboardWorkflowID(""))
		if closed := e.GetCloseTime().AsTime(); closed.After(offboarded[key]) {
			offboarded[key] = closed
		}
	}); err != nil {
		return nil, err
	}
	var completed []run
	for id, r := range done {
		if r.needed && !offboarded[strings.TrimPrefix(id, dcrflow.OnboardWorkflowID(""))].After(r.closed) {
			completed = append(completed, r)
		}
	}
	var running []run
	if err := t.list(ctx, t.query("OnboardPortal", "Running"), func(e *workflowpb.WorkflowExecutionInfo) {
		if needed(e) {
			running = append(running, run{id: e.GetExecution().GetWorkflowId(), runID: e.GetExecution().GetRunId()})
		}
	}); err != nil {
		return nil, err
	}
	return t.readSeeds(ctx, domain, completed, running, beat)
}

// readSeeds reads the completed runs' results and the running ones' progress and
// returns the uses they show in the domain.
func (t *Temporal) readSeeds(ctx context.Context, domain string, completed, running []run, beat func()) ([]Seed, error) {
	var mu sync.Mutex
	var seeds []Seed
	add := func(r run, s seen) {
		key := strings.TrimPrefix(r.id, dcrflow.OnboardWorkflowID(""))
		mu.Lock()
		defer mu.Unlock()
		seeds = append(seeds, SeedsFrom(domain, key, r.runID, s.authServerID, s.resources)...)
		beat()
	}
	err := readAll(ctx, completed, func(ctx context.Context, r run) error {
		res, err := t.result(ctx, r.id, r.runID)
		if err != nil {
			return fmt.Errorf("result of %s: %w", r.id, err)
		}
		add(r, res)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = readAll(ctx, running, func(ctx context.Context, r run) error {
		p, err := t.progress(ctx, r.id, r.runID)
		if err != nil {
			return fmt.Errorf("progress of %s (running): %w", r.id, err)
		}
		add(r, p)
		return nil
	})
	return seeds, err
}

// rebuildReaders is how many runs a rebuild reads at once: each read is a round trip
// to the server, and a namespace may hold tens of thousands of portals.
const rebuildReaders = 8

// readAll calls read for every run, rebuildReaders at a time, and returns the first
// error (the others stop soon after).
func readAll[R any](ctx context.Context, runs []R, read func(context.Context, R) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(rebuildReaders)
	for _, r := range runs {
		g.Go(func() error { return read(ctx, r) })
	}
	return g.Wait()
}

// run is one execution a rebuild reads.
type run struct {
	id, runID string
	closed    time.Time
	needed    bool // not known to join the records itself
}

// JoiningVersions are the versions (TemporalChangeVersion, which the SDK sets for each
// workflow.GetVersion) of the onboarding runs that join the records themselves: the
// first with the records, and the lean runs whose one marker stands for it.
var JoiningVersions = []string{"usage-record-1", "fewer-round-trips-1"}

// JoinsRecords says whether an execution, as visibility lists it, joins the records
// itself. Visibility lags a little: a run not yet marked is read like an older one.
func JoinsRecords(e *workflowpb.WorkflowExecutionInfo) bool {
	p := e.GetSearchAttributes().GetIndexedFields()[changeVersionAttribute]
	if p == nil {
		return false
	}
	var versions []string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &versions); err != nil {
		return false
	}
	for _, v := range versions {
		if slices.Contains(JoiningVersions, v) {
			return true
		}
	}
	return false
}

const changeVersionAttribute = "TemporalChangeVersion"

// seen is what a rebuild needs of a run: its authorization server and resources.
type seen struct {
	authServerID string
	resources    []dcrflow.Resource
}

// result is a completed run's result.
func (t *Temporal) result(ctx context.Context, id, runID string) (seen, error) {
	return t.readOnce(ctx, "completed/"+runID, func() (seen, error) {
		var res dcrflow.OnboardResult
		err := t.Client.GetWorkflow(ctx, id, runID).Get(ctx, &res)
		return seen{res.AuthServerID, res.Resources}, err
	})
}

// progress is a running onboarding's progress. The first fleet after an upgrade
// starts every record at once (8 a domain), each asking every running portal:
// without sharing, records × portals queries. A run that goes on after its progress
// was read may add resources; that holds for a rebuild of its own as much (a run old
// enough not to join the records never tells them), so sharing the read loses nothing.
func (t *Temporal) progress(ctx context.Context, id, runID string) (seen, error) {
	return t.readOnce(ctx, "running/"+runID, func() (seen, error) {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var p dcrflow.Progress
		v, err := t.Client.QueryWorkflow(qctx, id, runID, dcrflow.QueryProgress)
		if err == nil {
			err = v.Get(&p)
		}
		return seen{p.AuthServerID, p.Resources}, err
	})
}

// readOnce is what read finds, read once for the rebuilds under way: key names the
// run and whether it had completed (a completed run's result never changes). A
// rebuild that needs a run another is reading waits for that read: a fleet's first
// portals start every record at once, and each asks the same running portals. A
// failed read is not kept; the next rebuild to need it reads again.
func (t *Temporal) readOnce(ctx context.Context, key string, read func() (seen, error)) (seen, error) {
	t.seedsMu.Lock()
	r, ok := t.reads[key]
	if !ok {
		if t.reads == nil || len(t.reads) >= maxCachedResults {
			t.reads = map[string]*reading{}
		}
		r = &reading{done: make(chan struct{})}
		t.reads[key] = r
	}
	t.seedsMu.Unlock()
	if ok {
		select {
		case <-r.done:
			return r.seen, r.err
		case <-ctx.Done():
			return seen{}, ctx.Err()
		}
	}
	r.seen, r.err = read()
	close(r.done)
	if r.err != nil {
		t.seedsMu.Lock()
		if t.reads[key] == r {
			delete(t.reads, key)
		}
		t.seedsMu.Unlock()
	}
	return r.seen, r.err
}

// reading is one run's read, shared by the rebuilds that need it.
type reading struct {
	done chan struct{} // closed when seen and err are set
	seen seen
	err  error
}

// maxCachedResults bounds the runs a worker keeps for rebuilds.
const maxCachedResults = 20000

// query lists the executions of a workflow type in a status on the record's task
// queue: the portals of other deployments are not this record's.
func (t *Temporal) query(workflowType, status string) string {
	return fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = '%s' AND TaskQueue = '%s'", workflowType, status, strings.ReplaceAll(t.TaskQueue, "'", ""))
}

// domainRanBefore says whether a record of the domain other than this one runs, or
// any ran and ended.
func (t *Temporal) domainRanBefore(ctx context.Context, domain string, shard int) (bool, error) {
	ran := false
	own := t.WorkflowID(domain, shard)
	err := t.list(ctx, t.domainRecords(domain), func(e *workflowpb.WorkflowExecutionInfo) {
		if e.GetExecution().GetWorkflowId() != own || e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			ran = true
		}
	})
	return ran, err
}

// domainRecords lists every execution of the records of a domain.
func (t *Temporal) domainRecords(domain string) string {
	ids := make([]string, Shards)
	for shard := range Shards {
		ids[shard] = "'" + strings.ReplaceAll(t.WorkflowID(domain, shard), "'", "") + "'"
	}
	return "WorkflowId IN (" + strings.Join(ids, ", ") + ")"
}

// list calls fn for every execution the visibility query matches.
func (t *Temporal) list(ctx context.Context, query string, fn func(*workflowpb.WorkflowExecutionInfo)) error {
	var token []byte
	for {
		resp, err := t.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 1000, NextPageToken: token})
		if err != nil {
			return fmt.Errorf("list %s: %w", query, err)
		}
		for _, e := range resp.GetExecutions() {
			fn(e)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return nil
		}
	}
}
