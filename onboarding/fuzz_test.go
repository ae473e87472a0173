package onboarding

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/textsafe"
)

// FuzzParse feeds Parse arbitrary bytes: it must never panic, every error must be an
// *Error whose text and problems start with the file name, and whatever it accepts
// must obey the rules it enforces.
//
//	go test -fuzz=FuzzParse -fuzztime=60s ./onboarding/
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../examples/portals.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	for _, c := range brokenFiles {
		if len(c.doc) < 2000 {
			f.Add([]byte(c.doc))
		}
	}
	f.Add([]byte("portals:\n  - &p {name: a, scopes: [x], labels: {a: b}}\n  - <<: *p\n    name: b\n"))
	f.Add([]byte("portals:\n  - name: a\n    portal: R&D * Payments & Billing\n    scopes: [\"a*\", b&c]\n  - name: b\n    scopes: [&s y]\n  - {name: c, scopes: *s}\n"))
	f.Add([]byte("x: 1\n---\n- a\n"))
	// Read in pieces: a fleet, with the defaults after it; between document markers;
	// as a flow list; as JSON.
	f.Add(append(fleetFile(3), "defaults: {claim: cid}\n"...))
	f.Add(append(append([]byte("---\n"), fleetFile(2)...), "...\n--- ~\n"...))
	f.Add([]byte("portals: [ # all\n  {name: a, portal: \"x, ]y\", scopes: [x]},\n{name: b, scopes: ['y, '' }', z]},\n]\ndefaults: {claim: cid}\n"))
	f.Add([]byte("{\"defaults\": {\"claim\": \"app_id\"},\n \"portals\": [{\"name\": \"a\", \"scopes\": [\"x\"]},\n  {\"name\": \"b\", \"scopes\":[\"y\"]}]}\n"))
	for _, c := range hostileFiles {
		if raw := c.gen(); len(raw) < 2000 {
			f.Add([]byte(raw))
		}
	}

	const name = "fuzz.yaml"
	f.Fuzz(func(t *testing.T, raw []byte) {
		specs, err := Parse(name, raw)
		// Read whole, a file over its budget is refused at once (sameAsWhole).
		if wSpecs, wErr := parse(name, raw, false); valueBound(raw) <= wholeBudget(len(raw)) && (fmt.Sprint(err) != fmt.Sprint(wErr) || !reflect.DeepEqual(specs, wSpecs)) {
			t.Fatalf("read in pieces and whole, the file gives\n%.3000v\n%+.1000v\nand\n%.3000v\n%+.1000v", err, specs, wErr, wSpecs)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, name+": ") || len(e.Problems) == 0 {
				t.Fatalf("error %q: want it to start with the file name and list problems", msg)
			}
			for _, p := range e.Problems {
				if !strings.HasPrefix(p, name) || len(p) <= len(name)+2 {
					t.Fatalf("problem %q does not start with the file name or says nothing", p)
				}
				if len(p) > 16<<10 {
					t.Fatalf("a problem of %d bytes: values are not clipped: %.300s", len(p), p)
				}
			}
			if specs != nil {
				t.Fatalf("specs alongside an error: %+v", specs)
			}
			return
		}
		if len(specs) == 0 {
			t.Fatal("no error and no portal")
		}
		for _, s := range specs {
			checkAccepted(t, s)
		}
	})
}

// checkAccepted asserts what Parse promises about a portal it accepts.
func checkAccepted(t *testing.T, s dcrflow.PortalSpec) {
	t.Helper()
	fail := func(what string) { t.Fatalf("accepted a portal with %s: %+v", what, s) }
	if !keyPattern.MatchString(s.Key) {
		fail("a bad key")
	}
	if s.Portal == "" || s.AuthServer == "" || s.DCRProvider == "" || s.Strategy.Name == "" || s.Strategy.DisplayName == "" || s.ClaimName == "" {
		fail("an empty name")
	}
	if utf8.RuneCountInString(s.DCRProvider) > maxProviderNameLen || utf8.RuneCountInString(s.Strategy.Name) > maxStrategyNameLen ||
		utf8.RuneCountInString(s.Strategy.DisplayName) > maxDisplayNameLen || utf8.RuneCountInString(s.Portal) > maxPortalLen {
		fail("a name over its limit")
	}
	if !tokenNamePattern.MatchString(s.DCRTokenName) {
		fail("a bad DCR token name")
	}
	if slices.Contains(reservedClaims, s.ClaimName) || utf8.RuneCountInString(s.ClaimName) > maxClaimLen {
		fail("a bad claim")
	}
	if len(s.Scopes) == 0 || len(s.Scopes) > maxScopes {
		fail("no scope or too many")
	}
	seen := map[string]bool{}
	for _, sc := range s.Scopes {
		if !scopePattern.MatchString(sc.Name) || slices.Contains(oidcScopes, sc.Name) || len(sc.Name) > maxScopeLen || seen[sc.Name] {
			fail("a bad scope " + sc.Name)
		}
		seen[sc.Name] = true
	}
	if len(s.Strategy.AuthMethods) == 0 {
		fail("no auth method")
	}
	for _, m := range s.Strategy.AuthMethods {
		if !slices.Contains(dcrflow.DCRAuthMethods, m) {
			fail("a bad auth method")
		}
	}
	apis := map[string]bool{}
	for _, a := range s.APIs {
		if a.API == "" || apis[a.API] || (a.Visibility != "public" && a.Visibility != "private") {
			fail("a bad API")
		}
		apis[a.API] = true
	}
	if s.OnFailure != dcrflow.OnFailureCompensate && s.OnFailure != dcrflow.OnFailureHold {
		fail("a bad on_failure")
	}
	if len(s.Labels) > maxUserLabels {
		fail("too many labels")
	}
	// Nothing accepted holds a secret or an invisible character.
	vals := []string{s.Key, s.Portal, s.AuthServer, s.ClaimName, s.DCRTokenName, s.DCRProvider, s.Strategy.Name, s.Strategy.DisplayName}
	for _, sc := range s.Scopes {
		vals = append(vals, sc.Name, sc.Description)
	}
	for _, a := range s.APIs {
		vals = append(vals, a.API)
	}
	for k, v := range s.Labels {
		vals = append(vals, k, v)
	}
	for _, v := range vals {
		if _, found := textsafe.FindSecret(v); found {
			fail("a secret in " + v)
		}
		if _, _, found := textsafe.Invisible(v); found {
			fail("an invisible character in " + strconv.QuoteToASCII(v))
		}
	}
	folded := map[string]string{}
	for k := range s.Labels {
		if other, dup := folded[textsafe.Fold(k)]; dup {
			fail("label keys " + k + " and " + other + " that Konnect may take for one")
		}
		folded[textsafe.Fold(k)] = k
	}
	for k, v := range s.Labels {
		if k == "" || utf8.RuneCountInString(k) > maxLabelLen || slices.Contains(dcrflowLabels, k) || !labelValuePattern.MatchString(v) || len(v) > maxLabelLen {
			fail("a bad label " + k)
		}
		for _, pre := range labelPrefixes {
			if strings.HasPrefix(k, pre) {
				fail("a reserved label " + k)
			}
		}
	}
}

// FuzzValueBound checks that valueBound never counts fewer values than yaml.v3 makes
// of a file: the bound on memory rests on it.
//
//	go test -fuzz=FuzzValueBound -fuzztime=60s ./onboarding/
func FuzzValueBound(f *testing.F) {
	for _, c := range brokenFiles {
		if len(c.doc) < 2000 {
			f.Add([]byte(c.doc))
		}
	}
	for _, s := range valueShapes {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		n, err := countValues(raw)
		if err != nil {
			return
		}
		if b := valueBound(raw); b < n {
			t.Fatalf("valueBound = %d, yaml.v3 makes %d values of %q", b, n, raw)
		}
	})
}

// valueShapes are YAML shapes where values outnumber bytes most.
var valueShapes = []string{
	"[:,:,:]", "{:,:,:}", "[?,?]", "{a,b,c}", "[[[[]]]]", "- - - - -\n", "-\n-\n-\n", "? \n? \n", ":\n", "a:\nb:\n",
	"[a,b,c]", "{a:b}", "{\"a\":b}", "[\"a\":b]", "[a: ]", "--- a\n--- b\n...\n", "&a [*a]", "? - a\n: - b\n", "!!str a", "[-, -]",
	"{? a}", "[a,]", "{,}", "- ? a\n  : b\n", "a: [b: c]", "[{}: {}]", "[ : ]", "- !t\n",
	"[&a:b]", "[*a : b]", "[a?b?c]", "{&a : b, *a : c}", "['a':b]", "[a]:\n", "? [a]\n: b\n", "--- !!map\n? a\n",
}

// countValues is how many nodes yaml.v3 makes of raw, documents included.
func countValues(raw []byte) (int, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	total := 0
	var count func(n *yaml.Node) int
	count = func(n *yaml.Node) int {
		c := 1
		for _, k := range n.Content {
			c += count(k)
		}
		return c
	}
	for {
		var doc yaml.Node
		err := decodeNode(dec, &doc)
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return 0, err
		}
		total += count(&doc)
	}
}

func TestValueBound_Shapes(t *testing.T) {
	for _, s := range valueShapes {
		n, err := countValues([]byte(s))
		if err != nil {
			continue
		}
		if b := valueBound([]byte(s)); b < n {
			t.Errorf("%q: valueBound = %d, yaml.v3 makes %d", s, b, n)
		}
	}
}
