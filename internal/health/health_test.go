package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

type fakeTemporal struct {
	healthErr error
	pollers   map[enumspb.TaskQueueType][]string
}

func (f *fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, f.healthErr
}

func (f *fakeTemporal) DescribeTaskQueue(_ context.Context, _ string, typ enumspb.TaskQueueType) (*workflowservice.DescribeTaskQueueResponse, error) {
	var ps []*taskqueuepb.PollerInfo
	for _, id := range f.pollers[typ] {
		ps = append(ps, &taskqueuepb.PollerInfo{Identity: id})
	}
	return &workflowservice.DescribeTaskQueueResponse{Pollers: ps}, nil
}

func readyz(t *testing.T, c *Checker) (int, Status) {
	t.Helper()
	rec := httptest.NewRecorder()
	c.Readyz().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	var s Status
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	return rec.Code, s
}

func TestChecker_ReadyOnlyWhenTemporalAnswersAndSeesThisWorkerPoll(t *testing.T) {
	f := &fakeTemporal{pollers: map[enumspb.TaskQueueType][]string{}}
	c := &Checker{Client: f, TaskQueue: "dcrflow", Identity: "me"}
	if code, s := readyz(t, c); code != http.StatusServiceUnavailable || s.Ready || s.Reason != "not checked yet" {
		t.Fatalf("before any check: %d %+v", code, s)
	}
	// Another worker polls, this one not yet.
	f.pollers[enumspb.TASK_QUEUE_TYPE_WORKFLOW] = []string{"other"}
	c.Check(context.Background())
	if code, s := readyz(t, c); code != http.StatusServiceUnavailable || s.Ready || len(s.Polling) != 0 {
		t.Fatalf("not polling: %d %+v", code, s)
	}
	// Workflow tasks only: not ready.
	f.pollers[enumspb.TASK_QUEUE_TYPE_WORKFLOW] = []string{"other", "me"}
	c.Check(context.Background())
	if code, _ := readyz(t, c); code != http.StatusServiceUnavailable {
		t.Fatalf("polling workflow tasks only: %d", code)
	}
	f.pollers[enumspb.TASK_QUEUE_TYPE_ACTIVITY] = []string{"me"}
	c.Check(context.Background())
	if code, s := readyz(t, c); code != http.StatusOK || !s.Ready || len(s.Polling) != 2 || s.Temporal != "ok" {
		t.Fatalf("polling both: %d %+v", code, s)
	}
	// Temporal gone: not ready, saying why.
	f.healthErr = errors.New("connection refused")
	c.Check(context.Background())
	if code, s := readyz(t, c); code != http.StatusServiceUnavailable || s.Temporal != "connection refused" || s.Reason == "" {
		t.Fatalf("Temporal down: %d %+v", code, s)
	}
	rec := httptest.NewRecorder()
	Healthz().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("healthz: %d", rec.Code)
	}
}
