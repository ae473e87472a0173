package launcher

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow"
)

// A portal naming a token the worker lacks is refused with the variable the user
// must set; names compare in their normal form, whatever the spelling.
func TestTokenProblems_NameTheVariableToSet(t *testing.T) {
	specs := []dcrflow.PortalSpec{{Key: "a", DCRTokenName: "partners-eu"}, {Key: "b", DCRTokenName: "Default"}}
	err := tokenProblems("portals.yaml", specs, dcrflow.WorkerInfo{DCRTokenNames: []string{"default"}})
	if err == nil {
		t.Fatal("no problem")
	}
	for _, want := range []string{`portals.yaml: portal "a": dcr_token: the worker has no DCR token named "partners-eu"`, "DCRFLOW_DCR_TOKEN_PARTNERS_EU", "dcr_tokens.partners-eu"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	if strings.Contains(err.Error(), `portal "b"`) {
		t.Errorf("Default and default are one name: %v", err)
	}
}

// A fleet's portals go in chunks of at most ChunkPortals portals and MaxChunkBytes
// each, in order, none lost: no payload grows with the fleet.
func TestPackChunks_BoundedAndComplete(t *testing.T) {
	var specs []dcrflow.PortalSpec
	for i := range 1234 {
		// Descriptions that do not compress make some chunks split by size.
		specs = append(specs, dcrflow.PortalSpec{Key: fmt.Sprintf("p-%04d", i), Scopes: []dcrflow.ScopeSpec{{Name: "s", Description: noise(i, 800)}}})
	}
	chunks, err := packChunks(specs)
	if err != nil {
		t.Fatal(err)
	}
	var got []dcrflow.PortalSpec
	for _, c := range chunks {
		if len(c) > MaxChunkBytes {
			t.Errorf("a chunk of %d bytes", len(c))
		}
		part, err := dcrflow.UnpackPortals(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(part) > ChunkPortals {
			t.Errorf("a chunk of %d portals", len(part))
		}
		got = append(got, part...)
	}
	if len(chunks) < 4 || len(got) != len(specs) || got[0].Key != "p-0000" || got[len(got)-1].Key != "p-1233" {
		t.Fatalf("%d chunks, %d portals", len(chunks), len(got))
	}
	for i := range got {
		if got[i].Key != specs[i].Key {
			t.Fatalf("portal %d is %s, want %s", i, got[i].Key, specs[i].Key)
		}
	}
}

// noise is n bytes that gzip cannot shrink much.
func noise(seed, n int) string {
	b := make([]byte, n)
	x := uint32(seed*2654435761 + 1)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = 'a' + byte(x%26)
	}
	return string(b)
}

// The final table prints counts, the kept failures and, for the rest, the query
// that lists every failed portal of the fleet.
func TestPrintFleet_CountsKeptFailuresAndTheQueryForTheRest(t *testing.T) {
	s := dcrflow.FleetSummary{Total: 10000, Succeeded: 9850, Failed: 150, Attached: 2}
	for i := range dcrflow.MaxFleetFailures {
		s.Failures = append(s.Failures, dcrflow.FleetFailure{Portal: fmt.Sprintf("p%d", i), Step: "resolve", Message: "404", Compensated: true})
	}
	var b strings.Builder
	PrintFleet(&b, s, "http://ui/namespaces/default", dcrflow.FleetWorkflowID("big"))
	out := b.String()
	for _, want := range []string{"10000 portal(s): 9850 succeeded, 150 failed (2 were already running", "p99", "FAILED at step resolve: 404 (undone)",
		"… and 50 more failed portal(s)", "ParentWorkflowId = 'dcrflow-fleet-big' AND ExecutionStatus = 'Failed'"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "FAILED"); n != dcrflow.MaxFleetFailures {
		t.Errorf("%d failure lines, want %d", n, dcrflow.MaxFleetFailures)
	}
}
