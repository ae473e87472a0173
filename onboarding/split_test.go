package onboarding

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// sameAsWhole fails t unless reading raw in pieces gives what reading it whole gives:
// the same portals, or the same problems in the same order.
func sameAsWhole(t *testing.T, raw []byte) {
	t.Helper()
	wSpecs, wErr := parse("f.yaml", raw, false)
	if valueBound(raw) > wholeBudget(len(raw)) {
		// Read whole, the file is over its budget: refused before anything is built,
		// whatever reading it in pieces finds.
		if wErr == nil || !strings.Contains(wErr.Error(), ": holds up to ") {
			t.Fatalf("read whole, a file over its budget gives %.300v", wErr)
		}
		return
	}
	specs, err := parse("f.yaml", raw, true)
	if fmt.Sprint(err) != fmt.Sprint(wErr) || !reflect.DeepEqual(specs, wSpecs) {
		t.Fatalf("read in pieces and whole, %.300q gives\n%.3000v\n%+.1000v\nand\n%.3000v\n%+.1000v", raw, err, specs, wErr, wSpecs)
	}
}

// Every broken, hostile and example file reads the same in pieces as whole.
func TestParse_PiecesReadAsWhole(t *testing.T) {
	example, err := os.ReadFile("../examples/portals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sameAsWhole(t, example)
	for _, c := range brokenFiles {
		sameAsWhole(t, []byte(c.doc))
	}
	for _, c := range hostileFiles {
		if raw := c.gen(); len(raw) < 1<<20 {
			sameAsWhole(t, []byte(raw))
		}
	}
	if _, ok := (&parser{}).parseSplit(fleetFile(300)); !ok {
		t.Error("a fleet is not read in pieces")
	}
	sameAsWhole(t, fleetFile(300))
	// More than maxProblems problems, found both as portals are read and as they are
	// checked: the same first ones are shown, and the same number left out.
	var b strings.Builder
	b.WriteString("defaults: {claim: sub}\nportals:\n")
	for i := range 1200 {
		fmt.Fprintf(&b, "  - name: P_%d\n    nme: x\n    scopes: [openid]\n    portal: the portal of team %d, in a few words\n", i, i)
	}
	if b.Len() < batchBytes*3/2 {
		t.Fatalf("%d bytes: not several batches", b.Len())
	}
	sameAsWhole(t, []byte(b.String()))
	// Several batches: a portal named twice, and a Konnect portal spelt two ways, far
	// apart; a value over several lines where a batch may end (read whole).
	fleet := fleetFile(1000)
	sameAsWhole(t, append(fleet, "  - name: portal-3\n    scopes: [x]\n  - name: z\n    portal: PORTAL-5\n    scopes: [x]\n"...))
	for _, at := range []int{100, 450, 900} {
		split := strings.Index(string(fleet), fmt.Sprintf("  - name: portal-%d\n", at))
		raw := string(fleet[:split]) + "  - name: q\n    scopes: [x,\n  - y]\n    portal: \"a\n  - name: b\"\n" + string(fleet[split:])
		sameAsWhole(t, []byte(raw))
	}
	sameAsWhole(t, []byte(strings.ReplaceAll(string(fleetFile(300)), "\n", "\r\n")))
}

// The shapes read in pieces, and those read whole (anything whose meaning could
// depend on what surrounds a portal), each reading as they would whole.
func TestFindPortals(t *testing.T) {
	const two = "  - name: a\n    scopes: [x]\n  - name: b\n    scopes: [y]\n"
	for _, c := range []struct {
		name, doc string
		items     int  // what findPortals finds (0: read whole at once)
		whole     bool // the items found do not read alone: read whole after all
	}{
		{"block list", "portals:\n" + two, 2, false},
		{"defaults after", "portals:\n" + two + "defaults:\n  claim: cid\n", 2, false},
		{"defaults before, comments between", "defaults: {claim: cid}\n# the fleet\nportals:  # all of them\n\n  # first\n" + two + "# end\n", 2, false},
		{"unindented list", "portals:\n- name: a\n  scopes: [x]\n- name: b\n  scopes: [y]\nx: 1\n", 2, false},
		{"a multi-line quoted value", "portals:\n  - name: a\n    portal: \"a\n  - b\"\n    scopes: [x]\n", 2, true},
		{"a multi-line flow list", "portals:\n  - name: a\n    scopes: [x,\n  - y]\n", 2, true},
		{"a block scalar", "portals:\n  - name: a\n    portal: |\n      x\n  - name: b\n", 2, false},
		{"an alias", "portals:\n  - &p {name: a, scopes: [x]}\n  - *p\n", 0, false},
		{"ampersands and stars in text", "portals:\n  - name: a\n    portal: R&D * Payments & Billing\n    scopes: [x]\n  - name: b\n    scopes: [\"a*\", b&c]\n", 2, false},
		{"an anchor in a flow list", "portals: [{name: a, scopes: &s [x]}, {name: b, scopes: *s}]\n", 0, false},
		{"an anchor after a JSON key", "{\"portals\": [{\"name\": \"a\", \"scopes\":&s [\"x\"]}, {\"name\": \"b\", \"scopes\":*s}]}\n", 0, false},
		{"an alias at the start of a line", "portals:\n  - name: a\n    scopes:\n*s\n", 0, false},
		{"a second document", "portals:\n" + two + "---\nportals: []\n", 2, false},
		{"a document marker first", "# fleet\n--- # all\nportals:\n" + two + "...\n", 2, false},
		{"empty documents after", "---\nportals:\n" + two + "---\n---\n...\n", 2, false},
		{"portals in the second document", "defaults: {claim: cid}\n---\nportals:\n" + two, 2, true},
		{"a directive", "%YAML 1.2\n---\nportals:\n" + two, 0, false},
		{"portals twice", "portals:\n" + two + "portals:\n" + two, 0, false},
		{"quoted portals first", "\"portals\": [x]\nportals:\n" + two, 2, true},
		{"a flow list", "portals: [{name: a, scopes: [x]}]\n", 1, false},
		{"a flow list over lines", "defaults: {claim: app_id}\nportals: [ # all\n  {name: a, scopes: [x]},\n\n  {name: b,\n   scopes: [y]},  # b\n]\n", 2, false},
		{"a flow list at the start of lines", "portals: [\n{name: a, scopes: [x]},\n{name: b, scopes: [y]}]\n", 2, false},
		{"JSON", "{\"defaults\": {\"claim\": \"app_id\"},\n \"portals\": [{\"name\": \"a\", \"scopes\": [\"x\"]},\n  {\"name\": \"b\", \"scopes\":[\"y\"]}]}\n", 2, false},
		{"commas and brackets in quotes and comments", "portals: [{name: a, portal: \"x, ]y\\\"\", scopes: ['x, '' }']}, # a, ]\n  {name: b, scopes: [y]}]\n", 2, false},
		{"a quote inside a plain value", "portals: [{name: a, portal: it's, scopes: [x]}, {name: b, portal: b\"c, scopes: [y]}]\n", 2, false},
		{"a trailing comma", "portals: [{name: a, scopes: [x]},]\n", 1, false},
		{"an empty item", "portals: [{name: a, scopes: [x]},,{name: b}]\n", 0, false},
		{"items that are not mappings", "portals: [{name: a, scopes: [x]}, b]\n", 0, false},
		{"a flow list on the next line", "portals:\n  [{name: a, scopes: [x]}]\n", 0, false},
		{"a flow list after a tag", "portals: !!seq [{name: a, scopes: [x]}]\n", 0, false},
		{"portals as a key and in a value", "portals: [{name: portals, scopes: [x]}]\n", 1, false},
		{"a nested portals key", "defaults: {portals: [{name: a}]}\nportals: [{name: b, scopes: [x]}]\n", 0, false},
		{"a flow list left open", "portals: [{name: a, scopes: [x]}\n", 0, false},
		{"text after the list", "portals: [{name: a, scopes: [x]}] b\n", 1, true},
		{"a flow list with a second document", "portals: [{name: a, scopes: [x]}]\n--- [x]\n", 1, false},
		{"an item less indented", "portals:\n    - name: a\n  - name: b\n", 0, false},
		{"a key beside the items", "portals:\n  - name: a\n  scopes: [x]\n", 0, false},
		{"a tab", "portals:\n\t- name: a\n", 0, false},
		{"a carriage return alone, a line break to YAML", "portals:\n - \r0", 0, false},
		{"a byte-order mark", "\ufeffportals:\n" + two, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, ok := findPortals([]byte(c.doc))
			if got := len(l.items); ok != (c.items > 0) || ok && got != c.items {
				t.Errorf("findPortals: %d items, %v; want %d", got, ok, c.items)
			}
			p := &parser{fname: "f.yaml"}
			if _, pieces := p.parseSplit([]byte(c.doc)); pieces != (ok && !c.whole) {
				t.Errorf("read in pieces: %v", pieces)
			}
			sameAsWhole(t, []byte(c.doc))
		})
	}
}

// A piece holding an alias is not read alone, whatever found the pieces: the file is
// read whole, where aliases are counted by what they expand to.
func TestBatch_RefusesAliases(t *testing.T) {
	raw := []byte("portals:\n  - {name: a, scopes: &s [x]}\n  - {name: b, scopes: *s}\n")
	items := []span{{start: 9, end: 39, line: 2}, {start: 39, end: int32(len(raw)), line: 3}}
	p := &parser{fname: "f.yaml", raw: raw, items: &layout{items: items}}
	if _, err := p.batch(items); !errors.Is(err, errWhole) {
		t.Fatalf("err = %v; want errWhole", err)
	}
	if _, err := p.batch(items[:1]); err != nil {
		t.Fatalf("an anchor alone: err = %v", err)
	}
}
