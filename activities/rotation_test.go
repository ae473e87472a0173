package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
)

const nextToken = "00sbxNextDefaultTokenAbCdEfGhIjKlMnOpQrSt"

// The provider's stored token is the one PATCHed, and verify uses it: set to the new
// token (which Okta knows) it verifies; set twice it is unchanged; back on the old
// one it verifies too. The token never appears in an error.
func TestSetProviderToken_PatchesAndVerifyUsesTheStoredToken(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.acts.DCRTokens[dcrflow.NextDCRTokenName("default")] = nextToken
	in := activities.ProviderInput{Name: "dcrflow-rot", Issuer: h.sb.OktaURL + "/oauth2/default", TokenName: "default", PortalKey: "p"}
	r, err := call[dcrflow.Resource](h, a.EnsureDCRProvider, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.env.ExecuteActivity(a.RotationPreflight, "default"); err != nil {
		t.Fatal(err)
	}
	fingerprint := func() string {
		var st struct {
			Konnect sbkonnect.State `json:"konnect"`
		}
		if err := h.sb.Control.State(ctx, &st); err != nil {
			t.Fatal(err)
		}
		return st.Konnect.DCRTokenFingerprints[r.ID]
	}
	set := activities.SetTokenInput{ProviderID: r.ID, Provider: in.Name, Token: activities.TokenInput{Name: "default", Next: true}}
	// Okta does not know the new token yet: verify fails, naming no token.
	if _, err := call[activities.SetTokenResult](h, a.SetProviderToken, set); err != nil {
		t.Fatal(err)
	}
	if fingerprint() != sbokta.Fingerprint(nextToken) {
		t.Fatal("provider does not hold the new token")
	}
	_, err = h.env.ExecuteActivity(a.VerifyDCRProvider, activities.KonnectResourceInput{ID: r.ID, Name: in.Name})
	if err == nil || strings.Contains(err.Error(), nextToken) {
		t.Fatalf("verify with a token Okta does not know: %v", err)
	}
	if err := h.sb.Control.AddDCRToken(ctx, nextToken); err != nil {
		t.Fatal(err)
	}
	for range 2 { // twice: the same PATCH again changes nothing
		if got, err := call[activities.SetTokenResult](h, a.SetProviderToken, set); err != nil || got.ID != r.ID {
			t.Fatalf("set: %+v %v", got, err)
		}
	}
	if _, err := h.env.ExecuteActivity(a.VerifyDCRProvider, activities.KonnectResourceInput{ID: r.ID, Name: in.Name}); err != nil {
		t.Fatalf("verify with the new token: %v", err)
	}
	set.Token.Next = false
	if _, err := call[activities.SetTokenResult](h, a.SetProviderToken, set); err != nil {
		t.Fatal(err)
	}
	if fingerprint() != sbokta.Fingerprint(sbokta.DefaultDCRToken) {
		t.Fatal("provider not back on the old token")
	}
	// A provider gone from Konnect is reported, not an error.
	gone := activities.SetTokenInput{Provider: "no-such-provider", Token: activities.TokenInput{Name: "default"}}
	if got, err := call[activities.SetTokenResult](h, a.SetProviderToken, gone); err != nil || !got.Gone {
		t.Fatalf("gone: %+v %v", got, err)
	}
}

func TestRotationPreflight_RefusesMissingOrSameToken(t *testing.T) {
	h := newHarness(t)
	_, err := h.env.ExecuteActivity(a.RotationPreflight, "default")
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeConfig || retry || !strings.Contains(err.Error(), "DCRFLOW_DCR_TOKEN_DEFAULT_NEXT") {
		t.Fatalf("no next token: %v", err)
	}
	h.acts.DCRTokens["default-next"] = sbokta.DefaultDCRToken
	_, err = h.env.ExecuteActivity(a.RotationPreflight, "default")
	if err == nil || !strings.Contains(err.Error(), "hold the same token") || strings.Contains(err.Error(), sbokta.DefaultDCRToken) {
		t.Fatalf("same token: %v", err)
	}
}

// ProveDCRTokens reads with every token: the live one is ok, a revoked one and an
// expired one are dead with Okta's reason (never the token) and what they break.
func TestProveDCRTokens_LiveAndDead(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const revoked, expired = "00sbxRevokedTokenAbCdEfGhIjKlMnOpQrStUvW", "00sbxExpiredTokenAbCdEfGhIjKlMnOpQrStUvW"
	for _, tok := range []string{revoked, expired, nextToken} {
		if err := h.sb.Control.AddDCRToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.sb.Control.RevokeDCRToken(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	if err := h.sb.Control.ExpireDCRToken(ctx, expired); err != nil {
		t.Fatal(err)
	}
	h.acts.DCRTokens = map[string]string{"default": sbokta.DefaultDCRToken, "default-next": nextToken, "partners": revoked, "legacy": expired}
	in := dcrflow.ProveDCRTokensInput{Uses: []dcrflow.DCRTokenUse{{Name: "partners", Providers: []string{"prov-a"}, Portals: []string{"pa", "pb"}}}}
	got, err := call[dcrflow.ProveDCRTokensResult](h, a.ProveDCRTokens, in)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]dcrflow.DCRTokenProof{}
	for _, p := range got.Tokens {
		byName[p.Name] = p
	}
	if !byName["default"].OK || !byName["default-next"].OK || !byName["default-next"].Next {
		t.Fatalf("live tokens: %+v", got)
	}
	p := byName["partners"]
	if p.OK || !strings.Contains(p.Reason, "E0000011") || strings.Join(p.Portals, ",") != "pa,pb" || strings.Join(p.Providers, ",") != "prov-a" {
		t.Fatalf("revoked: %+v", p)
	}
	if byName["legacy"].OK || len(got.Dead()) != 2 {
		t.Fatalf("expired: %+v", got)
	}
	for _, p := range got.Tokens {
		for _, tok := range []string{revoked, expired, nextToken, sbokta.DefaultDCRToken} {
			if strings.Contains(p.Reason, tok) {
				t.Fatalf("reason shows a token: %s", p.Reason)
			}
		}
	}
}

// Proving a token is a use: one proven every few weeks never reaches Okta's 30
// days unused, while one left alone expires and is then reported dead.
func TestProveDCRTokens_KeepsTokensFromExpiring(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const idle = "00sbxIdleTokenNobodyUsesAbCdEfGhIjKlMnOpQr"
	if err := h.sb.Control.AddDCRToken(ctx, idle); err != nil {
		t.Fatal(err)
	}
	h.acts.DCRTokens = map[string]string{"default": sbokta.DefaultDCRToken}
	for range 3 { // 3 × 20 days: 60 days in all
		if err := h.sb.Control.AdvanceOktaClock(ctx, 20*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		got, err := call[dcrflow.ProveDCRTokensResult](h, a.ProveDCRTokens, dcrflow.ProveDCRTokensInput{})
		if err != nil || len(got.Dead()) != 0 {
			t.Fatalf("proven every 20 days: %+v %v", got, err)
		}
	}
	h.acts.DCRTokens["idle"] = idle
	got, err := call[dcrflow.ProveDCRTokensResult](h, a.ProveDCRTokens, dcrflow.ProveDCRTokensInput{})
	if err != nil || len(got.Dead()) != 1 || got.Dead()[0].Name != "idle" {
		t.Fatalf("unused for 60 days: %+v %v", got, err)
	}
}
