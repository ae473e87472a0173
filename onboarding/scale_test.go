package onboarding

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/internal/costtest"
)

// fleetFile is a valid file of n portals, each with two scopes, two APIs (one as a
// mapping), a label, and a DCR provider and auth strategy of its own.
func fleetFile(n int) []byte {
	var b strings.Builder
	b.WriteString("defaults:\n  auth_server: default\n  labels: {env: prod}\nportals:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: portal-%d\n    scopes: [p%d:read, p%d:write]\n    apis: [api-%d, {api: orders-%d, visibility: public}]\n    labels: {team: t%d}\n", i, i, i, i, i, i)
	}
	return []byte(b.String())
}

func TestParse_AcceptsA20000PortalFile(t *testing.T) {
	acceptWithin(t, fleetFile(20_000), 20_000, 10*time.Second, 64<<20)
}

// acceptWithin parses raw, which must hold n valid portals, within maxTime and a heap
// peak of maxBytes.
func acceptWithin(t *testing.T, raw []byte, n int, maxTime time.Duration, maxBytes uint64) {
	t.Helper()
	var (
		got int
		err error
	)
	cost := costtest.Within(t, maxTime, maxBytes, func() {
		specs, e := Parse("fleet.yaml", raw)
		got, err = len(specs), e
	})
	if err != nil || got != n {
		t.Fatalf("%d portals, err %.500v", got, err)
	}
	t.Logf("%d portals, %.1f MB: %v, heap peak %.0f MiB", n, float64(len(raw))/1e6, cost.Time, cost.MB())
}

// The largest file the value bound lets through: 99,990 portals of a name and a scope
// each (4.3 MB). It loads, within bounds.
func TestParse_AcceptsTheLargestFileTheBoundAllows(t *testing.T) {
	if testing.Short() {
		t.Skip("a 4 MB file")
	}
	var b strings.Builder
	b.WriteString("portals:\n")
	for i := range 99_990 {
		fmt.Fprintf(&b, "  - name: p%d\n    scopes: [p%d:read]\n", i, i)
	}
	raw := []byte(b.String())
	if bound := valueBound(raw); bound > maxValues || bound < maxValues-100 {
		t.Fatalf("valueBound = %d: not just under %d", bound, maxValues)
	}
	acceptWithin(t, raw, 99_990, 20*time.Second, 128<<20)
}

// Files just under the value bound, of the shapes yaml.v3 makes most values of, stay
// within a bounded heap: read in pieces, or refused before any tree is built when
// read whole (until the budget of a file read whole, 320 to 510 MiB).
func TestParse_MemoryAtTheValueBound(t *testing.T) {
	if testing.Short() {
		t.Skip("files of up to 5 MB")
	}
	labels := func(n int) []byte {
		var b strings.Builder
		b.WriteString("portals:\n  - name: a\n    scopes: [x]\n    labels:\n")
		for i := range n {
			fmt.Fprintf(&b, "      k%d: v\n", i)
		}
		return []byte(b.String())
	}
	for name, raw := range map[string][]byte{
		"a flow list":        []byte("portals: [" + strings.Repeat("a,", 490_000) + "]\n"),
		"a block list":       []byte("portals:\n" + strings.Repeat("- a\n", 330_000)),
		"a mapping":          labels(330_000),
		"a fleet of 26,000":  fleetFile(26_000),
		"nested flow lists":  []byte("portals: [" + strings.Repeat("[[]],", 160_000) + "]\n"),
		"explicit keys only": []byte("portals:\n  - name: a\n    scopes: [x]\n    labels: {" + strings.Repeat("? ,", 160_000) + "}\n"),
	} {
		t.Run(name, func(t *testing.T) {
			if b := valueBound(raw); b > maxValues || b < maxValues*3/4 {
				t.Fatalf("valueBound = %d: not just under %d", b, maxValues)
			}
			cost := costtest.Within(t, 5*time.Second, wholeCap, func() { _, _ = Parse("f.yaml", raw) })
			t.Logf("%s, %.1f MB: %v, heap peak %.0f MiB", name, float64(len(raw))/1e6, cost.Time, cost.MB())
		})
	}
}

// Load reads through readfile: what is not a regular file of at most 32 MiB is
// refused at once, naming the file and the limit.
func TestLoad_RefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	for name, target := range map[string]string{"zero.yaml": "/dev/zero", "random.yaml": "/dev/urandom"} {
		if err := os.Symlink(target, at(name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(at("fifo.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Create(at("big.yaml")); err != nil || f.Truncate(32<<20+1) != nil || f.Close() != nil {
		t.Fatal(err)
	}
	const notRegular = ", not a regular file; an onboarding file must be a regular file (of at most 32 MiB)"
	for name, want := range map[string]string{
		"zero.yaml":   "onboarding file " + at("zero.yaml") + ": a character device (such as /dev/zero or /dev/urandom)" + notRegular,
		"random.yaml": "onboarding file " + at("random.yaml") + ": a character device (such as /dev/zero or /dev/urandom)" + notRegular,
		"fifo.yaml":   "onboarding file " + at("fifo.yaml") + ": a named pipe (FIFO)" + notRegular,
		"big.yaml":    "onboarding file " + at("big.yaml") + ": larger than 32 MiB, the limit for an onboarding file; split the portals into several files",
		"none.yaml":   "onboarding file " + at("none.yaml") + ": no such file or directory",
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			costtest.Within(t, 2*time.Second, 16<<20, func() { _, err = Load(at(name)) })
			if err == nil || err.Error() != want {
				t.Fatalf("err = %v\nwant  %s", err, want)
			}
		})
	}
}

// What looks odd but is harmless still loads: a byte-order mark at the start,
// letters beyond ASCII, a URL without a password, ids that merely start with 00.
func TestParse_AcceptsHarmlessText(t *testing.T) {
	specs, err := Parse("f.yaml", []byte("\ufeffportals:\n  - name: a\n    portal: Zoë's 日本 shop\n    scopes: [x]\n"+
		"    auth_strategy: {display_name: \"Okta DCR — café\"}\n    apis: [https://api.example.com/orders, 00aa11bb-2222-4333-8444-555566667777]\n"+
		"    labels: {Team: payments}\n"))
	if err != nil || specs[0].Portal != "Zoë's 日本 shop" || specs[0].Labels["Team"] != "payments" {
		t.Fatalf("specs = %+v, err = %v", specs, err)
	}
}

// underWholeBudget is a file of size bytes (padded with a comment) holding as many
// units as the budget of a file read whole lets through: head, then unit(i) for each
// i, then tail.
func underWholeBudget(t *testing.T, size int, head string, unit func(i int) string, tail string) []byte {
	t.Helper()
	build := func(k int) []byte {
		var b strings.Builder
		b.WriteString(head)
		for i := range k {
			b.WriteString(unit(i))
		}
		b.WriteString(tail)
		if pad := size - b.Len() - 2; pad > 0 {
			b.WriteString("#" + strings.Repeat("x", pad) + "\n")
		}
		return []byte(b.String())
	}
	// valueBound grows by the same amount a unit: find k from two points, then step
	// down to the first k within the budget.
	at1k, at2k := valueBound(build(1000)), valueBound(build(2000))
	perUnit := float64(at2k-at1k) / 1000
	k := int(float64(wholeBudget(size)-at1k)/perUnit) + 1000
	for ; k > 0; k -= max(k/1000, 1) {
		if raw := build(k); valueBound(raw) <= wholeBudget(len(raw)) && len(raw) <= size {
			return raw
		}
	}
	t.Fatalf("no file of %d bytes fits", size)
	return nil
}

// Files read whole, of the shapes yaml.v3 makes most values of, padded to just under
// the budget of a file read whole: the heap's peak stays within what the budget
// promises (30 times the file plus 16 MiB, and 150 MiB at most), which checks
// bytesPerValue.
func TestParse_MemoryAtTheWholeBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("files of up to 5 MB")
	}
	const portal = "portals:\n  - name: a\n    scopes: [x]\n"
	shapes := []struct {
		name, head, tail string
		unit             func(i int) string
	}{
		{"a flow list", "portals: [", "]\n", func(int) string { return "a," }},
		{"nested flow lists", "portals: [", "]\n", func(int) string { return "[[]]," }},
		{"flow labels", portal + "    labels: {", "}\n", func(i int) string { return fmt.Sprintf("k%d: v,", i) }},
		{"explicit keys only", portal + "    labels: {", "}\n", func(int) string { return "? ," }},
		{"block scopes", portal[:len(portal)-len(" [x]\n")] + "\n", "", func(int) string { return "      - x\n" }},
		{"portals sharing an alias", "defaults: {claim: app_id}\nportals:\n  - {name: p, scopes: [x], labels: &l {a: b}}\n", "",
			func(i int) string { return fmt.Sprintf("  - {name: p%d, scopes: [x], labels: *l}\n", i) }},
	}
	for _, size := range []int{1 << 20, 5 << 20} {
		for i, c := range shapes {
			if size > 1<<20 && i > 2 {
				break // at the cap, the shapes that cost the most a value
			}
			t.Run(fmt.Sprintf("%s, %d MiB", c.name, size>>20), func(t *testing.T) {
				raw := underWholeBudget(t, size, c.head, c.unit, c.tail)
				if valueBound(raw) <= pieceBudget {
					t.Fatal("a file of few values: it may be read in pieces")
				}
				promise := uint64(min(wholeFactor*len(raw)+wholeFixed, wholeCap))
				var err error
				cost := costtest.Within(t, 10*time.Second, promise, func() { _, err = Parse("f.yaml", raw) })
				t.Logf("%.1f MB, %d values counted: %v, heap peak %.0f MiB (promised %d MiB); %.200v", float64(len(raw))/1e6, valueBound(raw), cost.Time, cost.MB(), promise>>20, err)
			})
		}
	}
}

// labelsFile is a file of n portals after defaults (or a first portal) holding
// labels: a label's key and value, k0: v0, ...
func labelsFile(n, labels int, head, perPortal, headTail string) []byte {
	var b strings.Builder
	b.WriteString(head)
	for i := range labels {
		fmt.Fprintf(&b, "k%d: v%d, ", i, i)
	}
	b.WriteString(headTail)
	for i := range n {
		fmt.Fprintf(&b, perPortal, i)
	}
	return []byte(b.String())
}

// sharedLabels is a file of n+1 portals whose 47 labels are one alias: each portal
// read keeps its own copy, so the aliases, not the file, make its cost.
func sharedLabels(n int) []byte {
	return labelsFile(n, maxUserLabels, "defaults: {claim: app_id}\nportals:\n  - {name: p, scopes: [x], labels: &l {", "  - {name: p%d, scopes: [x], labels: *l}\n", "}}\n")
}

// defaultsFanOut is a file of n portals, each with a label of its own beside the
// defaults' 46: each keeps a copy of the defaults' labels.
func defaultsFanOut(n int) []byte {
	return labelsFile(n, maxUserLabels-1, "defaults:\n  labels: {", "  - name: p%d\n    scopes: [x]\n    labels: {t: x}\n", "}\nportals:\n")
}

// acceptsTheMostWithin finds, between lo (accepted) and hi (refused), about the
// largest n whose file gen(n) loads, and checks that it loads within the budget of
// its size (with its portals: n+extra).
func acceptsTheMostWithin(t *testing.T, gen func(n int) []byte, lo, hi, extra int) {
	t.Helper()
	accepted := func(n int) bool { _, err := Parse("f.yaml", gen(n)); return err == nil }
	if !accepted(lo) || accepted(hi) {
		t.Fatalf("%d portals refused, or %d accepted", lo, hi)
	}
	for hi-lo > max(hi/200, 1) {
		if mid := (lo + hi) / 2; accepted(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	raw := gen(lo)
	promise := uint64(min(wholeFactor*len(raw)+wholeFixed, wholeCap))
	acceptWithin(t, raw, lo+extra, 5*time.Second, promise)
	t.Logf("about the most: %d portals, %d bytes (promised %d MiB)", lo+extra, len(raw), promise>>20)
}

// The most portals sharing their labels through an alias that a file may hold loads
// within the budget of its size (before the aliases were budgeted, 2,250 of them,
// 96 KB, took 29 MiB: 300 times the file).
func TestParse_AliasesWithinTheBudget(t *testing.T) {
	acceptsTheMostWithin(t, sharedLabels, 1, 1500, 1)
}

// The most portals with labels of their own beside the defaults' 46 that a file may
// hold loads within the budget of its size (before the copies were budgeted, 10,000
// of them, 0.5 MB, took 41 MiB: 85 times the file); 99,000 portals sharing the
// defaults' 47 labels load within 128 MiB (they took 414 MiB: now they share one map).
func TestParse_DefaultLabelsWithinTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("files of megabytes")
	}
	acceptsTheMostWithin(t, defaultsFanOut, 100, 10_000, 0)
	shared := labelsFile(99_000, maxUserLabels, "defaults:\n  labels: {", "  - name: p%d\n    scopes: [x]\n", "}\nportals:\n")
	acceptWithin(t, shared, 99_000, 20*time.Second, 128<<20)
}

// What the defaults give every portal is not copied into each: a DCR token name of
// 100 KB in capitals (normalised once a portal, it took 106 MiB for 1,000 portals)
// loads within the budget of the file.
func TestParse_DefaultsAreNotCopiedIntoEachPortal(t *testing.T) {
	raw := append([]byte("defaults:\n  dcr_token: "+strings.Repeat("A", 100_000)+"\nportals:\n"), fleetFile(1000)[len("defaults:\n  auth_server: default\n  labels: {env: prod}\nportals:\n"):]...)
	acceptWithin(t, raw, 1000, 2*time.Second, uint64(wholeFactor*len(raw)+wholeFixed))
}
