// Package peers counts the live workers on a Temporal task queue: the number a
// worker's request budgets are divided by (ratelimit.Budget.Refresh), so that any
// number of worker processes together stay within them.
package peers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// DefaultMaxAge is how recently a worker must have polled to count as live. An idle
// worker renews its poll about once a minute (the server's long-poll timeout), so a
// shorter age would drop live idle workers; a worker that died counts this long.
const DefaultMaxAge = 90 * time.Second

// Describer is the part of client.Client that Counter uses.
type Describer interface {
	DescribeTaskQueue(ctx context.Context, taskQueue string, taskQueueType enumspb.TaskQueueType) (*workflowservice.DescribeTaskQueueResponse, error)
}

// Counter counts the workers that poll TaskQueue for activities, the only tasks
// that call Okta and Konnect.
type Counter struct {
	Client    Describer
	TaskQueue string
	// Identity is this worker's (worker.Options.Identity): it counts once, also
	// before its first poll.
	Identity string
	// MaxAge is how recently a poller must have polled. Optional: DefaultMaxAge.
	MaxAge time.Duration
	// Now is the clock, for tests. Optional: time.Now.
	Now func() time.Time
}

// Count is the number of live workers, this one included: at least 1.
func (c *Counter) Count(ctx context.Context) (int, error) {
	resp, err := c.Client.DescribeTaskQueue(ctx, c.TaskQueue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
	if err != nil {
		return 0, fmt.Errorf("count the workers on task queue %s: %w", c.TaskQueue, err)
	}
	now, maxAge := time.Now, c.MaxAge
	if c.Now != nil {
		now = c.Now
	}
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	live := map[string]bool{}
	if c.Identity != "" {
		live[c.Identity] = true
	}
	for _, p := range resp.GetPollers() {
		if at := p.GetLastAccessTime(); at != nil && now().Sub(at.AsTime()) <= maxAge {
			live[p.GetIdentity()] = true
		}
	}
	return max(len(live), 1), nil
}

// Identity is a worker identity of the SDK's default form (pid@host@) made unique:
// two containers can share a pid and, with host networking, a host name, and two
// workers counted as one would each spend half the budget too much.
func Identity() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%d@%s@%s", os.Getpid(), host, hex.EncodeToString(b))
}
