package okta

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
)

// OAuth 2.0 for Okta: an API service app authenticates at the org authorization
// server's token endpoint ({org}/oauth2/v1/token) with private_key_jwt and gets an
// access token for the Okta API scopes granted to it; every management endpoint
// then wants the scope its spec's security requirement names.

// SeedServiceApp is an API service app (client_credentials, private_key_jwt).
type SeedServiceApp struct {
	ClientID string `json:"client_id"`
	// JWKS holds the app's public keys (a JSON Web Key Set, as the Admin Console
	// keeps it).
	JWKS json.RawMessage `json:"jwks"`
	// GrantedScopes are the Okta API scopes granted to the app
	// (okta.authorizationServers.read, ...).
	GrantedScopes []string `json:"granted_scopes"`
	// TokenLifetimeSeconds of the access tokens; Okta's is an hour (the default).
	TokenLifetimeSeconds int `json:"token_lifetime_seconds,omitempty"`
}

// The scopes of the authorization-server endpoints (spec security requirements).
const (
	scopeASRead   = "okta.authorizationServers.read"
	scopeASManage = "okta.authorizationServers.manage"
)

type serviceApp struct {
	clientID string
	keys     jose.JSONWebKeySet
	granted  []string
	lifetime time.Duration
}

type accessGrant struct {
	clientID string
	scopes   []string
	expires  time.Time
}

// orgOAuth is the org authorization server's state: apps, tokens issued, the
// assertion ids seen. It has its own lock; Reset keeps apps and forgets the rest.
type orgOAuth struct {
	mu     sync.Mutex
	apps   map[string]*serviceApp
	tokens map[string]accessGrant
	jtis   map[string]time.Time // jti → the assertion's expiry
	issued int
}

func newOrgOAuth(seed []SeedServiceApp) (*orgOAuth, error) {
	o := &orgOAuth{apps: map[string]*serviceApp{}, tokens: map[string]accessGrant{}, jtis: map[string]time.Time{}}
	for _, a := range seed {
		if a.ClientID == "" {
			return nil, fmt.Errorf("service app: client_id is empty")
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(a.JWKS, &set); err != nil || len(set.Keys) == 0 {
			return nil, fmt.Errorf("service app %s: jwks: want a JSON Web Key Set with at least one key", a.ClientID)
		}
		life := time.Duration(a.TokenLifetimeSeconds) * time.Second
		if life <= 0 {
			life = time.Hour
		}
		o.apps[a.ClientID] = &serviceApp{clientID: a.ClientID, keys: set, granted: slices.Clone(a.GrantedScopes), lifetime: life}
	}
	return o, nil
}

func (o *orgOAuth) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tokens, o.jtis, o.issued = map[string]accessGrant{}, map[string]time.Time{}, 0
}

// TokensIssued counts the access tokens the org authorization server issued to
// service apps since the start (or the last Reset).
func (e *Emulator) TokensIssued() int {
	e.oauth.mu.Lock()
	defer e.oauth.mu.Unlock()
	return e.oauth.issued
}

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// orgToken serves POST {org}/oauth2/v1/token for service apps: client_credentials
// with a private_key_jwt client assertion. Parameters may come in the body or, as
// okta-sdk-golang v2 sends them, in the query. The assertion is checked as Okta
// documents it: iss and sub are the client id, aud the token endpoint, signed by a
// key of the app (kid picks it), exp in the future and at most an hour away, and a
// jti seen before is refused (a replay).
func (e *Emulator) orgToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache, no-store")
	w.Header().Set("Pragma", "no-cache")
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request must be a form-encoded POST.")
		return
	}
	resp, fail := e.oauth.grant(r.Form, e.opts.BaseURL+"/oauth2/v1/token", e.opts.Now())
	if fail != nil {
		writeOAuthError(w, fail.status, fail.code, fail.description)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (o *orgOAuth) grant(form map[string][]string, audience string, now time.Time) (tokenResponse, *oauthFailure) {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	bad := func(desc string) *oauthFailure { return denied(http.StatusUnauthorized, "invalid_client", desc) }
	if gt := get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			return tokenResponse{}, denied(http.StatusBadRequest, "invalid_request", "The request is missing a required parameter: grant_type.")
		}
		return tokenResponse{}, denied(http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].")
	}
	if get("client_assertion_type") != assertionType || get("client_assertion") == "" {
		return tokenResponse{}, bad("No client credentials found.")
	}
	jws, err := jose.ParseSigned(get("client_assertion"))
	if err != nil || len(jws.Signatures) != 1 {
		return tokenResponse{}, bad("The client_assertion token is malformed.")
	}
	var unverified struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified); err != nil {
		return tokenResponse{}, bad("The client_assertion token is malformed.")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	app := o.apps[unverified.Iss]
	if app == nil || (get("client_id") != "" && get("client_id") != app.clientID) {
		return tokenResponse{}, bad("The client_assertion token has an invalid issuer or subject.")
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := app.keys.Keys
	if kid != "" {
		keys = app.keys.Key(kid)
	} else if len(keys) > 1 {
		return tokenResponse{}, bad("The client_assertion token has no kid and the client has several keys.")
	}
	var payload []byte
	for _, k := range keys {
		if p, err := jws.Verify(k.Key); err == nil {
			payload = p
			break
		}
	}
	if payload == nil {
		return tokenResponse{}, bad("The client_assertion signature is invalid.")
	}
	var c struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp *float64        `json:"exp"`
		Iat *float64        `json:"iat"`
		Jti string          `json:"jti"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return tokenResponse{}, bad("The client_assertion token is malformed.")
	}
	if c.Sub != app.clientID {
		return tokenResponse{}, bad("The client_assertion token has an invalid issuer or subject.")
	}
	if !audienceIs(c.Aud, audience) {
		return tokenResponse{}, bad("The audience [aud] claim in the client_assertion token is invalid.")
	}
	const skew = 30 * time.Second
	if c.Exp == nil {
		return tokenResponse{}, bad("The client_assertion token must have an expiration [exp] claim.")
	}
	exp := time.Unix(int64(*c.Exp), 0)
	if !exp.After(now.Add(-skew)) {
		return tokenResponse{}, bad("The client_assertion token is expired.")
	}
	if exp.After(now.Add(time.Hour + skew)) {
		return tokenResponse{}, bad("The client_assertion token expiration is too far in the future.")
	}
	if c.Iat != nil && time.Unix(int64(*c.Iat), 0).After(now.Add(skew)) {
		return tokenResponse{}, bad("The client_assertion token was issued in the future.")
	}
	for j, until := range o.jtis { // forget expired ones: they can no longer be replayed
		if until.Before(now.Add(-skew)) {
			delete(o.jtis, j)
		}
	}
	if c.Jti != "" {
		if _, seen := o.jtis[c.Jti]; seen {
			return tokenResponse{}, bad("The client_assertion token has already been used.")
		}
		o.jtis[c.Jti] = exp
	}
	requested := strings.Fields(get("scope"))
	if len(requested) == 0 {
		return tokenResponse{}, denied(http.StatusBadRequest, "invalid_scope", "The authorization server resource does not have any configured default scopes, 'scope' must be provided.")
	}
	var notGranted []string
	for _, s := range requested {
		if !slices.Contains(app.granted, s) {
			notGranted = append(notGranted, s)
		}
	}
	if len(notGranted) > 0 {
		// Okta's wording for a scope not granted to the app is assumed; the code is
		// the documented invalid_scope.
		return tokenResponse{}, denied(http.StatusBadRequest, "invalid_scope",
			"The following scopes are not allowed: "+strings.Join(notGranted, ", "))
	}
	var raw [24]byte
	_, _ = rand.Read(raw[:])
	tok := "sbxoat." + base64.RawURLEncoding.EncodeToString(raw[:])
	o.tokens[tok] = accessGrant{clientID: app.clientID, scopes: requested, expires: now.Add(app.lifetime)}
	o.issued++
	return tokenResponse{TokenType: "Bearer", ExpiresIn: int(app.lifetime / time.Second), AccessToken: tok, Scope: strings.Join(requested, " ")}, nil
}

func audienceIs(raw json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == want
	}
	var many []string
	return json.Unmarshal(raw, &many) == nil && slices.Contains(many, want)
}

// bearerAccess decides a management call made with an OAuth access token: nil to
// go on, or the problem to answer — 401 for an unknown or expired token, 403 with
// Okta's insufficient_scope challenge when the token lacks the endpoint's scope.
func (o *orgOAuth) bearerAccess(w http.ResponseWriter, r *http.Request, token, orgURL string, now time.Time) *apiProblem {
	o.mu.Lock()
	g, ok := o.tokens[token]
	if ok && !now.Before(g.expires) {
		delete(o.tokens, token)
		ok = false
	}
	o.mu.Unlock()
	if !ok {
		return invalidToken()
	}
	need, also := scopeASRead, scopeASManage // manage reads too
	if r.Method != http.MethodGet {
		need, also = scopeASManage, ""
	}
	if slices.Contains(g.scopes, need) || (also != "" && slices.Contains(g.scopes, also)) {
		return nil
	}
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="%s/oauth2/v1/authorize", realm="%s", scope="%s", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="%s"`,
		orgURL, orgURL, need, r.URL.Path))
	return forbidden()
}

// NewServiceAppKey makes an RSA key pair for a service app: the private key as
// PKCS#8 PEM (what the Admin Console hands out) and the app's JWKS with kid.
func NewServiceAppKey(kid string) (privatePEM []byte, jwks json.RawMessage, err error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}}}
	jwks, err = json.Marshal(set)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), jwks, nil
}
