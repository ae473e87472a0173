package workflows

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

// A fleet recorded with the code before bounded summaries (testdata, exported from a
// dev server at 057618f: four portals, two per run, one of them already running and
// so counted as failed then) replays on today's code: attaching, chunks and the
// preflight are versioned (fleetBounded), so fleets in flight during an upgrade go
// on undisturbed.
func TestOnboardFleet_ReplaysRunsRecordedBeforeBoundedSummaries(t *testing.T) {
	for _, f := range []string{"testdata/fleet_before_bounded_run1.json", "testdata/fleet_before_bounded_run2.json"} {
		r := worker.NewWorkflowReplayer()
		Register(r)
		if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// The second run of that fleet was continued by the old code: its input carries the
// summary portal by name. Today's code folds it into counts and kept failures.
func TestOnboardFleet_FoldsALegacySummaryIntoCounts(t *testing.T) {
	raw, err := os.ReadFile("testdata/fleet_before_bounded_run2.json")
	if err != nil {
		t.Fatal(err)
	}
	var h historypb.History
	if err := protojson.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	var in dcrflow.FleetInput
	if err := converter.GetDefaultDataConverter().FromPayloads(h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput(), &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Summary.SucceededKeys) != 1 || len(in.Summary.FailedList) != 1 {
		raw, _ := json.Marshal(in.Summary)
		t.Fatalf("legacy summary not read: %s", raw)
	}
	r := runFleet(t, in, fleetSetup{})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sum.Total != 4 || r.sum.Succeeded != 3 || r.sum.Failed != 1 || len(r.sum.Failures) != 1 || r.sum.Failures[0].Portal != "busy" ||
		len(r.sum.SucceededKeys) != 0 || len(r.sum.FailedList) != 0 {
		t.Fatalf("summary = %+v", r.sum)
	}
}

// The desk answers each preflight from a worker's WorkerInfo, and stays one run.
func TestWorkerDesk_AnswersEveryUpdate(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(a.WorkerInfo, mock.Anything).Return(dcrflow.WorkerInfo{DCRTokenNames: []string{"default", "partners-eu"}}, nil)
	var got []dcrflow.WorkerInfo
	for i := range 3 {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(dcrflow.UpdateWorkerInfo, fmt.Sprint(i), &testsuite.TestUpdateCallback{
				OnAccept: func() {}, OnReject: func(err error) { t.Errorf("rejected: %v", err) },
				OnComplete: func(v any, err error) {
					if err != nil {
						t.Errorf("update %d: %v", i, err)
						return
					}
					got = append(got, v.(dcrflow.WorkerInfo))
				}})
		}, time.Duration(i+1)*time.Minute)
	}
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Hour)
	env.ExecuteWorkflow(WorkerDesk)
	if len(got) != 3 || !slices.Equal(got[2].DCRTokenNames, []string{"default", "partners-eu"}) {
		t.Fatalf("answers = %+v", got)
	}
}
