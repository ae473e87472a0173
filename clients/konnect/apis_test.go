package konnect

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
)

const paymentsAPI = "7ca41f1f-6617-4008-9106-c557082c1085"

func TestAPIsService_GetFindResolve(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	ctx := ctx(t)
	a, err := c.APIs.Get(ctx, paymentsAPI)
	if err != nil || a.Name != "payments-api" || a.Version != "v1" || a.Slug != "payments-api-v1" {
		t.Fatalf("Get: %+v, %v", a, err)
	}
	a, err = c.APIs.FindByName(ctx, "refunds-api")
	if err != nil || a == nil || a.ID != "e4f8fbc9-1ec2-455d-9567-f93f3b83b2ca" {
		t.Fatalf("FindByName: %+v, %v", a, err)
	}
	if a, err := c.APIs.FindByName(ctx, "refunds"); err != nil || a != nil {
		t.Fatalf("FindByName of a prefix: %+v, %v", a, err)
	}
	if a, err := c.APIs.Resolve(ctx, "orders-api"); err != nil || a.Name != "orders-api" {
		t.Fatalf("Resolve by name: %+v, %v", a, err)
	}
	if a, err := c.APIs.Resolve(ctx, paymentsAPI); err != nil || a.ID != paymentsAPI {
		t.Fatalf("Resolve by id: %+v, %v", a, err)
	}
	if _, err := c.APIs.Get(ctx, "6a7b8c9d-0000-4000-8000-000000000000"); !IsNotFound(err) {
		t.Fatalf("Get unknown: %v", err)
	}
}

// 250 versions of one API: the list takes three pages of 100.
func TestAPIsService_PaginatesPastOneHundred(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	_, env := setup(t, withKonnect(func(s *sbkonnect.Seed) {
		for i := range 250 {
			s.APIs = append(s.APIs, sbkonnect.SeedAPI{ID: fmt.Sprintf("3c4d5e6f-0000-4a1b-8c2d-%012d", i), Name: "bulk-api", Version: fmt.Sprintf("v%d", i)})
		}
	}))
	c, err := New(Config{BaseURL: env.KonnectURL, Token: sbkonnect.DefaultToken, HTTPClient: env.HTTPClient, Observer: rec.observe})
	if err != nil {
		t.Fatal(err)
	}
	all, err := listAll[API](ctx(t), c, "list-apis", apisPath, nil)
	if err != nil || len(all) != 260 {
		t.Fatalf("listAll: %d items, %v", len(all), err)
	}
	if rec.ops() != "list-apis,list-apis,list-apis" {
		t.Fatalf("calls %q, want three pages", rec.ops())
	}
	seen := map[string]bool{}
	for _, a := range all {
		if seen[a.ID] {
			t.Fatalf("API %s listed twice", a.ID)
		}
		seen[a.ID] = true
	}
	_, err = c.APIs.FindByName(ctx(t), "bulk-api")
	if !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "250") {
		t.Fatalf("FindByName of 250 versions: %v", err)
	}
}
