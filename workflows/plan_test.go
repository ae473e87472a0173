package workflows

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

func TestPlanPortals_BoundedInOrderAndAFailedPortalIsItsProblem(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	var mu sync.Mutex
	running, most := 0, 0
	env.OnActivity(a.PlanPortal, mock.Anything, mock.Anything).Return(func(_ context.Context, spec dcrflow.PortalSpec) (dcrflow.PortalPlan, error) {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		if spec.Key == "broken" {
			return dcrflow.PortalPlan{}, temporal.NewNonRetryableApplicationError("find scope x: 403 forbidden", dcrflow.ErrTypeUnauthorized, nil)
		}
		return dcrflow.PortalPlan{Portal: spec.Key, AuthServerID: "aus1",
			Items: []dcrflow.PlanItem{{Kind: dcrflow.KindClaim, Name: "client_id", Action: dcrflow.PlanCreate}}}, nil
	})
	keys := []string{"a", "b", "broken", "c", "d"}
	var specs []dcrflow.PortalSpec
	for _, k := range keys {
		specs = append(specs, dcrflow.PortalSpec{Key: k})
	}
	packed, err := dcrflow.PackPortals(specs)
	if err != nil {
		t.Fatal(err)
	}
	env.ExecuteWorkflow(PlanPortals, dcrflow.PlanInput{Name: "file", Packed: packed, MaxConcurrent: 2})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("plan: %v", env.GetWorkflowError())
	}
	var plans []dcrflow.PortalPlan
	if err := env.GetWorkflowResult(&plans); err != nil {
		t.Fatal(err)
	}
	if most != 2 {
		t.Errorf("%d portals planned at once, want 2 (MaxConcurrent)", most)
	}
	if len(plans) != len(keys) {
		t.Fatalf("%d plans, want %d", len(plans), len(keys))
	}
	for i, p := range plans {
		if p.Portal != keys[i] {
			t.Errorf("plan %d is %s, want %s (the order given)", i, p.Portal, keys[i])
		}
	}
	if b := plans[2]; len(b.Problems) != 1 || !strings.Contains(b.Problems[0], "403 forbidden") {
		t.Errorf("the broken portal: %+v", b)
	}
	// a's run creates the claim; b, c and d find it (the broken one counts for none).
	if plans[0].Items[0].Action != dcrflow.PlanCreate {
		t.Errorf("a: %+v", plans[0].Items)
	}
	for _, p := range []dcrflow.PortalPlan{plans[1], plans[3], plans[4]} {
		if it := p.Items[0]; it.Action != dcrflow.PlanAdopt || it.ByPortal != "a" {
			t.Errorf("%s: %+v, want adopt by a", p.Portal, it)
		}
	}
}

func TestMarkShared_LaterPortalsFindWhatEarlierOnesMake(t *testing.T) {
	item := func(kind dcrflow.Kind, name string, action dcrflow.PlanAction) dcrflow.PlanItem {
		return dcrflow.PlanItem{Kind: kind, Name: name, Action: action, Diffs: []string{"d"}}
	}
	plans := []dcrflow.PortalPlan{
		{Portal: "failing", AuthServerID: "aus1", PortalID: "p1", Problems: []string{"conflict"},
			Items: []dcrflow.PlanItem{item(dcrflow.KindScope, "s", dcrflow.PlanCreate)}},
		{Portal: "first", AuthServerID: "aus1", PortalID: "p1", Items: []dcrflow.PlanItem{
			item(dcrflow.KindScope, "s", dcrflow.PlanCreate), item(dcrflow.KindAuthStrategy, "shared", dcrflow.PlanCreate),
			item(dcrflow.KindPublication, "api", dcrflow.PlanRepublish)}},
		{Portal: "second", AuthServerID: "aus1", PortalID: "p1", Items: []dcrflow.PlanItem{
			item(dcrflow.KindScope, "s", dcrflow.PlanCreate), item(dcrflow.KindAuthStrategy, "shared", dcrflow.PlanCreate),
			item(dcrflow.KindPublication, "api", dcrflow.PlanRepublish)}},
		{Portal: "elsewhere", AuthServerID: "aus2", PortalID: "p2", Items: []dcrflow.PlanItem{
			item(dcrflow.KindScope, "s", dcrflow.PlanCreate), item(dcrflow.KindPublication, "api", dcrflow.PlanPublish)}},
	}
	got := MarkShared(MarkShared(plans)) // twice: no further change
	want := [][]string{
		{"create:"},
		{"create:", "create:", "republish:"},
		{"adopt:first", "adopt:first", "unchanged:first"},
		{"create:", "publish:"}, // another server, another portal
	}
	for i, p := range got {
		for j, it := range p.Items {
			if s := string(it.Action) + ":" + it.ByPortal; s != want[i][j] {
				t.Errorf("%s item %d (%s %s): %s, want %s", p.Portal, j, it.Kind, it.Name, s, want[i][j])
			}
		}
	}
	if d := got[2].Items[2].Diffs; d != nil {
		t.Errorf("an unchanged publication keeps diffs %v", d)
	}
}
