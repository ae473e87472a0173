package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/usage"
)

// update sends one update and decodes its result into out (nil: none expected).
func update(t *testing.T, env *testsuite.TestWorkflowEnvironment, name, id string, arg, out any) {
	t.Helper()
	env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
		OnReject: func(err error) { t.Errorf("update %s rejected: %v", id, err) },
		OnComplete: func(v any, err error) {
			if err != nil {
				t.Errorf("update %s: %v", id, err)
				return
			}
			if out != nil {
				b, _ := json.Marshal(v)
				if err := json.Unmarshal(b, out); err != nil {
					t.Errorf("update %s result: %v", id, err)
				}
			}
		},
	}, arg)
}

// A fresh record first rebuilds from the onboarding records (a portal onboarded by
// the previous version uses the claim), answering updates only then; joins and leaves
// are applied in order; after its quota of updates it continues as new carrying
// every entry.
func TestUsageRecord_RebuildsThenServesThenContinuesAsNew(t *testing.T) {
	old := usageUpdatesPerRun
	usageUpdatesPerRun = 4
	t.Cleanup(func() { usageUpdatesPerRun = old })

	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	claim := usage.Key{Kind: dcrflow.KindClaim, Name: "client_id"}
	scope := usage.Key{Kind: dcrflow.KindScope, Name: "pay:read"}
	seeded := usage.NewBook(nil)
	seeded.Add(usage.Seed{Key: claim, Portal: "legacy", Run: "r0", Created: true})
	rebuilt := usage.State{Domain: "okta-aus1", Rebuilt: true}
	if err := rebuilt.Pack(seeded); err != nil {
		t.Fatal(err)
	}
	rebuilds := 0
	env.OnActivity(a.RebuildUsage, mock.Anything, usage.State{Domain: "okta-aus1", Shard: 3}).Return(func(_ context.Context, _ usage.State) (usage.State, error) {
		rebuilds++
		return rebuilt, nil
	})
	var joinedB usage.Joined
	var leftA, leftB usage.Left
	env.RegisterDelayedCallback(func() {
		update(t, env, usage.UpdateJoin, "1", usage.Join{Domain: "okta-aus1", Key: claim, Portal: "b", Run: "rb"}, &joinedB)
		update(t, env, usage.UpdateJoin, "2", usage.Join{Domain: "okta-aus1", Key: scope, Portal: "a", Run: "ra"}, nil)
		// The legacy portal still uses the claim: b's leave keeps it.
		update(t, env, usage.UpdateLeave, "3", usage.Leave{Domain: "okta-aus1", Key: claim, Portal: "b", Run: "rb"}, &leftB)
		update(t, env, usage.UpdateLeave, "4", usage.Leave{Domain: "okta-aus1", Key: scope, Portal: "a", Run: "ra"}, &leftA)
	}, time.Second)
	env.ExecuteWorkflow(UsageRecord, usage.State{Domain: "okta-aus1", Shard: 3})

	if rebuilds != 1 {
		t.Errorf("rebuilds = %d", rebuilds)
	}
	if len(joinedB.Users) != 2 || joinedB.Users[0] != "b" || joinedB.Users[1] != "legacy" {
		t.Errorf("b joined beside %v, want the rebuilt legacy user", joinedB.Users)
	}
	if leftB.Last || len(leftB.Users) != 1 || leftB.Users[0] != "legacy" {
		t.Errorf("b's leave = %+v, want kept for legacy", leftB)
	}
	if !leftA.Last {
		t.Errorf("a's leave = %+v, want last", leftA)
	}
	next := continuedRecord(t, env, "")
	book, err := next.Book()
	if err != nil || !next.Rebuilt || next.Domain != "okta-aus1" || next.Shard != 3 {
		t.Fatalf("next state = %+v %v", next, err)
	}
	if users := book.Users(claim); len(users) != 1 || users[0] != "legacy" {
		t.Errorf("claim users carried = %v", users)
	}
	if e := book.Snapshot(); len(e) != 2 || e[0].Key != claim || !e[0].Created || e[1].Lease == nil {
		t.Errorf("entries carried = %+v (the claim created by dcrflow, the scope leased by a)", e)
	}
}

// The usage package tells the runs that join the records from their version markers
// (TemporalChangeVersion): its list names exactly the versions that take that path.
func TestJoiningVersions_NameTheVersionsThatJoinTheRecords(t *testing.T) {
	want := []string{changeUsageRecord + "-1", changeFewerRoundTrips + "-1"}
	if len(usage.JoiningVersions) != len(want) {
		t.Fatalf("usage.JoiningVersions = %v, want %v", usage.JoiningVersions, want)
	}
	for i := range want {
		if usage.JoiningVersions[i] != want[i] {
			t.Errorf("usage.JoiningVersions = %v, want %v", usage.JoiningVersions, want)
		}
	}
}

// A record started with its bound in its input continues as new after that many
// updates, without asking for a version, and carries the bound on.
func TestUsageRecord_ContinuesAsNewAtTheBoundItWasStartedWith(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	// Were it to ask, it would be told "a run from before the marker": 500 updates.
	env.OnGetVersion(changeShorterRuns, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	env.RegisterDelayedCallback(func() {
		for i := range 3 {
			update(t, env, usage.UpdateJoin, fmt.Sprint(i), usage.Join{Domain: "konnect", Key: usage.Key{Kind: dcrflow.KindAuthStrategy, Name: fmt.Sprint("s", i)}, Portal: "p", Run: "r"}, nil)
		}
	}, time.Second)
	env.ExecuteWorkflow(UsageRecord, usage.State{Domain: "konnect", Shard: 2, Rebuilt: true, UpdatesPerRun: 3})
	next := continuedRecord(t, env, " after 3 updates")
	if next.UpdatesPerRun != usage.UpdatesPerRun {
		t.Errorf("the next run's bound = %d, want %d", next.UpdatesPerRun, usage.UpdatesPerRun)
	}
}

// A batch applies its changes in order, answers each, and counts as one update; a
// malformed batch is refused before it reaches history.
func TestUsageRecord_BatchAppliesItsChangesInOrderAsOneUpdate(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	strategy := usage.Key{Kind: dcrflow.KindAuthStrategy, Name: "s"}
	join := func(p string) usage.Op {
		return usage.Op{Join: &usage.Join{Domain: "konnect", Key: strategy, Portal: p, Run: "r" + p}}
	}
	var first, second []usage.OpResult
	var rejected []error
	env.RegisterDelayedCallback(func() {
		for i, bad := range [][]usage.Op{nil, {{}}, {{Join: join("d").Join, Note: &usage.Note{}}}} {
			env.UpdateWorkflow(usage.UpdateBatch, fmt.Sprint("bad", i), &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { rejected = append(rejected, err) },
				OnComplete: func(any, error) { t.Errorf("malformed batch %d applied", i) },
			}, bad)
		}
		update(t, env, usage.UpdateBatch, "1", []usage.Op{
			join("a"),
			{Note: &usage.Note{Domain: "konnect", Key: strategy, Portal: "a", Creating: true}},
			join("b"),
			{Leave: &usage.Leave{Domain: "konnect", Key: strategy, Portal: "a", Run: "ra"}},
		}, &first)
		// b leaves last: it holds the lease, and c's join in the same batch finds it busy.
		update(t, env, usage.UpdateBatch, "2", []usage.Op{
			{Leave: &usage.Leave{Domain: "konnect", Key: strategy, Portal: "b", Run: "rb"}},
			join("c"),
			{Release: &usage.Release{Domain: "konnect", Key: strategy, Portal: "b", Gone: true}},
			join("c"),
		}, &second)
	}, time.Second)
	env.ExecuteWorkflow(UsageRecord, usage.State{Domain: "konnect", Shard: 1, Rebuilt: true, UpdatesPerRun: 2})

	if len(first) != 4 || first[0].Joined == nil || first[1].Joined != nil || first[2].Joined == nil || first[3].Left == nil {
		t.Fatalf("first batch answered %+v, want join, note, join, leave", first)
	}
	if first[2].Joined.UsersTotal != 2 || first[3].Left.Last {
		t.Errorf("b joined beside %d users and a's leave was last=%v: want 2 and kept for b", first[2].Joined.UsersTotal, first[3].Left.Last)
	}
	if len(second) != 4 || !second[0].Left.Last || !second[0].Left.Created || second[1].Joined.Busy == "" || second[3].Joined.Busy != "" {
		t.Fatalf("second batch answered %+v: want b last (created), c busy, then c joined after the release", second)
	}
	if len(rejected) != 3 {
		t.Errorf("%d malformed batches refused, want 3", len(rejected))
	}
	book, err := continuedRecord(t, env, " after 2 updates (2 batches of 4 changes)").Book()
	if err != nil {
		t.Fatal(err)
	}
	if users := book.Users(strategy); len(users) != 1 || users[0] != "c" {
		t.Errorf("the next run carries users %v, want c", users)
	}
}

// continuedRecord is the state the record continued as new with; it fails t when the
// record ended otherwise (when is what the test expected, for the message).
func continuedRecord(t *testing.T, env *testsuite.TestWorkflowEnvironment, when string) usage.State {
	t.Helper()
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("err = %v, want continue-as-new%s", err, when)
	}
	var next usage.State
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	return next
}
