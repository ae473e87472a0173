package launcher

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow"
)

func TestMerge_ALaterRunsRemovalReplacesWhatTheFirstKeptInUse(t *testing.T) {
	first := &dcrflow.OffboardResult{Resources: []dcrflow.Resource{
		{Kind: dcrflow.KindClaim, Name: "client_id", Action: dcrflow.ActionKept, Reason: "still used by auth strategies dcrflow-internal"},
		{Kind: dcrflow.KindScope, Name: "theirs", Action: dcrflow.ActionKept, Reason: "not created by dcrflow"},
		{Kind: dcrflow.KindScope, Name: "pay:write", Action: dcrflow.ActionDeleted},
	}}
	if !keptInUse(first) {
		t.Fatal("a claim kept in use is not seen")
	}
	later := &dcrflow.OffboardResult{Resources: []dcrflow.Resource{
		{Kind: dcrflow.KindClaim, Name: "client_id", Action: dcrflow.ActionDeleted},
		{Kind: dcrflow.KindScope, Name: "theirs", Action: dcrflow.ActionKept, Reason: "not created by dcrflow"},
		{Kind: dcrflow.KindScope, Name: "pay:write", Action: dcrflow.ActionAbsent},
	}}
	if !merge(first, later) {
		t.Fatal("merge changed nothing")
	}
	got := []string{string(first.Resources[0].Action), string(first.Resources[1].Action), string(first.Resources[2].Action)}
	if strings.Join(got, ",") != "deleted,kept,deleted" {
		t.Errorf("merged = %v", got)
	}
	if keptInUse(first) || merge(first, later) {
		t.Error("merging again changes something")
	}
}

func TestPrintPlan_ATablePerPortalWithProblemsAndASummary(t *testing.T) {
	var b bytes.Buffer
	PrintPlan(&b, []dcrflow.PortalPlan{
		{Portal: "payments", AuthServerID: "default", PortalID: "p1", Items: []dcrflow.PlanItem{
			{Kind: dcrflow.KindScope, Name: "pay:read", ID: "scp1", Action: dcrflow.PlanAdopt},
			{Kind: dcrflow.KindClaim, Name: "client_id", Action: dcrflow.PlanAdopt, ByPortal: "first"},
			{Kind: dcrflow.KindAuthStrategy, Name: "s", ID: "s1", Action: dcrflow.PlanConflict, Diffs: []string{"scopes are [a], want [b]"}},
		}, Problems: []string{`auth strategy "s" exists and differs`}},
	})
	out := b.String()
	for _, want := range []string{"portal payments (Okta server default, Konnect portal p1)", "id scp1", "created by portal first earlier in this plan",
		"scopes are [a], want [b]", `PROBLEM: auth strategy "s" exists and differs`, "plan: 1 portal(s), 1 with problems: 2 adopt, 1 conflict"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
}
