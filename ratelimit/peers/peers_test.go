package peers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/ratelimit"
)

type fakeQueue struct {
	pollers []*taskqueuepb.PollerInfo
	err     error
	asked   enumspb.TaskQueueType
}

func (f *fakeQueue) DescribeTaskQueue(_ context.Context, _ string, typ enumspb.TaskQueueType) (*workflowservice.DescribeTaskQueueResponse, error) {
	f.asked = typ
	return &workflowservice.DescribeTaskQueueResponse{Pollers: f.pollers}, f.err
}

func poller(id string, at time.Time) *taskqueuepb.PollerInfo {
	return &taskqueuepb.PollerInfo{Identity: id, LastAccessTime: timestamppb.New(at)}
}

func TestCounter_CountsRecentActivityPollersAndItself(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	q := &fakeQueue{}
	c := &Counter{Client: q, TaskQueue: "dcrflow", Identity: "me", Now: func() time.Time { return now }}
	for _, tc := range []struct {
		name    string
		pollers []*taskqueuepb.PollerInfo
		want    int
	}{
		{"before anyone polls", nil, 1},
		{"itself", []*taskqueuepb.PollerInfo{poller("me", now)}, 1},
		{"an idle peer whose poll is a minute old", []*taskqueuepb.PollerInfo{poller("me", now), poller("b", now.Add(-time.Minute))}, 2},
		{"a peer gone for two minutes", []*taskqueuepb.PollerInfo{poller("me", now), poller("gone", now.Add(-2*time.Minute))}, 1},
		{"three peers, one twice", []*taskqueuepb.PollerInfo{poller("b", now), poller("c", now), poller("c", now), poller("d", now)}, 4},
		{"no access time", []*taskqueuepb.PollerInfo{{Identity: "x"}}, 1},
	} {
		q.pollers = tc.pollers
		n, err := c.Count(context.Background())
		if err != nil || n != tc.want {
			t.Errorf("%s: %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
	if q.asked != enumspb.TASK_QUEUE_TYPE_ACTIVITY {
		t.Errorf("asked for %v pollers, want activity pollers", q.asked)
	}
	q.err = errors.New("unavailable")
	if _, err := c.Count(context.Background()); err == nil || !strings.Contains(err.Error(), "task queue dcrflow") {
		t.Errorf("error: %v", err)
	}
	if a, b := Identity(), Identity(); a == b || !strings.Contains(a, "@") {
		t.Errorf("identities %q, %q: want two distinct pid@host@suffix", a, b)
	}
}

// Two workers on one task queue of a real Temporal server each learn that the
// budget is shared by two.
func TestCounter_TwoWorkersOnADevServerEachTakeHalf(t *testing.T) {
	srv := devserver.Start(t)
	const queue, budget = "peers-test", 600
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var budgets []*ratelimit.Budget
	for range 2 {
		id := Identity()
		w := worker.New(srv.Client(), queue, worker.Options{Identity: id})
		// A worker polls for activities only when it has some.
		w.RegisterActivityWithOptions(func(context.Context) error { return nil }, activity.RegisterOptions{Name: "noop"})
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
		b := ratelimit.New(ratelimit.Config{Budgets: map[ratelimit.System]int{ratelimit.OktaManagement: budget}})
		c := &Counter{Client: srv.Client(), TaskQueue: queue, Identity: id}
		go b.Follow(ctx, c.Count, 100*time.Millisecond, func(err error) { t.Errorf("count: %v", err) })
		budgets = append(budgets, b)
	}
	half := budget * (1 - ratelimit.DefaultHeadroom) / 2
	deadline := time.Now().Add(30 * time.Second)
	for {
		done := true
		for _, b := range budgets {
			done = done && b.Workers() == 2 && b.Rate(ratelimit.OktaManagement) == half
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: workers %d and %d, rates %v and %v; want 2 and %v each", budgets[0].Workers(), budgets[1].Workers(),
				budgets[0].Rate(ratelimit.OktaManagement), budgets[1].Rate(ratelimit.OktaManagement), half)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
