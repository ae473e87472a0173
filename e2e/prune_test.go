package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow/onboarding"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
)

// withoutPortals is the onboarding file text without the named portals' blocks.
func withoutPortals(t *testing.T, text string, drop ...string) string {
	t.Helper()
	blocks := regexp.MustCompile(`(?m)^  - name: `).Split(text, -1)
	out := blocks[0]
	for _, b := range blocks[1:] {
		name := strings.Fields(b)[0]
		if !slices.Contains(drop, name) {
			out += "  - name: " + b
		}
	}
	return out
}

// TestPrune_OffboardsExactlyTheDroppedPortals onboards the six example portals as
// fleet "team", then drops partners (its own authorization server) and europe (on the
// default server, sharing its claim) from the file: plan --prune lists exactly them
// as offboard, another fleet's plan lists none, onboard --prune refuses without --yes
// off a terminal (nothing changes), and with --yes offboards exactly their resources;
// what the other four portals use (the shared claim, their scopes, strategies,
// providers and publications) stays.
func TestPrune_OffboardsExactlyTheDroppedPortals(t *testing.T) {
	const tq = "prune"
	r := startDriftRig(t, tq)
	run := cliRunner(t, r.bin)
	dcrflow_ := func(args ...string) cliResult { t.Helper(); return run(r.env, args...) }
	example, err := os.ReadFile("../examples/portals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	six, four := filepath.Join(r.dir, "six.yaml"), filepath.Join(r.dir, "four.yaml")
	if err := os.WriteFile(six, example, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(four, []byte(withoutPortals(t, string(example), "partners", "europe")), 0o644); err != nil {
		t.Fatal(err)
	}
	kept, err := onboarding.Load(four)
	if err != nil || len(kept) != 4 {
		t.Fatalf("four.yaml: %d portals, %v", len(kept), err)
	}
	all, err := onboarding.Load(six)
	if err != nil || len(all) != 6 {
		t.Fatalf("six.yaml: %d portals, %v", len(all), err)
	}
	initial := r.state(t) // what the org had before dcrflow: a pruned portal's adopted scope stays
	if res := dcrflow_("onboard", "-f", six, "--fleet", "team", "--wait"); res.code != 0 {
		t.Fatalf("onboard six: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	before := r.state(t)

	planPrune := func(fleet string) []string {
		t.Helper()
		res := dcrflow_("plan", "-f", four, "--fleet", fleet, "--prune", "-o", "json")
		var doc struct {
			Offboard []string `json:"offboard"`
		}
		if res.code != 0 || json.Unmarshal([]byte(res.stdout), &doc) != nil {
			t.Fatalf("plan --prune --fleet %s: exit %d\n%s%s", fleet, res.code, res.stdout, res.stderr)
		}
		return doc.Offboard
	}
	if got := planPrune("team"); !slices.Equal(got, []string{"europe", "partners"}) {
		t.Fatalf("plan --prune lists %v, want [europe partners]", got)
	}
	if got := planPrune("other-team"); len(got) != 0 {
		t.Fatalf("another fleet's plan --prune lists %v, want none", got)
	}
	if res := dcrflow_("plan", "-f", four, "--fleet", "team", "--prune"); !regexp.MustCompile(`partners\s+offboard`).MatchString(res.stdout) {
		t.Errorf("plan --prune (text) does not show partners as offboard:\n%s", res.stdout)
	}

	// Off a terminal, without --yes: refused, nothing changes.
	res := dcrflow_("onboard", "-f", four, "--fleet", "team", "--prune", "--wait")
	if res.code != 2 || !strings.Contains(res.stderr, "--yes") || !strings.Contains(res.stderr, "not a terminal") {
		t.Fatalf("onboard --prune without --yes: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	assertUnchanged(t, before, r.state(t))

	res = dcrflow_("onboard", "-f", four, "--fleet", "team", "--prune", "--yes", "--wait")
	if res.code != 0 {
		t.Fatalf("onboard --prune --yes: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	after := r.state(t)
	scopes := func(st state) map[string]bool {
		out := map[string]bool{}
		for _, s := range st.Okta.AuthorizationServers {
			for _, sc := range s.Scopes {
				out[sc.Name] = true
			}
		}
		return out
	}
	initialScopes, beforeScopes, afterScopes := scopes(initial), scopes(before), scopes(after)
	published := func(st state, api, portal string) bool {
		aid, pid := apiID(st, api), portalID(st, portal)
		return slices.ContainsFunc(st.Konnect.Publications, func(p sbkonnect.Publication) bool { return p.APIID == aid && p.PortalID == pid })
	}
	removed := 0
	for _, spec := range all {
		// A pruned portal's resources go back to what the org had before dcrflow; the
		// others' stay as onboarding left them.
		pruned := spec.Key == "partners" || spec.Key == "europe"
		want := func(initially, onboarded bool) bool {
			if pruned {
				return initially
			}
			return onboarded
		}
		for _, sc := range spec.Scopes {
			if !beforeScopes[sc.Name] {
				t.Fatalf("scope %s was not there after onboarding", sc.Name)
			}
			if w := want(initialScopes[sc.Name], true); afterScopes[sc.Name] != w {
				t.Errorf("scope %s of %s: present %v after prune, want %v", sc.Name, spec.Key, afterScopes[sc.Name], w)
			} else if pruned && !w {
				removed++
			}
		}
		if n := len(strategies(after, spec.Strategy.Name)); (n == 1) != want(len(strategies(initial, spec.Strategy.Name)) == 1, true) {
			t.Errorf("strategy %s of %s: %d after prune", spec.Strategy.Name, spec.Key, n)
		} else if pruned && n == 0 {
			removed++
		}
		for _, api := range spec.APIs {
			if got, w := published(after, api.API, spec.Portal), want(published(initial, api.API, spec.Portal), true); got != w {
				t.Errorf("publication of %s (%s): published %v after prune, want %v", api.API, spec.Key, got, w)
			}
		}
	}
	if removed < 3 {
		t.Errorf("prune removed %d scopes and strategies of partners and europe, want at least 3 (europe:read, both strategies)", removed)
	}
	for _, spec := range kept { // what the others use stays: providers, the claim
		if !slices.ContainsFunc(after.Konnect.DCRProviders, func(p sbkonnect.DCRProvider) bool { return p.Name == spec.DCRProvider }) {
			t.Errorf("provider %s of %s is gone", spec.DCRProvider, spec.Key)
		}
	}
	for _, s := range after.Okta.AuthorizationServers {
		if s.Name == "default" && !slices.ContainsFunc(s.Claims, func(c sbokta.ClaimState) bool { return c.Name == "client_id" }) {
			t.Error("the client_id claim the other portals share on the default server is gone")
		}
	}
	if got := planPrune("team"); len(got) != 0 {
		t.Errorf("after prune, plan --prune still lists %v", got)
	}
}
