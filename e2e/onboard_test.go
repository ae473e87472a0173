// Package e2e runs dcrflow end to end: a real Temporal dev server on free ports, the
// sandbox, a worker with the real clients (their traffic checked against the OpenAPI
// specs), and the launcher the starter uses.
package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/onboarding"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// stack is a dev server, a sandbox and a worker on one task queue.
type stack struct {
	sb        *sandboxtest.Env
	temporal  client.Client
	taskQueue string
}

func startStack(t *testing.T) *stack {
	t.Helper()
	return startRig(t, devserver.Start(t)).stack
}

func (s *stack) onboard(t *testing.T, specs []dcrflow.PortalSpec) []launcher.Outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runs, err := launcher.Start(ctx, s.temporal, s.taskQueue, specs)
	if err != nil {
		t.Fatal(err)
	}
	return launcher.Wait(ctx, runs)
}

type state struct {
	Okta    sbokta.State    `json:"okta"`
	Konnect sbkonnect.State `json:"konnect"`
}

func (s *stack) state(t *testing.T) state {
	t.Helper()
	var st state
	if err := s.sb.Control.State(context.Background(), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestOnboard_ExamplePortalsEndToEnd(t *testing.T) {
	s := startStack(t)
	specs, err := onboarding.Load("../examples/portals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) < 5 {
		t.Fatalf("examples/portals.yaml onboards %d portals, want at least 5", len(specs))
	}

	for _, o := range s.onboard(t, specs) {
		if !o.Succeeded {
			t.Fatalf("%s failed: %v", o.Portal, o.Err)
		}
		if o.Result.Validation == nil || !o.Result.Validation.Passed {
			t.Errorf("%s: validation = %+v", o.Portal, o.Result.Validation)
		}
		if o.Portal == "internal" && (o.Result.Validation == nil || o.Result.Validation.Konnect == nil || !o.Result.Validation.Konnect.Passed) {
			t.Errorf("internal: no validation through Konnect: %+v", o.Result.Validation)
		}
	}
	st := s.state(t)
	// The free-plan server got the policy the sandbox portal asked for; nothing else did.
	if pols := server(st, "free-plan").Policies; len(pols) != 1 || pols[0].Name != "dcrflow-sandbox" {
		t.Errorf("free-plan policies = %+v", pols)
	}
	if len(st.Konnect.Applications) != 0 {
		t.Errorf("validation through Konnect left applications behind: %+v", st.Konnect.Applications)
	}
	assertOnboarded(t, st, specs)
	if len(st.Okta.Clients) != 0 {
		t.Errorf("validation left %d DCR clients behind", len(st.Okta.Clients))
	}
	if st.Okta.TokensIssued != len(specs) {
		t.Errorf("tokens issued = %d, want one per portal (%d)", st.Okta.TokensIssued, len(specs))
	}

	// A second run of the same file writes nothing but the validation clients (and the
	// throw-away application of validate: konnect).
	since := lastSeq(s)
	for _, o := range s.onboard(t, specs) {
		if !o.Succeeded {
			t.Fatalf("second run: %s failed: %v", o.Portal, o.Err)
		}
		for _, r := range o.Result.Resources {
			if r.Action != dcrflow.ActionAdopted && r.Action != dcrflow.ActionUnchanged {
				t.Errorf("second run: %s %s %s was %s", o.Portal, r.Kind, r.Name, r.Action)
			}
		}
	}
	reqs, err := s.sb.Control.Requests(context.Background(), since)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		write := r.Method != "GET"
		validation := strings.HasPrefix(r.Path, "/oauth2/") || strings.HasSuffix(r.Path, "/verify") || strings.Contains(r.Path, "/applications")
		if write && !validation {
			t.Errorf("second run wrote: %s %s", r.Method, r.Path)
		}
	}
	after := s.state(t)
	if got, want := count(after), count(st); !maps.Equal(got, want) {
		t.Errorf("second run changed the resource counts: %v, want %v", got, want)
	}
}

// assertOnboarded checks every portal's resources in the sandbox.
func assertOnboarded(t *testing.T, st state, specs []dcrflow.PortalSpec) {
	t.Helper()
	for _, p := range specs {
		srv := server(st, p.AuthServer)
		if srv == nil {
			t.Fatalf("%s: no server %s", p.Key, p.AuthServer)
		}
		for _, sc := range p.Scopes {
			i := slices.IndexFunc(srv.Scopes, func(x sbokta.ScopeState) bool { return x.Name == sc.Name })
			if i < 0 || srv.Scopes[i].Consent != "IMPLICIT" || srv.Scopes[i].MetadataPublish != "ALL_CLIENTS" {
				t.Errorf("%s: scope %s missing or wrong on %s", p.Key, sc.Name, srv.Name)
			}
		}
		claims := 0
		for _, c := range srv.Claims {
			if c.Name == p.ClaimName {
				claims++
				if c.Value != "app.clientId" || c.ValueType != "EXPRESSION" || c.ClaimType != "RESOURCE" || c.Status != "ACTIVE" {
					t.Errorf("%s: claim = %+v", p.Key, c)
				}
			}
		}
		if claims != 1 {
			t.Errorf("%s: %d claims named %s on %s, want 1", p.Key, claims, p.ClaimName, srv.Name)
		}
		prov := providers(st, p.DCRProvider)
		if len(prov) != 1 || prov[0].Issuer != srv.Issuer || prov[0].ProviderType != "okta" {
			t.Fatalf("%s: providers named %s = %+v", p.Key, p.DCRProvider, prov)
		}
		strat := strategies(st, p.Strategy.Name)
		if len(strat) != 1 || strat[0].DCRProvider == nil || strat[0].DCRProvider.ID != prov[0].ID {
			t.Fatalf("%s: strategies named %s = %+v", p.Key, p.Strategy.Name, strat)
		}
		oidc := fmt.Sprint(strat[0].Configs["openid-connect"])
		for _, want := range append([]string{srv.Issuer, p.ClaimName}, scopeNames(p)...) {
			if !strings.Contains(oidc, want) {
				t.Errorf("%s: strategy config %s lacks %q", p.Key, oidc, want)
			}
		}
		portalID := portalID(st, p.Portal)
		for _, api := range p.APIs {
			pub := publication(st, apiID(st, api.API), portalID)
			if pub == nil || !slices.Equal(pub.AuthStrategyIDs, []string{strat[0].ID}) || pub.Visibility != api.Visibility ||
				pub.AutoApproveRegistrations != api.AutoApprove {
				t.Errorf("%s: publication of %s = %+v", p.Key, api.API, pub)
			}
		}
	}
}

func server(st state, idOrName string) *sbokta.ServerState {
	for i, s := range st.Okta.AuthorizationServers {
		if s.ID == idOrName || s.Name == idOrName {
			return &st.Okta.AuthorizationServers[i]
		}
	}
	return nil
}

func providers(st state, name string) (out []sbkonnect.DCRProvider) {
	for _, p := range st.Konnect.DCRProviders {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

func strategies(st state, name string) (out []sbkonnect.AuthStrategy) {
	for _, s := range st.Konnect.AuthStrategies {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func portalID(st state, name string) string {
	for _, p := range st.Konnect.Portals {
		if p.Name == name || p.ID == name {
			return p.ID
		}
	}
	return ""
}

func apiID(st state, name string) string {
	for _, a := range st.Konnect.APIs {
		if a.Name == name || a.ID == name {
			return a.ID
		}
	}
	return ""
}

func publication(st state, apiID, portalID string) *sbkonnect.Publication {
	for i, p := range st.Konnect.Publications {
		if p.APIID == apiID && p.PortalID == portalID {
			return &st.Konnect.Publications[i]
		}
	}
	return nil
}

func scopeNames(p dcrflow.PortalSpec) []string {
	var out []string
	for _, s := range p.Scopes {
		out = append(out, s.Name)
	}
	return out
}

func count(st state) map[string]int {
	c := map[string]int{"providers": len(st.Konnect.DCRProviders), "strategies": len(st.Konnect.AuthStrategies),
		"publications": len(st.Konnect.Publications), "clients": len(st.Okta.Clients)}
	for _, s := range st.Okta.AuthorizationServers {
		c["scopes"] += len(s.Scopes)
		c["claims"] += len(s.Claims)
	}
	return c
}

func lastSeq(s *stack) int {
	reqs := s.sb.Sandbox.Requests(0)
	if len(reqs) == 0 {
		return 0
	}
	return reqs[len(reqs)-1].Seq
}

func TestOnboard_StartingARunningPortalAttachesToIt(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	specs, err := onboarding.Load("../examples/portals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	one := specs[:1]
	// Slow the first step down so the run is surely still going when started again.
	if _, err := s.sb.Control.AddFault(ctx, faults.Fault{Method: "GET", Path: "/api/v1/authorizationServers/*", LatencyMS: 3000, Count: 1}); err != nil {
		t.Fatal(err)
	}
	first, err := launcher.Start(ctx, s.temporal, s.taskQueue, one)
	if err != nil {
		t.Fatal(err)
	}
	second, err := launcher.Start(ctx, s.temporal, s.taskQueue, one)
	if err != nil {
		t.Fatal(err)
	}
	if first[0].RunID != second[0].RunID {
		t.Fatalf("second start made run %s beside %s, want it to attach", second[0].RunID, first[0].RunID)
	}
	for _, o := range launcher.Wait(ctx, append(first, second...)) {
		if !o.Succeeded {
			t.Fatalf("%s: %v", o.Portal, o.Err)
		}
	}
	// Once it has ended, starting it again is a new run that adopts what exists.
	third, err := launcher.Start(ctx, s.temporal, s.taskQueue, one)
	if err != nil {
		t.Fatal(err)
	}
	if third[0].RunID == first[0].RunID {
		t.Fatal("starting an ended portal did not start a new run")
	}
	if o := launcher.Wait(ctx, third)[0]; !o.Succeeded || o.Result.Resources[0].Action != dcrflow.ActionAdopted {
		t.Fatalf("rerun: %+v %v", o.Result, o.Err)
	}
}
