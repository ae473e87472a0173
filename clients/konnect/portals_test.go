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
