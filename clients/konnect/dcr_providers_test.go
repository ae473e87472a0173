package konnect

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

func oktaProvider(env *sandboxtest.Env, name string) CreateOktaProvider {
	return CreateOktaProvider{
		Name: name, DisplayName: "Okta " + name, Issuer: env.OktaURL + "/oauth2/default",
		DCRToken: sbokta.DefaultDCRToken, Labels: map[string]string{"managed-by": "tests"},
	}
}

func TestDCRProvidersService_Lifecycle(t *testing.T) {
	t.Parallel()
	c, env := setup(t)
	ctx := ctx(t)

	p, err := c.DCRProviders.CreateOkta(ctx, oktaProvider(env, "okta-dcr"))
	if err != nil {
		t.Fatalf("CreateOkta: %v", err)
	}
	if p.ID == "" || p.Name != "okta-dcr" || p.ProviderType != "okta" || p.Issuer != env.OktaURL+"/oauth2/default" || p.Labels["managed-by"] != "tests" {
		t.Fatalf("created %+v", p)
	}
	got, err := c.DCRProviders.Get(ctx, p.ID)
	if err != nil || got.ID != p.ID || got.DisplayName != "Okta okta-dcr" {
		t.Fatalf("Get: %+v, %v", got, err)
	}

	v, err := c.DCRProviders.Verify(ctx, p.ID)
	if err != nil || !v.OK() {
		t.Fatalf("Verify: %+v, %v", v, err)
	}

	// Rotation stores the new token (the sandbox tests check that verify then uses it).
	if _, err := c.DCRProviders.UpdateToken(ctx, p.ID, "00rotated-dcr-token-value"); err != nil {
		t.Fatalf("UpdateToken: %v", err)
	}
	if _, err := c.DCRProviders.UpdateToken(ctx, p.ID, sbokta.DefaultDCRToken); err != nil {
		t.Fatalf("UpdateToken: %v", err)
	}
	if v, err := c.DCRProviders.Verify(ctx, p.ID); err != nil || !v.OK() {
		t.Fatalf("Verify after rotation: %+v, %v", v, err)
	}

	mustNotContain(t, "sandbox state", konnectState(t, env), sbokta.DefaultDCRToken, "00rotated-dcr-token-value", sbkonnect.DefaultToken)

	if err := c.DCRProviders.Delete(ctx, p.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = c.DCRProviders.Get(ctx, p.ID)
	if !IsNotFound(err) {
		t.Fatalf("Get after delete: %v", err)
	}
	if err := c.DCRProviders.Delete(ctx, p.ID); !IsNotFound(err) {
		t.Fatalf("second Delete: %v", err)
	}
}

// A failed check is a result, not an error. (A wrong token would do too, but the
// Okta spec documents no 401 for client registration, so the contract check would
// flag the Okta emulator's answer; an unreachable org is used instead.)
func TestDCRProvidersService_VerifyFails(t *testing.T) {
	t.Parallel()
	c, env := setup(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	in := oktaProvider(env, "unreachable")
	in.Issuer = closed.URL + "/oauth2/default"
	p, err := c.DCRProviders.CreateOkta(ctx(t), in)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.DCRProviders.Verify(ctx(t), p.ID)
	if err != nil || v.OK() || v.Status != "failed" || len(v.Errors) == 0 {
		t.Fatalf("Verify: %+v, %v", v, err)
	}
	mustNotContain(t, "verify errors", strings.Join(v.Errors, " "), sbokta.DefaultDCRToken)
}

func TestDCRProvidersService_FindByName(t *testing.T) {
	t.Parallel()
	c, env := setup(t)
	ctx := ctx(t)
	for _, name := range []string{"okta", "okta-dcr-eu", "okta-dcr", "OKTA-DCR", "okta-dcr "} {
		if _, err := c.DCRProviders.CreateOkta(ctx, oktaProvider(env, name)); err != nil {
			t.Fatalf("create %q: %v", name, err)
		}
	}
	p, err := c.DCRProviders.FindByName(ctx, "okta-dcr")
	if err != nil || p == nil || p.Name != "okta-dcr" {
		t.Fatalf("FindByName: %+v, %v", p, err)
	}
	p, err = c.DCRProviders.FindByName(ctx, "okta-d")
	if err != nil || p != nil {
		t.Fatalf("FindByName of a prefix: %+v, %v", p, err)
	}
}

func TestDCRProvidersService_FindByNameAmbiguous(t *testing.T) {
	t.Parallel()
	seeded := func(id string) sbkonnect.SeedDCRProvider {
		return sbkonnect.SeedDCRProvider{ID: id, Name: "twin", ProviderType: "okta", Issuer: "https://twin.okta.com/oauth2/default",
			DCRConfig: sbkonnect.SeedDCRConfig{DCRToken: "t"}}
	}
	c, _ := setup(t, withKonnect(func(s *sbkonnect.Seed) {
		s.DCRProviders = []sbkonnect.SeedDCRProvider{seeded("7d0c1f8e-1111-4b2a-9c3d-000000000001"), seeded("7d0c1f8e-1111-4b2a-9c3d-000000000002")}
	}))
	_, err := c.DCRProviders.FindByName(ctx(t), "twin")
	if !errors.Is(err, ErrAmbiguous) || IsTemporary(err) {
		t.Fatalf("error %v, want ErrAmbiguous", err)
	}
}

func TestDCRProvidersService_InvalidParameters(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	_, err := c.DCRProviders.CreateOkta(ctx(t), CreateOktaProvider{Name: "x", Issuer: "not-a-url", DCRToken: "00secret-token-x"})
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 400 || e.Temporary() {
		t.Fatalf("error %v", err)
	}
	if len(e.InvalidParameters) != 1 || e.InvalidParameters[0].Field != "issuer" || e.InvalidParameters[0].Rule == "" {
		t.Fatalf("invalid parameters %+v", e.InvalidParameters)
	}
	if !strings.Contains(err.Error(), "issuer") {
		t.Fatalf("message %q does not name the field", err)
	}
	mustNotContain(t, "error", err.Error(), "00secret-token-x", sbkonnect.DefaultToken)
}

func TestDCRProvidersService_EmptyID(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Region: "us", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DCRProviders.Get(ctx(t), ""); err == nil || IsTemporary(err) {
		t.Fatalf("Get(\"\"): %v", err)
	}
}
