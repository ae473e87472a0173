package onboarding

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/internal/costtest"
)

// largestFile is the largest file the value bound lets through: 99,990 portals of a
// name and a scope each (4.3 MB).
func largestFile() []byte {
	var b strings.Builder
	b.WriteString("portals:\n")
	for i := range 99_990 {
		fmt.Fprintf(&b, "  - name: p%d\n    scopes: [p%d:read]\n", i, i)
	}
	return []byte(b.String())
}

// costCases are the files whose cost is bounded by a multiple of their size: valid
// fleets and the largest file the value bound allows.
var costCases = []struct {
	name   string
	raw    func() []byte
	n      int
	factor uint64 // the heap's peak is at most factor times the file, plus fixedCost
}{
	// The portals returned alone are 5 times this file (15 MiB).
	{"20,000 portals", func() []byte { return fleetFile(20_000) }, 20_000, 20},
	// The portals returned alone are 8 times this file (34 MiB): 43 bytes a portal.
	{"99,990 portals", largestFile, 99_990, 32},
	// Document markers around the portals no longer make the file read whole (it was
	// 40 times the file, 114 MiB).
	{"20,000 portals between document markers", func() []byte { return append(append([]byte("---\n"), fleetFile(20_000)...), "...\n"...) }, 20_000, 20},
	// A flow list, here JSON, is read in pieces too (it was 35 times the file, 114 MiB).
	{"20,000 portals in JSON", func() []byte { return jsonFleet(20_000) }, 20_000, 20},
	// The worst valid shape: portals of 28 bytes, a name and a scope. What is kept of
	// a portal (its spec, what the checks across portals record) is about 1 KB, 40
	// times that, whatever reads it; the value limit caps such a file near 70,000.
	{"60,000 portals of a name and a scope, in a flow list", func() []byte {
		var b strings.Builder
		b.WriteString("portals: [")
		for i := range 60_000 {
			fmt.Fprintf(&b, "{name: p%d, scopes: [x]},", i)
		}
		return []byte(b.String() + "]\n")
	}, 60_000, 48},
	// Read whole (it has aliases): near the most portals the budget of a file read
	// whole lets through, 2,900 of them (0.22 MB).
	{"2,500 portals sharing an alias", func() []byte { return anchorFleet(2500) }, 2500, 30},
}

// jsonFleet is fleetFile in JSON.
func jsonFleet(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"defaults": {"auth_server": "default", "labels": {"env": "prod"}},` + "\n" + ` "portals": [` + "\n")
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `  {"name": "portal-%d", "scopes": ["p%d:read", "p%d:write"], "apis": ["api-%d", {"api": "orders-%d", "visibility": "public"}], "labels": {"team": "t%d"}}`, i, i, i, i, i, i)
	}
	b.WriteString("\n]}\n")
	return []byte(b.String())
}

// fixedCost is what reading a file costs whatever its size: a batch's tree, the
// collector's slack.
const fixedCost = 8 << 20

// TestParse_MemoryIsASmallMultipleOfTheFile: a valid file's heap peak, while it is
// read and checked, is a small multiple of its size plus a few MiB (read whole, it
// was 38 and 55 times the file: 109 and 223 MiB).
func TestParse_MemoryIsASmallMultipleOfTheFile(t *testing.T) {
	if testing.Short() {
		t.Skip("files of megabytes")
	}
	for _, c := range costCases {
		t.Run(c.name, func(t *testing.T) {
			raw := c.raw()
			var (
				got int
				err error
			)
			cost := costtest.Within(t, 20*time.Second, c.factor*uint64(len(raw))+fixedCost, func() {
				specs, e := Parse("fleet.yaml", raw)
				got, err = len(specs), e
			})
			if err != nil || got != c.n {
				t.Fatalf("%d portals, err %.500v", got, err)
			}
			t.Logf("%d portals, %.1f MB: %v, heap peak %.1f MiB (%.1f× the file)", c.n, float64(len(raw))/1e6, cost.Time, cost.MB(), float64(cost.Peak)/float64(len(raw)))
		})
	}
}

// BenchmarkParse reads the cost cases in pieces (split) and whole.
//
//	go test -run '^$' -bench BenchmarkParse -benchmem ./onboarding/
func BenchmarkParse(b *testing.B) {
	for _, c := range costCases {
		raw := c.raw()
		for _, split := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/split=%v", c.name, split), func(b *testing.B) {
				if !split && valueBound(raw) > wholeBudget(len(raw)) {
					b.Skip("over the budget of a file read whole: refused at once")
				}
				b.SetBytes(int64(len(raw)))
				for b.Loop() {
					if _, err := parse("f.yaml", raw, split); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
