package usage_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/usage"
)

// BenchmarkBook_HeldPerPortal is what the usage records hold in memory for each
// portal of a fleet shaped like the bench's (3 scopes of its own, the claim and the
// access policy shared per server, its own DCR provider and auth strategy, 3
// publications), kept by the worker that runs the records: the bytes/portal metric.
func BenchmarkBook_HeldPerPortal(b *testing.B) {
	const portals, servers = 10000, 25
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		books := map[string]*usage.Book{}
		book := func(domain string, k usage.Key) *usage.Book {
			id := fmt.Sprintf("%s/%d", domain, usage.ShardOf(k))
			if books[id] == nil {
				books[id] = usage.NewBook(nil)
			}
			return books[id]
		}
		for i := range portals {
			portal, run := fmt.Sprintf("bench-%d", i), fmt.Sprintf("0193a4f2-7c1e-7d3b-9a51-%012d", i)
			server := fmt.Sprintf("okta:aus%017d", i%servers)
			id := fmt.Sprintf("5f0c6e2a-1b3d-4c5e-8f7a-%012d", i)
			keys := []struct {
				domain string
				usage.Key
			}{
				{server, usage.Key{Kind: dcrflow.KindClaim, Name: "client_id"}},
				{server, usage.Key{Kind: dcrflow.KindAccessPolicy, Name: "dcrflow"}},
				{"konnect", usage.Key{Kind: dcrflow.KindDCRProvider, Name: portal + "-okta"}},
				{"konnect", usage.Key{Kind: dcrflow.KindAuthStrategy, Name: portal + "-dcr"}},
			}
			for s := range 3 {
				keys = append(keys,
					struct {
						domain string
						usage.Key
					}{server, usage.Key{Kind: dcrflow.KindScope, Name: fmt.Sprintf("%s:scope%d", portal, s)}},
					struct {
						domain string
						usage.Key
					}{"konnect", usage.Key{Kind: dcrflow.KindPublication, Name: fmt.Sprintf("a1b2c3d4-0000-4000-8000-%012d/%s", (i+s)%60, id)}})
			}
			for _, k := range keys {
				bk := book(k.domain, k.Key)
				// Each update decodes its own copy of every string, as the worker does.
				k.Name, k.Kind = strings.Clone(k.Name), dcrflow.Kind(strings.Clone(string(k.Kind)))
				bk.Join(usage.Join{Domain: k.domain, Key: k.Key, Portal: strings.Clone(portal), Run: strings.Clone(run)}, t0)
				bk.Note(usage.Note{Domain: k.domain, Key: k.Key, Portal: portal, Creating: k.Kind != dcrflow.KindPublication,
					Changing: k.Kind == dcrflow.KindPublication})
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/portals, "bytes/portal")
		runtime.KeepAlive(books)
	}
}
