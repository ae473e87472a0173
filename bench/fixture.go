package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/sandbox"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
)

// The generated org: enough Konnect portals for the largest fleet, a pool of APIs
// that portals publish three at a time, and authorization servers shared by many
// portals (so the client-id claim is created once and adopted after, as in a real org).
const (
	authServers     = 25
	apiPool         = 60
	scopesPerPortal = 3
	apisPerPortal   = 3
)

func benchPortalName(i int) string { return fmt.Sprintf("bench-%04d", i) }
func benchAPIName(i int) string    { return fmt.Sprintf("bench-api-%02d", i) }
func benchServerID(i int) string   { return fmt.Sprintf("ausbench%012d", i) }

// benchUUID is a stable version-4-shaped UUID, so the fixture is the same every run.
func benchUUID(kind, i int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, i)
}

// writeFixture writes a sandbox fixture for fleets of up to portals portals: the
// default orgs (their tokens and resources) plus the bench's.
func writeFixture(path string, portals int) error {
	fx := sandbox.DefaultFixture()
	for i := range authServers {
		fx.Okta.AuthorizationServers = append(fx.Okta.AuthorizationServers, sbokta.SeedServer{
			ID: benchServerID(i), Name: fmt.Sprintf("bench-as-%02d", i), Audiences: []string{fmt.Sprintf("api://bench-%02d", i)},
			// What a real server DCR clients get tokens from has: a policy for every client.
			Policies: []sbokta.SeedPolicy{{Name: "Bench Policy", Description: "Every client may get any scope", Priority: 1, Clients: []string{"ALL_CLIENTS"},
				Rules: []sbokta.SeedRule{{Name: "client_credentials", Priority: 1, GrantTypes: []string{"client_credentials"},
					Scopes: []string{"*"}, AccessTokenLifetimeMinutes: 60}}}},
		})
	}
	for i := range portals {
		fx.Konnect.Portals = append(fx.Konnect.Portals, sbkonnect.SeedPortal{
			ID: benchUUID(1, i), Name: benchPortalName(i), DisplayName: fmt.Sprintf("Bench portal %d", i),
			DefaultDomain: fmt.Sprintf("bench%04d.edge.us.portal.konghq.com", i),
		})
	}
	for i := range apiPool {
		fx.Konnect.APIs = append(fx.Konnect.APIs, sbkonnect.SeedAPI{ID: benchUUID(2, i), Name: benchAPIName(i), Version: "v1"})
	}
	b, err := json.Marshal(fx)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// fleetSpecs is a fleet of n portals keyed prefix-NNNN: portal i onboards Konnect
// portal bench-i on server i mod 25 with three scopes of its own and three APIs.
func fleetSpecs(prefix string, n int) []dcrflow.PortalSpec {
	specs := make([]dcrflow.PortalSpec, n)
	for i := range n {
		key := fmt.Sprintf("%s-%04d", prefix, i)
		s := dcrflow.PortalSpec{
			Key: key, Portal: benchPortalName(i), AuthServer: benchServerID(i % authServers), ClaimName: "client_id",
			DCRProvider: "dcrflow-" + key, DCRTokenName: "default",
			Strategy:     dcrflow.StrategySpec{Name: "dcrflow-" + key, DisplayName: "Okta DCR (" + key + ")", AuthMethods: []string{"client_credentials"}},
			AccessPolicy: dcrflow.AccessPolicyCheck, Validate: true, OnFailure: dcrflow.OnFailureCompensate, UpsertSearchAttributes: true,
		}
		for j, verb := range []string{"read", "write", "admin"}[:scopesPerPortal] {
			s.Scopes = append(s.Scopes, dcrflow.ScopeSpec{Name: fmt.Sprintf("%s:%s", benchPortalName(i), verb),
				Description: fmt.Sprintf("Bench scope %d of portal %d", j, i)})
		}
		for j := range apisPerPortal {
			s.APIs = append(s.APIs, dcrflow.APISpec{API: benchAPIName((i*apisPerPortal + j) % apiPool), Visibility: "public"})
		}
		specs[i] = s
	}
	return specs
}
