package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
	"github.com/dcrflow/dcrflow/usage"
)

// The first record of a domain to rebuild itself (here: after portals onboarded by
// the code before the records, as a worker that takes every change's old version runs
// them) starts the domain's other records
// with their part of what it read, so that none of them reads every portal again on
// its first use — late in a large fleet, that read took minutes.
func TestUsageRecord_FirstRebuildStartsTheDomainsOtherRecords(t *testing.T) {
	srv := devserver.Start(t)
	c := srv.Client()
	sb := sandboxtest.Start(t)
	tq := "e2e-usage-record-siblings"
	rec := &usage.Temporal{Client: c, TaskQueue: tq, OktaOrg: usage.OrgOf(sb.OktaURL), KonnectOrg: usage.OrgOf(sb.KonnectURL)}

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
