package dcrflow

import (
	"reflect"
	"testing"
)

func TestTokenNames_NextAndUses(t *testing.T) {
	if NextDCRTokenName("Partners_EU") != "partners-eu-next" || RotateWorkflowID("Partners_EU") != "dcrflow-rotate/partners-eu" {
		t.Fatal("names")
	}
	if b, ok := IsNextDCRTokenName("PARTNERS_NEXT"); !ok || b != "partners" {
		t.Fatalf("IsNext: %q %v", b, ok)
	}
	if _, ok := IsNextDCRTokenName("-next"); ok {
		t.Fatal("a bare suffix is no next token")
	}
	got := TokenUsesOf([]PortalSpec{
		{Key: "b", DCRTokenName: "default", DCRProvider: "okta-2"},
		{Key: "a", DCRTokenName: "default", DCRProvider: "okta-1"},
		{Key: "c", DCRTokenName: "Partners", DCRProvider: "okta-2"},
		{Key: "d", DCRTokenName: "default", DCRProvider: "okta-1"},
	})
	want := []DCRTokenUse{{Name: "default", Providers: []string{"okta-1", "okta-2"}, Portals: []string{"b", "a", "d"}},
		{Name: "partners", Providers: []string{"okta-2"}, Portals: []string{"c"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("uses: %+v", got)
	}
	r := RotateResult{Providers: []ProviderRotation{{Provider: "a", Outcome: RotationRotated}, {Provider: "b", Outcome: RotationSkipped}, {Provider: "c", Outcome: RotationGone}}}
	if got := r.OnOldToken(); len(got) != 1 || got[0] != "b" {
		t.Fatalf("on old: %v", got)
	}
}
