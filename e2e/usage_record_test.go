package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/sync/errgroup"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
	"github.com/dcrflow/dcrflow/usage"
)

// The first record of a domain to rebuild itself (here: after portals onboarded by
// the code before the records, as a worker that takes every change's old version runs
// them) starts the domain's other records with their part of what it read, so that
// none of them reads every portal again on its first use — late in a large fleet,
// that read took minutes.
func TestUsageRecord_FirstRebuildStartsTheDomainsOtherRecords(t *testing.T) {
	c, sb, tq, rec := recordStack(t, "e2e-usage-record-siblings")

	before, _, _ := startWorkerWith(t, c, sb, tq, worker.Options{
		PreferredVersionProvider: func(worker.PreferredVersionProviderInput) *worker.VersionPreference {
			return &worker.VersionPreference{Version: workflow.DefaultVersion}
		},
	})
	s := &stack{sb: sb, temporal: c, taskQueue: tq}
	specs := []dcrflow.PortalSpec{sharedPortal("default", 0, 0), sharedPortal("default", 1, 1)}
	// The Okta resources of their server: its records are the ones looked at.
	domain := usage.OktaDomain(server(s.state(t), "default").ID)
	uses := map[usage.Key][]string{} // the portals' resources and their users
	for _, o := range s.onboard(t, specs) {
		if !o.Succeeded {
			t.Fatalf("%s: %v", o.Portal, o.Err)
		}
		for _, r := range o.Result.Resources {
			if usage.DomainOf(r.Kind, o.Result.AuthServerID) == domain {
				k := usage.KeyOf(r)
				uses[k] = append(uses[k], o.Portal)
			}
		}
	}
	before.Stop()
	if len(uses) < 3 {
		t.Fatalf("the portals use %d resources of %s, want their scopes and claim", len(uses), domain)
	}
	// The old path still joins the records of scopes: the code before the records
	// made none. They go, history and all, as if they had never been.
	ctx := context.Background()
	var ids []string
	for shard := range usage.Shards {
		ids = append(ids, "'"+rec.WorkflowID(domain, shard)+"'")
		if _, err := c.DescribeWorkflowExecution(ctx, rec.WorkflowID(domain, shard), ""); err == nil {
			if _, err := c.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{Namespace: "default",
				WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: rec.WorkflowID(domain, shard)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	records := "WorkflowId IN (" + strings.Join(ids, ", ") + ")"
	waitFor(t, time.Minute, "the records deleted", func() bool { return countWorkflows(t, c, records) == 0 })

	w, _, _ := startWorkerWith(t, c, sb, tq, worker.Options{})
	t.Cleanup(w.Stop)
	first := usage.Key{Kind: dcrflow.KindScope, Name: "newcomer:read"}
	if _, err := rec.Join(ctx, usage.Join{Domain: domain, Key: first, Portal: "newcomer", Run: "run-newcomer"}); err != nil {
		t.Fatal(err)
	}

	// Every record of the domain runs; only the first one read the portals (its
	// rebuild is the one local activity), and each holds its part.
	for shard := range usage.Shards {
		id := rec.WorkflowID(domain, shard)
		rebuilds := 0
		for _, e := range history(t, ctx, c, id, "") {
			if e.GetEventType() == enumspb.EVENT_TYPE_MARKER_RECORDED && e.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity" {
				rebuilds++
			}
		}
		if want := btoi(shard == usage.ShardOf(first)); rebuilds != want {
			t.Errorf("record %d of %s rebuilt itself %d time(s), want %d", shard, domain, rebuilds, want)
		}
	}
	for k, portals := range uses {
		var entries []usage.Entry
		v, err := c.QueryWorkflow(ctx, rec.WorkflowID(domain, usage.ShardOf(k)), "", usage.QueryEntries)
		if err == nil {
			err = v.Get(&entries)
		}
		if err != nil {
			t.Fatal(err)
		}
		var users map[string]string
		for _, e := range entries {
			if e.Key == k {
				users = e.Users
			}
		}
		for _, p := range portals {
			if _, ok := users[p]; !ok {
				t.Errorf("%s: the record of shard %d has users %v, want %s among them", k, usage.ShardOf(k), users, p)
			}
		}
	}
}

// pollPage is how many history events a worker's poll brings at most (the server's
// matching.historyMaxPageSize, 256 by default); a longer history is read page by page.
const pollPage = 256

// A record busy with many portals keeps each run's history within one poll page, and
// loses nothing across its runs when another worker takes over. A worker that must
// read the history whole then has it in its poll: with a dev server before 1.31 a task
// of an update may still fail (its events are missing from a history read:
// temporalio/temporal#7741), and its retry then goes through.
func TestUsageRecord_RunsStayWithinOnePollPage(t *testing.T) {
	c, sb, tq, rec := recordStack(t, "e2e-usage-record-page")
	first, _, _ := startWorkerWith(t, c, sb, tq, worker.Options{})

	// 120 portals' strategies, all on shard 0 of the Konnect record, 20 at a time.
	keys := make([]usage.Key, 0, 125)
	for i := 0; len(keys) < cap(keys); i++ {
		if k := (usage.Key{Kind: dcrflow.KindAuthStrategy, Name: fmt.Sprintf("strategy-%d", i)}); usage.ShardOf(k) == 0 {
			keys = append(keys, k)
		}
	}
	ctx := context.Background()
	// Each join through a client of its own, as from as many workers: one worker's
	// concurrent joins would share updates, and this record is to grow long.
	join := func(k usage.Key) error {
		jctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		own := usage.Temporal{Client: rec.Client, TaskQueue: rec.TaskQueue, OktaOrg: rec.OktaOrg, KonnectOrg: rec.KonnectOrg}
		_, err := own.Join(jctx, usage.Join{Domain: usage.KonnectDomain, Key: k, Portal: "portal-" + k.Name, Run: "run-" + k.Name})
		return err
	}
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(20)
	for _, k := range keys[:120] {
		g.Go(func() error { return join(k) })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}

	// The first worker goes; the next joins' tasks reach the second, which has nothing
	// cached and reads the record's history whole.
	first.Stop()
	second, _, _ := startWorkerWith(t, c, sb, tq, worker.Options{})
	t.Cleanup(second.Stop)
	for _, k := range keys[120:] {
		if err := join(k); err != nil {
			t.Fatal(err)
		}
	}

	id := rec.WorkflowID(usage.KonnectDomain, 0)
	runs := 0
	for run := ""; ; {
		runs++
		events := history(t, ctx, c, id, run)
		if len(events) > pollPage {
			t.Errorf("run %d (counting back) of the record has %d events, more than one poll page (%d)", runs, len(events), pollPage)
		}
		for _, e := range events { // the server's bug, retried: shown, not counted
			if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED {
				t.Logf("run %d (counting back): failed task: %v", runs, e.GetWorkflowTaskFailedEventAttributes().GetFailure().GetMessage())
			}
		}
		if run = events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId(); run == "" {
			break
		}
	}
	if runs < 2 {
		t.Errorf("the record ran %d time(s) for %d joins, want it to continue as new", runs, len(keys))
	}
	entries := recordEntries(t, ctx, c, id)
	if len(entries) != len(keys) {
		t.Errorf("the record holds %d entries, want %d (none lost across its runs)", len(entries), len(keys))
	}
}

// A worker's activities that change one record at the same time share its updates:
// each gets its own answer, in the order they came, and a change whose caller has
// gone is not sent. A record run by a worker from before batches refuses them, and
// the changes then go one by one.
func TestUsageRecord_AWorkersConcurrentChangesShareUpdates(t *testing.T) {
	c, sb, tq, rec := recordStack(t, "e2e-usage-record-batch")
	w, _, _ := startWorkerWith(t, c, sb, tq, worker.Options{})
	t.Cleanup(w.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var keys []usage.Key // 60 strategies on shard 0 of the Konnect record
	for i := 0; len(keys) < 60; i++ {
		if k := (usage.Key{Kind: dcrflow.KindAuthStrategy, Name: fmt.Sprintf("strategy-%d", i)}); usage.ShardOf(k) == 0 {
			keys = append(keys, k)
		}
	}
	portal := func(k usage.Key) string { return "portal-" + k.Name }
	gone, stop := context.WithCancel(ctx)
	stop() // its caller has gone before the change could be sent
	if _, err := rec.Join(gone, usage.Join{Domain: usage.KonnectDomain, Key: keys[0], Portal: "gone", Run: "run-gone"}); err == nil {
		t.Fatal("a join whose caller had gone answered")
	}
	g, _ := errgroup.WithContext(ctx)
	for _, k := range keys {
		g.Go(func() error {
			j, err := rec.Join(ctx, usage.Join{Domain: usage.KonnectDomain, Key: k, Portal: portal(k), Run: "run-" + k.Name})
			if err == nil && (j.UsersTotal != 1 || len(j.Users) != 1 || j.Users[0] != portal(k) || j.Busy != "") {
				err = fmt.Errorf("%s's join answered %+v, want its own portal alone", k.Name, j)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	// In one batch: the leave of the strategy's only user is last, and the join that
	// follows finds it leased.
	g, _ = errgroup.WithContext(ctx)
	for _, k := range keys {
		g.Go(func() error {
			l, err := rec.Leave(ctx, usage.Leave{Domain: usage.KonnectDomain, Key: k, Portal: portal(k), Run: "run-" + k.Name})
			if err == nil && !l.Last {
				err = fmt.Errorf("%s's leave answered %+v, want last", k.Name, l)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if j, err := rec.Join(ctx, usage.Join{Domain: usage.KonnectDomain, Key: keys[1], Portal: "late", Run: "run-late"}); err != nil || j.Busy == "" {
		t.Fatalf("a join of a strategy its last user left answered %+v, %v; want busy", j, err)
	}

	id := rec.WorkflowID(usage.KonnectDomain, 0)
	updates := 0
	for run := ""; ; { // every run of the record, from the last
		events := history(t, ctx, c, id, run)
		for _, e := range events {
			if a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil {
				updates++
				if name := a.GetAcceptedRequest().GetInput().GetName(); name != usage.UpdateBatch {
					t.Errorf("the record took a %q update, want only batches", name)
				}
			}
		}
		if run = events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId(); run == "" {
			break
		}
	}
	if changes := 2*len(keys) + 1; updates == 0 || updates > changes/2 {
		t.Errorf("%d changes took %d updates, want at most %d", changes, updates, changes/2)
	}
	entries := recordEntries(t, ctx, c, id)
	for _, e := range entries {
		if _, ok := e.Users["gone"]; ok {
			t.Errorf("%s lists the portal whose caller had gone", e.Key)
		}
	}

	// A record from before batches: joins only, one by one.
	const oldTQ = "e2e-usage-record-before-batches"
	old := worker.New(c, oldTQ, worker.Options{})
	old.RegisterWorkflowWithOptions(func(ctx workflow.Context, in usage.State) error {
		book := usage.NewBook(nil)
		if err := workflow.SetUpdateHandler(ctx, usage.UpdateJoin, func(ctx workflow.Context, j usage.Join) (usage.Joined, error) {
			return book.Join(j, workflow.Now(ctx)), nil
		}); err != nil {
			return err
		}
		return workflow.Await(ctx, func() bool { return false })
	}, workflow.RegisterOptions{Name: usage.WorkflowType})
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(old.Stop)
	before := usage.Temporal{Client: c, TaskQueue: oldTQ, OktaOrg: rec.OktaOrg, KonnectOrg: rec.KonnectOrg}
	g, _ = errgroup.WithContext(ctx)
	for _, k := range keys[:5] {
		g.Go(func() error {
			j, err := before.Join(ctx, usage.Join{Domain: usage.KonnectDomain, Key: k, Portal: portal(k), Run: "run-" + k.Name})
			if err == nil && (j.UsersTotal != 1 || j.Users[0] != portal(k)) {
				err = fmt.Errorf("%s's join answered %+v by the record before batches", k.Name, j)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	joins := 0
	for _, e := range history(t, ctx, c, before.WorkflowID(usage.KonnectDomain, 0), "") {
		if a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil && a.GetAcceptedRequest().GetInput().GetName() == usage.UpdateJoin {
			joins++
		}
	}
	if joins != 5 {
		t.Errorf("the record before batches took %d joins, want 5", joins)
	}
}

// recordEntries queries a record's entries.
func recordEntries(t *testing.T, ctx context.Context, c client.Client, id string) []usage.Entry {
	t.Helper()
	var entries []usage.Entry
	v, err := c.QueryWorkflow(ctx, id, "", usage.QueryEntries)
	if err == nil {
		err = v.Get(&entries)
	}
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// recordStack is a dev server, the sandbox, and the shared-use records of task queue
// tq as the workers there keep them.
func recordStack(t *testing.T, tq string) (client.Client, *sandboxtest.Env, string, *usage.Temporal) {
	t.Helper()
	c := devserver.Start(t).Client()
	sb := sandboxtest.Start(t)
	return c, sb, tq, &usage.Temporal{Client: c, TaskQueue: tq, OktaOrg: usage.OrgOf(sb.OktaURL), KonnectOrg: usage.OrgOf(sb.KonnectURL)}
}
