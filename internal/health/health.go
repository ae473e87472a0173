// Package health answers a worker's liveness and readiness probes: /healthz (the
// process serves) and /readyz (connected to Temporal, and Temporal sees this worker
// polling its task queue for workflow and activity tasks).
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// Temporal is what the checks ask of the Temporal client.
type Temporal interface {
	CheckHealth(ctx context.Context, request *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
	DescribeTaskQueue(ctx context.Context, taskQueue string, taskQueueType enumspb.TaskQueueType) (*workflowservice.DescribeTaskQueueResponse, error)
}

// Checker checks readiness every Every (default 5 s) and answers the probes from the
// last result, so a probe never waits on Temporal.
type Checker struct {
	Client    Temporal
	TaskQueue string
	Identity  string // the worker's identity, as its pollers report it
	Every     time.Duration

	mu     sync.Mutex
	status Status
}

// Status is /readyz's answer.
type Status struct {
	Ready     bool      `json:"ready"`
	Temporal  string    `json:"temporal"` // "ok" or the error
	Polling   []string  `json:"polling"`  // the task queue types Temporal sees this worker poll
	Reason    string    `json:"reason,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// Run checks until ctx ends.
func (c *Checker) Run(ctx context.Context) {
	every := c.Every
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		c.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check checks once and keeps the result.
func (c *Checker) Check(ctx context.Context) Status {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s := Status{Temporal: "ok", Polling: []string{}, CheckedAt: time.Now().UTC()}
	if _, err := c.Client.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		s.Temporal, s.Reason = err.Error(), "Temporal does not answer"
	} else {
		for _, q := range []struct {
			name string
			typ  enumspb.TaskQueueType
		}{{"workflow", enumspb.TASK_QUEUE_TYPE_WORKFLOW}, {"activity", enumspb.TASK_QUEUE_TYPE_ACTIVITY}} {
			resp, err := c.Client.DescribeTaskQueue(ctx, c.TaskQueue, q.typ)
			if err != nil {
				s.Reason = fmt.Sprintf("describe task queue %s: %v", c.TaskQueue, err)
				break
			}
			if slices.ContainsFunc(resp.GetPollers(), func(p *taskqueuepb.PollerInfo) bool { return p.GetIdentity() == c.Identity }) {
				s.Polling = append(s.Polling, q.name)
			}
		}
		if s.Reason == "" && len(s.Polling) < 2 {
			s.Reason = fmt.Sprintf("not yet polling task queue %s for workflow and activity tasks", c.TaskQueue)
		}
	}
	s.Ready = s.Reason == ""
	c.mu.Lock()
	c.status = s
	c.mu.Unlock()
	return s
}

// Last is the last result (not ready before the first check).
func (c *Checker) Last() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.status
	if s.CheckedAt.IsZero() {
		s.Reason = "not checked yet"
	}
	return s
}

// Healthz answers 200 while the process serves.
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
}

// Readyz answers 200 with the status when ready, 503 otherwise.
func (c *Checker) Readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s := c.Last()
		w.Header().Set("Content-Type", "application/json")
		if !s.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(s)
	})
}
