package konnect

import (
	"testing"

	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
)

func TestPublicationsService_Lifecycle(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	ctx := ctx(t)
	s := createDCRStrategy(t, c, "dcr", "")

	if _, err := c.Publications.Get(ctx, paymentsAPI, paymentsPortal); !IsNotFound(err) {
		t.Fatalf("Get before publishing: %v", err)
	}
	p, err := c.Publications.Put(ctx, paymentsAPI, paymentsPortal, Publication{
		AuthStrategyIDs: []string{s.ID}, Visibility: VisibilityPublic, AutoApproveRegistrations: true,
	})
	if err != nil || len(p.AuthStrategyIDs) != 1 || p.AuthStrategyIDs[0] != s.ID || p.Visibility != "public" || !p.AutoApproveRegistrations || p.CreatedAt.IsZero() {
		t.Fatalf("Put: %+v, %v", p, err)
	}
	got, err := c.Publications.Get(ctx, paymentsAPI, paymentsPortal)
	if err != nil || got.AuthStrategyIDs[0] != s.ID || !got.CreatedAt.Equal(p.CreatedAt) {
		t.Fatalf("Get: %+v, %v", got, err)
	}
	a, err := c.APIs.Get(ctx, paymentsAPI)
	if err != nil || len(a.Portals) != 1 || a.Portals[0].ID != paymentsPortal {
		t.Fatalf("API portals after publishing: %+v, %v", a, err)
	}

	// A zero Publication replaces everything: private, no auto-approve, no strategy.
	p, err = c.Publications.Put(ctx, paymentsAPI, paymentsPortal, Publication{})
	if err != nil || p.AuthStrategyIDs != nil || p.Visibility != "private" || p.AutoApproveRegistrations {
		t.Fatalf("replace: %+v, %v", p, err)
	}
	if err := c.Publications.Delete(ctx, paymentsAPI, paymentsPortal); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := c.Publications.Get(ctx, paymentsAPI, paymentsPortal); !IsNotFound(err) {
		t.Fatalf("Get after delete: %v", err)
	}
	if err := c.Publications.Delete(ctx, paymentsAPI, paymentsPortal); !IsNotFound(err) {
		t.Fatalf("second Delete: %v", err)
	}
	if _, err := c.Publications.Put(ctx, "6a7b8c9d-0000-4000-8000-000000000000", paymentsPortal, Publication{}); !IsNotFound(err) {
		t.Fatalf("Put to an unknown API: %v", err)
	}
}

// Without strategies the client sends an explicit null: the portal's default
// strategy, which an omitted field would apply, must not appear.
func TestPublicationsService_NoStrategyIsExplicitNull(t *testing.T) {
	t.Parallel()
	const def = "8e9f0a1b-2222-4c3d-8e4f-000000000001"
	c, _ := setup(t, withKonnect(func(s *sbkonnect.Seed) {
		s.AuthStrategies = []sbkonnect.SeedAuthStrategy{{
			ID: def, Name: "portal-default", DisplayName: "Default", StrategyType: "openid_connect",
			Configs: map[string]any{"openid-connect": map[string]any{
				"issuer": "https://example.okta.com/oauth2/default", "credential_claim": []string{"client_id"},
				"scopes": []string{}, "auth_methods": []string{"client_credentials"},
			}},
		}}
		s.Portals[0].DefaultApplicationAuthStrategyID = def
	}))
	p, err := c.Publications.Put(ctx(t), paymentsAPI, paymentsPortal, Publication{Visibility: VisibilityPrivate})
	if err != nil || len(p.AuthStrategyIDs) != 0 {
		t.Fatalf("Put without strategies: %+v, %v (the portal default was applied)", p, err)
	}
}

func TestPublicationsService_UnknownStrategy(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	_, err := c.Publications.Put(ctx(t), paymentsAPI, paymentsPortal, Publication{AuthStrategyIDs: []string{"6a7b8c9d-0000-4000-8000-000000000000"}})
	var e *Error
	if !asError(err, &e) || e.StatusCode != 400 || len(e.InvalidParameters) != 1 || e.InvalidParameters[0].Rule != "missing_reference" {
		t.Fatalf("error %v", err)
	}
}
