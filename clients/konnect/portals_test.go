package konnect

import (
	"errors"
	"testing"

	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
)

const paymentsPortal = "0bc10ef8-9aa8-4f5d-8809-725879776653"

func TestPortalsService_GetFindResolve(t *testing.T) {
	t.Parallel()
	const uuidNamed = "9f0e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c"
	c, _ := setup(t, withKonnect(func(s *sbkonnect.Seed) {
		for i, n := range []string{"payments-eu", "Payments", "payments ", uuidNamed} {
			s.Portals = append(s.Portals, sbkonnect.SeedPortal{
				ID: []string{"5e6f7a8b-0000-4c1d-9e2f-000000000001", "5e6f7a8b-0000-4c1d-9e2f-000000000002",
					"5e6f7a8b-0000-4c1d-9e2f-000000000003", "5e6f7a8b-0000-4c1d-9e2f-000000000004"}[i],
				Name: n, DefaultDomain: "x.edge.us.portal.konghq.com",
			})
		}
	}))
	ctx := ctx(t)
	p, err := c.Portals.Get(ctx, paymentsPortal)
	if err != nil || p.Name != "payments" || p.DefaultDomain == "" || !p.AuthenticationEnabled {
		t.Fatalf("Get: %+v, %v", p, err)
	}
	if _, err := c.Portals.Get(ctx, "6a7b8c9d-0000-4000-8000-000000000000"); !IsNotFound(err) {
		t.Fatalf("Get unknown: %v", err)
	}
	p, err = c.Portals.FindByName(ctx, "payments")
	if err != nil || p == nil || p.ID != paymentsPortal {
		t.Fatalf("FindByName among similar names: %+v, %v", p, err)
	}
	tests := []struct{ in, wantName string }{
		{paymentsPortal, "payments"},
		{"partners", "partners"},
		{uuidNamed, uuidNamed}, // not an id: found by name
	}
	for _, tt := range tests {
		p, err := c.Portals.Resolve(ctx, tt.in)
		if err != nil || p.Name != tt.wantName {
			t.Fatalf("Resolve(%q): %+v, %v", tt.in, p, err)
		}
	}
	_, err = c.Portals.Resolve(ctx, "nowhere")
	if !IsNotFound(err) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Resolve unknown: %v", err)
	}
}

// The seeded developer and team of the payments portal; one of another portal (or
// none) is not found, with Konnect's words.
func TestPortalsService_DeveloperAndTeam(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	ctx := ctx(t)
	d, err := c.Portals.Developer(ctx, paymentsPortal, "f87b7fdc-3166-45fa-a7ed-f17e7cc7b0db")
	if err != nil || d.Status != "approved" || d.Email == "" {
		t.Fatalf("developer: %+v %v", d, err)
	}
	tm, err := c.Portals.Team(ctx, paymentsPortal, "86a30d43-84a6-41e2-81c5-4cb3892d981a")
	if err != nil || !tm.CanOwnApplications || tm.Name != "payments-developers" {
		t.Fatalf("team: %+v %v", tm, err)
	}
	// The partners portal's developer is not the payments portal's.
	if _, err := c.Portals.Developer(ctx, paymentsPortal, "6fda66b9-c0c1-4a25-b166-02cdc7f1df23"); !IsNotFound(err) {
		t.Fatalf("another portal's developer: %v", err)
	}
	if _, err := c.Portals.Team(ctx, paymentsPortal, "00000000-0000-4000-8000-000000000000"); !IsNotFound(err) {
		t.Fatalf("unknown team: %v", err)
	}
}
