package usage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"

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

func (t *Temporal) update(ctx context.Context, domain string, k Key, name string, arg, out any) error {
	shard := ShardOf(k)
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
	var out Joined
	return out, t.update(ctx, j.Domain, j.Key, UpdateJoin, j, &out)
}

// Note implements Record.
func (t *Temporal) Note(ctx context.Context, n Note) error {
	return t.update(ctx, n.Domain, n.Key, UpdateNote, n, nil)
}

// Leave implements Record.
func (t *Temporal) Leave(ctx context.Context, l Leave) (Left, error) {
	var out Left
	return out, t.update(ctx, l.Domain, l.Key, UpdateLeave, l, &out)
}

// Release implements Record.
func (t *Temporal) Release(ctx context.Context, r Release) error {
	return t.update(ctx, r.Domain, r.Key, UpdateRelease, r, nil)
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
