package workflows

import (
	"testing"

	"go.temporal.io/sdk/worker"
)

// A run recorded before step 4 existed (testdata, exported from a dev server with
// the code of that time) replays on today's code: the step is versioned
// (workflow.GetVersion), so runs in flight during an upgrade go on undisturbed.
func TestOnboardPortal_ReplaysARunRecordedBeforeStep4(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	Register(r)
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/onboard_before_access_policy.json"); err != nil {
		t.Fatal(err)
	}
}

// A usage record recorded before its runs were shortened (testdata: the Konnect
// record's shard 3 after `make run` and one portal's offboarding, with the code of
// that time: joins, notes, a leave and a release) replays on today's code, whose
// answers name fewer users and whose book is held and packed differently.
func TestUsageRecord_ReplaysARunRecordedBeforeShorterRuns(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	Register(r)
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/usage_record_before_shorter_runs.json"); err != nil {
		t.Fatal(err)
	}
}
