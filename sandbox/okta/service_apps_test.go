package okta

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

const svcID = "0oaSvcSandbox000001"

// svcHarness is an emulator with one service app granted read only.
func svcHarness(t *testing.T) (*harness, jose.Signer) {
	t.Helper()
	pemKey, jwks, err := NewServiceAppKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	seed := DefaultSeed()
	seed.ServiceApps = []SeedServiceApp{{ClientID: svcID, JWKS: jwks, GrantedScopes: []string{scopeASRead}}}
	h := startSeed(t, seed).offSpec() // the org token endpoint is in the oauth spec without query parameters
	return h, signerFor(t, pemKey, "k1")
}

func signerFor(t *testing.T, pemKey []byte, kid string) jose.Signer {
	t.Helper()
	b, _ := pem.Decode(pemKey)
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k}, (&jose.SignerOptions{}).WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func assertion(t *testing.T, s jose.Signer, aud, jti string, exp time.Time) string {
	t.Helper()
	c := map[string]any{"iss": svcID, "sub": svcID, "aud": aud, "exp": exp.Unix(), "iat": time.Now().Unix()}
	if jti != "" {
		c["jti"] = jti
	}
	out, err := jwt.Signed(s).Claims(c).CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (h *harness) orgToken(assertion, scope string) reply {
	h.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {assertionType}, "client_assertion": {assertion}}
	req, _ := http.NewRequest(http.MethodPost, h.url+"/oauth2/v1/token?"+form.Encode(), nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.send(req)
}

func (h *harness) bearer(method, path, token string) reply {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.url+path, strings.NewReader(`{"name":"svc:scope","consent":"IMPLICIT"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return h.send(req)
}

func TestServiceApp_TokenEndpointChecksTheAssertion(t *testing.T) {
	h, signer := svcHarness(t)
	aud := h.url + "/oauth2/v1/token"
	future := time.Now().Add(5 * time.Minute)
	other, _, _ := NewServiceAppKey("k1")
	for name, tc := range map[string]struct {
		assertion, scope string
		status           int
		code, desc       string
	}{
		"wrong audience":    {assertion(t, signer, h.url+"/oauth2/default/v1/token", "a", future), scopeASRead, 401, "invalid_client", "audience"},
		"expired":           {assertion(t, signer, aud, "b", time.Now().Add(-time.Hour)), scopeASRead, 401, "invalid_client", "expired"},
		"too far":           {assertion(t, signer, aud, "c", time.Now().Add(3*time.Hour)), scopeASRead, 401, "invalid_client", "too far"},
		"other key":         {assertion(t, signerFor(t, other, "k1"), aud, "d", future), scopeASRead, 401, "invalid_client", "signature"},
		"scope not granted": {assertion(t, signer, aud, "e", future), scopeASManage, 400, "invalid_scope", scopeASManage},
	} {
		r := h.orgToken(tc.assertion, tc.scope)
		e := r.oauthErr(t)
		if r.status != tc.status || e.Error != tc.code || !strings.Contains(e.Description, tc.desc) {
			t.Errorf("%s: %d %+v, want %d %s mentioning %q", name, r.status, e, tc.status, tc.code, tc.desc)
		}
	}
	good := assertion(t, signer, aud, "once", future)
	r := h.orgToken(good, scopeASRead)
	if r.status != http.StatusOK {
		t.Fatalf("good assertion: %d %s", r.status, r.body)
	}
	var tok tokenResponse
	r.decode(t, &tok)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.Scope != scopeASRead || tok.AccessToken == "" {
		t.Fatalf("token %+v", tok)
	}
	if r := h.orgToken(good, scopeASRead); r.status != http.StatusUnauthorized || !strings.Contains(r.oauthErr(t).Description, "already been used") {
		t.Errorf("replayed assertion: %d %s", r.status, r.body)
	}
	if h.em.TokensIssued() != 1 {
		t.Errorf("tokens issued = %d", h.em.TokensIssued())
	}

	// The token reads (read scope) but may not write (manage scope).
	if r := h.bearer(http.MethodGet, "/api/v1/authorizationServers/default", tok.AccessToken); r.status != http.StatusOK {
		t.Errorf("read with the read scope: %d %s", r.status, r.body)
	}
	r = h.bearer(http.MethodPost, "/api/v1/authorizationServers/default/scopes", tok.AccessToken)
	if r.status != http.StatusForbidden || r.oktaErr(t).ErrorCode != "E0000006" {
		t.Fatalf("write with the read scope: %d %s", r.status, r.body)
	}
	ch := r.header.Get("WWW-Authenticate")
	if !strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="`+scopeASManage+`"`) {
		t.Errorf("challenge %q", ch)
	}
	if r := h.bearer(http.MethodGet, "/api/v1/authorizationServers/default", "sbxoat.unknown"); r.status != http.StatusUnauthorized || r.oktaErr(t).ErrorCode != "E0000011" {
		t.Errorf("unknown bearer: %d %s", r.status, r.body)
	}
}
