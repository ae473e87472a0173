package okta

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

func ccForm(scope string) url.Values {
	v := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		v.Set("scope", scope)
	}
	return v
}

func TestToken_IssuesSignedJWTWithClaims(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.createScope("default", map[string]any{"name": "orders:read"})
	h.mgmtCall(http.MethodPost, claimsPath, clientIDClaim("client_id"))
	literal := clientIDClaim("team")
	literal["value"] = `"payments"`
	h.mgmtCall(http.MethodPost, claimsPath, literal)
	unsupported := clientIDClaim("email_of_app")
	unsupported["value"] = "app.profile.email"
	h.mgmtCall(http.MethodPost, claimsPath, unsupported)
	id, secret := h.register("svc")

	r := h.tokenCall("default", ccForm("orders:read"), id, secret)
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	var tok tokenResponse
	r.decode(t, &tok)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.Scope != "orders:read" {
		t.Errorf("token response: %+v", tok)
	}

	kr := h.call(http.MethodGet, "/oauth2/default/v1/keys", "", nil)
	var jwks jose.JSONWebKeySet
	kr.decode(t, &jwks)
	if len(jwks.Keys) != 1 || !jwks.Keys[0].IsPublic() || jwks.Keys[0].Algorithm != "RS256" || jwks.Keys[0].Use != "sig" {
		t.Fatalf("jwks: %s", kr.body)
	}
	parsed, err := jwt.ParseSigned(tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Headers[0].KeyID != jwks.Keys[0].KeyID || parsed.Headers[0].Algorithm != "RS256" {
		t.Errorf("header %+v", parsed.Headers[0])
	}
	var std jwt.Claims
	var custom map[string]any
	if err := parsed.Claims(jwks.Keys[0].Key, &std, &custom); err != nil {
		t.Fatalf("signature does not verify against the JWKS: %v", err)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: h.url + "/oauth2/default", Audience: jwt.Audience{"api://default"},
		Subject: id, Time: time.Now()}, time.Minute); err != nil {
		t.Errorf("standard claims: %v", err)
	}
	if custom["cid"] != id || custom["client_id"] != id || custom["team"] != "payments" || custom["ver"] != 1.0 {
		t.Errorf("claims: %v", custom)
	}
	if _, ok := custom["email_of_app"]; ok {
		t.Error("an expression the emulator cannot evaluate was put in the token")
	}
	if scp, _ := custom["scp"].([]any); len(scp) != 1 || scp[0] != "orders:read" {
		t.Errorf("scp %v", custom["scp"])
	}
	if got := h.em.Snapshot().TokensIssued; got != 1 {
		t.Errorf("tokens issued %d", got)
	}
}

func TestToken_ClientSecretPostAndScopedClaims(t *testing.T) {
	t.Parallel()
	h := start(t)
	r := h.call(http.MethodPost, "/oauth2/v1/clients", DefaultDCRToken, map[string]any{"client_name": "post",
		"application_type": "service", "grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "client_secret_post"})
	var c clientJSON
	r.decode(t, &c)
	form := ccForm("partners:read")
	form.Set("client_id", c.ClientID)
	form.Set("client_secret", *c.ClientSecret)
	r = h.tokenCall(PartnersServerID, form, "", "")
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	var tok tokenResponse
	r.decode(t, &tok)
	if tok.ExpiresIn != 1800 {
		t.Errorf("expires_in %d, want the rule's 30 minutes", tok.ExpiresIn)
	}
	parsed, _ := jwt.ParseSigned(tok.AccessToken)
	var claims map[string]any
	_ = parsed.UnsafeClaimsWithoutVerification(&claims)
	if claims["tenant"] != "partners" || claims["aud"] != "api://partners" {
		t.Errorf("claims %v", claims)
	}
}

func TestToken_ErrorsAsOkta(t *testing.T) {
	t.Parallel()
	h := start(t)
	id, secret := h.register("svc")
	h.createScope(NoPolicyServerID, map[string]any{"name": "free:read"})
	webID, webSecret := func() (string, string) {
		r := h.call(http.MethodPost, "/oauth2/v1/clients", DefaultDCRToken, map[string]any{"client_name": "web",
			"grant_types": []string{"authorization_code"}, "redirect_uris": []string{"https://app.example/cb"}})
		var c clientJSON
		r.decode(t, &c)
		return c.ClientID, *c.ClientSecret
	}()
	for _, tc := range []struct {
		name, server, id, secret string
		form                     url.Values
		status                   int
		code, desc               string
	}{
		{"openid", "default", id, secret, ccForm("openid"), 400, "invalid_scope", "Cannot request 'openid' scopes using client credentials."},
		{"unknown scope", "default", id, secret, ccForm("nope:read"), 400, "invalid_scope", "One or more scopes are not configured for the authorization server resource."},
		{"no scope, no default", "default", id, secret, ccForm(""), 400, "invalid_scope", "The authorization server resource does not have any configured default scopes, 'scope' must be provided."},
		{"no policy", NoPolicyServerID, id, secret, ccForm("free:read"), 401, "access_denied", "Policy evaluation failed for this request, please check the policy configurations."},
		{"rule lacks scope", PartnersServerID, id, secret, ccForm("partners:admin"), 401, "access_denied", "Policy evaluation failed for this request, please check the policy configurations."},
		{"consent", PartnersServerID, id, secret, ccForm("partners:consent"), 400, "consent_required", "The following scopes require user consent and cannot be granted for the client credentials grant type: [partners:consent]."},
		{"wrong secret", "default", id, "not-it", ccForm("openid"), 401, "invalid_client", "The client secret supplied for a confidential client is invalid."},
		{"unknown client", "default", "0oaNobody", "x", ccForm("openid"), 401, "invalid_client", "Client authentication failed. Either the client or the client credentials are invalid."},
		{"no credentials", "default", "", "", ccForm("openid"), 401, "invalid_client", "No client credentials found."},
		{"unsupported grant", "default", id, secret, url.Values{"grant_type": {"urn:example:magic"}}, 400, "unsupported_grant_type", ""},
		{"grant not registered", "default", webID, webSecret, ccForm("openid"), 400, "unauthorized_client", ""},
	} {
		hh := h
		if tc.name == "unsupported grant" {
			hh = h.offSpec() // a grant type outside the spec's enum, on purpose
		}
		r := hh.tokenCall(tc.server, tc.form, tc.id, tc.secret)
		if r.status != tc.status {
			t.Fatalf("%s: status %d %s", tc.name, r.status, r.body)
		}
		e := r.oauthErr(t)
		if e.Error != tc.code || (tc.desc != "" && e.Description != tc.desc) {
			t.Errorf("%s: %+v", tc.name, e)
		}
	}
	if got := h.em.Snapshot().TokensIssued; got != 0 {
		t.Errorf("%d tokens issued on errors", got)
	}
}

func TestToken_DeletedClientCannotGetTokens(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.createScope("default", map[string]any{"name": "a"})
	id, secret := h.register("svc")
	h.call(http.MethodDelete, "/oauth2/v1/clients/"+id, DefaultDCRToken, nil)
	if r := h.tokenCall("default", ccForm("a"), id, secret); r.status != http.StatusUnauthorized {
		t.Errorf("deleted client got %d", r.status)
	}
}

func TestMetadata_PublishesOnlyAllClientsScopes(t *testing.T) {
	t.Parallel()
	h := start(t)
	for _, doc := range []string{"oauth-authorization-server", "openid-configuration"} {
		r := h.call(http.MethodGet, "/oauth2/"+PartnersServerID+"/.well-known/"+doc, "", nil)
		if r.status != http.StatusOK || r.header.Get("X-Rate-Limit-Limit") != "" {
			t.Fatalf("%s: %d, rate headers %q", doc, r.status, r.header.Get("X-Rate-Limit-Limit"))
		}
		var m metadataJSON
		r.decode(t, &m)
		iss := h.url + "/oauth2/" + PartnersServerID
		if m.Issuer != iss || m.TokenEndpoint != iss+"/v1/token" || m.JWKSURI != iss+"/v1/keys" ||
			m.RegistrationEndpoint != h.url+"/oauth2/v1/clients" || !slices.Contains(m.GrantTypesSupported, "client_credentials") {
			t.Errorf("%s: %+v", doc, m)
		}
		if !slices.Contains(m.ScopesSupported, "partners:read") || !slices.Contains(m.ScopesSupported, "openid") ||
			slices.Contains(m.ScopesSupported, "partners:admin") {
			t.Errorf("%s scopes_supported %v", doc, m.ScopesSupported)
		}
	}
	if r := h.call(http.MethodGet, "/oauth2/ausNope/.well-known/openid-configuration", "", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown server metadata: %d", r.status)
	}
}
