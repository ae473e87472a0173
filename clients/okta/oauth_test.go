package okta

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3/jwt"

	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
)

func serviceClient() ClientRegistration {
	return ClientRegistration{ClientName: "dcrflow-check", ApplicationType: "service",
		GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{"token"},
		TokenEndpointAuthMethod: "client_secret_basic"}
}

func TestDCR_RegisterAndDelete(t *testing.T) {
	t.Parallel()
	h := start(t)
	rc, err := h.c.RegisterClient(ctx(t), dcrToken, serviceClient())
	if err != nil {
		t.Fatal(err)
	}
	if rc.ClientID == "" || rc.ClientSecret == "" || rc.ApplicationType != "service" || !rc.SecretExpiresAt.IsZero() ||
		time.Since(rc.IssuedAt) > time.Minute || !slices.Equal(rc.GrantTypes, []string{"client_credentials"}) {
		t.Errorf("registered %#v / secret set %v", rc, rc.ClientSecret != "")
	}
	for _, text := range []string{rc.String(), fmt.Sprintf("%v", rc), fmt.Sprintf("%+v", *rc), fmt.Sprintf("%#v", *rc)} {
		if strings.Contains(text, rc.ClientSecret) {
			t.Errorf("printing a client shows its secret: %s", text)
		}
	}
	// The same token is served by one cached SDK client.
	if _, err := h.c.RegisterClient(ctx(t), dcrToken, serviceClient()); err != nil {
		t.Fatal(err)
	}
	if len(h.c.dcr) != 1 {
		t.Errorf("%d SDK clients for one DCR token", len(h.c.dcr))
	}
	if err := h.c.DeleteClient(ctx(t), dcrToken, rc.ClientID); err != nil {
		t.Fatal(err)
	}
	if err := h.c.DeleteClient(ctx(t), dcrToken, rc.ClientID); !IsNotFound(err) {
		t.Errorf("second delete: %v", err)
	}
	st := h.env.Sandbox.State()["okta"].(sbokta.State)
	if len(st.Clients) != 1 {
		t.Errorf("sandbox holds %d clients, want 1", len(st.Clients))
	}
}

func TestDCR_GetClient(t *testing.T) {
	t.Parallel()
	h := start(t)
	rc, err := h.c.RegisterClient(ctx(t), dcrToken, serviceClient())
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.c.GetClient(ctx(t), dcrToken, rc.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != rc.ClientID || got.ClientName != "dcrflow-check" || got.ApplicationType != "service" ||
		got.TokenEndpointAuthMethod != "client_secret_basic" || !slices.Equal(got.GrantTypes, []string{"client_credentials"}) ||
		!got.IssuedAt.Equal(rc.IssuedAt) {
		t.Errorf("got %#v, registered %#v", got, rc)
	}
	_, err = h.c.GetClient(ctx(t), "00wrongDcrToken", rc.ClientID)
	if !IsUnauthorized(err) {
		t.Errorf("wrong DCR token: %v", err)
	}
	noSecrets(t, err, "00wrongDcrToken", dcrToken)
	if err := h.c.DeleteClient(ctx(t), dcrToken, rc.ClientID); err != nil {
		t.Fatal(err)
	}
	_, err = h.c.GetClient(ctx(t), dcrToken, rc.ClientID)
	if e := asErr(t, err); !IsNotFound(err) || e.Code != CodeNotFound || e.Temporary() {
		t.Errorf("deleted client: %+v", e)
	}
	noSecrets(t, err, dcrToken)
}

func TestDCR_InvalidMetadata(t *testing.T) {
	t.Parallel()
	h := start(t)
	reg := serviceClient()
	reg.GrantTypes = []string{"authorization_code"}
	_, err := h.c.RegisterClient(ctx(t), dcrToken, reg)
	e := asErr(t, err)
	if e.StatusCode != 400 || e.Code != CodeClientMeta || !strings.Contains(e.Summary, "grant_types") || e.Temporary() {
		t.Errorf("invalid metadata: %+v", e)
	}
	noSecrets(t, err, dcrToken)
}

// TestToken_EndToEnd is the validation dcrflow runs: register, get a token,
// verify it against the issuer's JWKS, check the client-id claim, delete.
func TestToken_EndToEnd(t *testing.T) {
	t.Parallel()
	h := start(t)
	as, err := h.c.GetAuthServer(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.CreateScope(ctx(t), as.ID, Scope{Name: "portal:read", Consent: ConsentImplicit, MetadataPublish: PublishAllClients}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.CreateClaim(ctx(t), as.ID, Claim{Name: "client_id", Status: StatusActive, ClaimType: ClaimTypeResource,
		ValueType: ValueTypeExpression, Value: "app.clientId", AlwaysIncludeInToken: boolPtr(true)}); err != nil {
		t.Fatal(err)
	}
	rc, err := h.c.RegisterClient(ctx(t), dcrToken, serviceClient())
	if err != nil {
		t.Fatal(err)
	}
	meta, err := h.c.GetMetadata(ctx(t), as.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Issuer != as.Issuer || meta.TokenEndpoint != as.Issuer+"/v1/token" || meta.RegistrationEndpoint != h.env.OktaURL+"/oauth2/v1/clients" ||
		!slices.Contains(meta.ScopesSupported, "portal:read") || !slices.Contains(meta.GrantTypesSupported, "client_credentials") {
		t.Errorf("metadata %+v", meta)
	}
	tok, err := h.c.ClientCredentialsToken(ctx(t), as.Issuer, rc.ClientID, rc.ClientSecret, []string{"portal:read"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.ExpiresIn != time.Hour || !slices.Equal(tok.Scopes, []string{"portal:read"}) {
		t.Errorf("token %v", tok)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", tok, *tok, *tok), tok.AccessToken) {
		t.Error("printing a token shows it")
	}
	jwks, err := h.c.GetJWKS(ctx(t), meta.JWKSURI)
	if err != nil || len(jwks.Keys) == 0 {
		t.Fatalf("jwks: %v", err)
	}
	parsed, err := jwt.ParseSigned(tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	keys := jwks.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in the JWKS", parsed.Headers[0].KeyID)
	}
	var std jwt.Claims
	var claims map[string]any
	if err := parsed.Claims(keys[0].Key, &std, &claims); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: as.Issuer, Audience: jwt.Audience{"api://default"}, Time: time.Now()}, time.Minute); err != nil {
		t.Error(err)
	}
	if claims["client_id"] != rc.ClientID || claims["cid"] != rc.ClientID {
		t.Errorf("client id claims: %v / %v, want %s", claims["client_id"], claims["cid"], rc.ClientID)
	}
	if err := h.c.DeleteClient(ctx(t), dcrToken, rc.ClientID); err != nil {
		t.Fatal(err)
	}
	_, err = h.c.ClientCredentialsToken(ctx(t), as.Issuer, rc.ClientID, rc.ClientSecret, []string{"portal:read"})
	if !IsUnauthorized(err) {
		t.Errorf("token for a deleted client: %v", err)
	}
	noSecrets(t, err, rc.ClientSecret)
}

func TestToken_RefusalsKeepOktaCodes(t *testing.T) {
	t.Parallel()
	h := start(t)
	rc, err := h.c.RegisterClient(ctx(t), dcrToken, serviceClient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.CreateScope(ctx(t), sbokta.NoPolicyServerID, Scope{Name: "free:read"}); err != nil {
		t.Fatal(err)
	}
	issuer := func(id string) string { return h.env.OktaURL + "/oauth2/" + id }
	for _, tc := range []struct {
		name, server, secret string
		scopes               []string
		status               int
		code                 string
		unauthorized         bool
	}{
		{"openid", "default", rc.ClientSecret, []string{"openid"}, 400, CodeInvalidScope, false},
		{"unknown scope", "default", rc.ClientSecret, []string{"nope"}, 400, CodeInvalidScope, false},
		{"no policy", sbokta.NoPolicyServerID, rc.ClientSecret, []string{"free:read"}, 401, CodeAccessDenied, false},
		{"consent", sbokta.PartnersServerID, rc.ClientSecret, []string{"partners:consent"}, 400, CodeConsent, false},
		{"wrong secret", "default", "not-the-secret", []string{"openid"}, 401, CodeInvalidClient, true},
	} {
		_, err := h.c.ClientCredentialsToken(ctx(t), issuer(tc.server), rc.ClientID, tc.secret, tc.scopes)
		e := asErr(t, err)
		if e.StatusCode != tc.status || e.Code != tc.code || e.Summary == "" || e.Temporary() || IsUnauthorized(err) != tc.unauthorized {
			t.Errorf("%s: %+v", tc.name, e)
		}
		noSecrets(t, err, rc.ClientSecret, "not-the-secret", mgmtToken)
	}
}

func TestDCR_ListClientsByNamePrefixAcrossPages(t *testing.T) {
	t.Parallel()
	h := start(t)
	reg := serviceClient()
	for i := range 203 {
		reg.ClientName = fmt.Sprintf("run-a-%03d", i)
		if _, err := h.c.RegisterClient(ctx(t), dcrToken, reg); err != nil {
			t.Fatal(err)
		}
	}
	reg.ClientName = "run-b-000"
	if _, err := h.c.RegisterClient(ctx(t), dcrToken, reg); err != nil {
		t.Fatal(err)
	}
	got, err := h.c.ListClients(ctx(t), dcrToken, "run-a-")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 203 || got[0].ClientID == "" || got[0].ClientSecret != "" {
		t.Fatalf("listed %d clients (first %+v), want 203 without secrets", len(got), got[0])
	}
	for _, c := range got {
		if !strings.HasPrefix(c.ClientName, "run-a-") {
			t.Fatalf("listed %s", c.ClientName)
		}
	}
}
