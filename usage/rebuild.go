package usage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/dcrflow/dcrflow"
)

// Seeds rebuilds a domain's uses from what Temporal knows of the portals onboarded
// before the record existed (an upgrade): the result of each portal's newest
// completed onboarding, unless an offboarding completed after it, and the progress of
// each onboarding still running (or held). beat is called as the reading goes on.
// A completed run's result never changes, so it is read once per worker and kept for
// the other records (a domain's shards, the other domains), which rebuild themselves
// at about the same time; so is a running one's progress (see progress). Both go when
// no rebuild is left, so a worker does not hold every portal's result for the rest of
// its life.
func (t *Temporal) Seeds(ctx context.Context, domain string, beat func()) ([]Seed, error) {
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
	type run struct {
		id, runID string
		closed    time.Time
	}
	done := map[string]run{}
	if err := t.list(ctx, t.query("OnboardPortal", "Completed"), func(id, runID string, closed time.Time) {
		if r, ok := done[id]; !ok || closed.After(r.closed) {
			done[id] = run{id, runID, closed}
		}
	}); err != nil {
		return nil, err
	}
	offboarded := map[string]time.Time{}
	if err := t.list(ctx, t.query("OffboardPortal", "Completed"), func(id, _ string, closed time.Time) {
		key := strings.TrimPrefix(id, dcrflow.OffboardWorkflowID(""))
		if closed.After(offboarded[key]) {
			offboarded[key] = closed
		}
	}); err != nil {
		return nil, err
	}
	var seeds []Seed
	for id, r := range done {
		key := strings.TrimPrefix(id, dcrflow.OnboardWorkflowID(""))
		if offboarded[key].After(r.closed) {
			continue
		}
		res, err := t.result(ctx, id, r.runID)
		if err != nil {
			return nil, fmt.Errorf("result of %s: %w", id, err)
		}
		seeds = append(seeds, SeedsFrom(domain, key, r.runID, res.authServerID, res.resources)...)
		beat()
	}
	var running []run
	if err := t.list(ctx, t.query("OnboardPortal", "Running"), func(id, runID string, _ time.Time) {
		running = append(running, run{id: id, runID: runID})
	}); err != nil {
		return nil, err
	}
	for _, r := range running {
		key := strings.TrimPrefix(r.id, dcrflow.OnboardWorkflowID(""))
		p, err := t.progress(ctx, r.id, r.runID)
		if err != nil {
			return nil, fmt.Errorf("progress of %s (running): %w", r.id, err)
		}
		seeds = append(seeds, SeedsFrom(domain, key, r.runID, p.authServerID, p.resources)...)
		beat()
	}
	return seeds, nil
}

// seen is what a rebuild needs of a run: its authorization server and resources.
type seen struct {
	authServerID string
	resources    []dcrflow.Resource
}

// result is a completed run's result.
func (t *Temporal) result(ctx context.Context, id, runID string) (seen, error) {
	return t.readOnce("completed/"+runID, func() (seen, error) {
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
	return t.readOnce("running/"+runID, func() (seen, error) {
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
// run and whether it had completed (a completed run's result never changes).
func (t *Temporal) readOnce(key string, read func() (seen, error)) (seen, error) {
	t.seedsMu.Lock()
	r, ok := t.reads[key]
	t.seedsMu.Unlock()
	if ok {
		return r, nil
	}
	r, err := read()
	if err != nil {
		return r, err
	}
	t.seedsMu.Lock()
	defer t.seedsMu.Unlock()
	if t.reads == nil || len(t.reads) >= maxCachedResults {
		t.reads = map[string]seen{}
	}
	t.reads[key] = r
	return r, nil
}

// maxCachedResults bounds the runs a worker keeps for rebuilds.
const maxCachedResults = 20000

// query lists the executions of a workflow type in a status on the record's task
// queue: the portals of other deployments are not this record's.
func (t *Temporal) query(workflowType, status string) string {
	return fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = '%s' AND TaskQueue = '%s'", workflowType, status, strings.ReplaceAll(t.TaskQueue, "'", ""))
}

// list calls fn for every execution the visibility query matches.
func (t *Temporal) list(ctx context.Context, query string, fn func(id, runID string, closed time.Time)) error {
	var token []byte
	for {
		resp, err := t.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 1000, NextPageToken: token})
		if err != nil {
			return fmt.Errorf("list %s: %w", query, err)
		}
		for _, e := range resp.GetExecutions() {
			fn(e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), e.GetCloseTime().AsTime())
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return nil
		}
	}
}
