package activities_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/clients/okta"
)

// RepairScope puts back (through Okta's PUT) a scope dcrflow made that someone set to
// REQUIRED, keeping its description; a second call changes nothing; a changed scope
// dcrflow did not make is refused, untouched; a gone one is left to onboarding.
func TestRepairScope_PutsBackOnlyWhatDcrflowMade(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	made, err := call[dcrflow.Resource](h, a.EnsureScope, activities.ScopeInput{AuthServerID: "default", Scope: dcrflow.ScopeSpec{Name: "pay:read", Description: "Read"}, PortalKey: "p"})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := h.okta.FindScope(ctx, "default", "pay:read")
	if err != nil || sc == nil || sc.ID != made.ID {
		t.Fatalf("find: %+v %v", sc, err)
	}
	desc := sc.Description
	sc.Consent = okta.ConsentRequired
	if _, err := h.okta.UpdateScope(ctx, "default", *sc); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{activities.RepairFixed, activities.RepairUnchanged} {
		got, err := call[string](h, a.RepairScope, activities.RepairScopeInput{AuthServerID: "default", Name: "pay:read"})
		if err != nil || got != want {
			t.Fatalf("call %d: %q %v, want %q", i+1, got, err, want)
		}
	}
	after, _ := h.okta.FindScope(ctx, "default", "pay:read")
	if after.Consent != okta.ConsentImplicit || after.Description != desc || after.ID != made.ID {
		t.Errorf("after repair: %+v (description was %q)", after, desc)
	}

	theirs, err := h.okta.CreateScope(ctx, "default", okta.Scope{Name: "theirs", Description: "Theirs", Consent: okta.ConsentRequired})
	if err != nil {
		t.Fatal(err)
	}
	_, err = call[string](h, a.RepairScope, activities.RepairScopeInput{AuthServerID: "default", Name: "theirs"})
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeConflict || retry || !strings.Contains(err.Error(), "not made by dcrflow") {
		t.Errorf("foreign scope: %v (%s, retryable %v)", err, typ, retry)
	}
	if still, _ := h.okta.FindScope(ctx, "default", "theirs"); still.Consent != okta.ConsentRequired || still.ID != theirs.ID {
		t.Errorf("the foreign scope was changed: %+v", still)
	}
	if got, err := call[string](h, a.RepairScope, activities.RepairScopeInput{AuthServerID: "default", Name: "gone"}); err != nil || got != activities.RepairAbsent {
		t.Errorf("gone: %q %v", got, err)
	}
}
