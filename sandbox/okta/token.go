package okta

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// tokenResponse is a successful client_credentials answer.
type tokenResponse struct {
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
}

// oauthFailure is a token endpoint error on its way to the wire.
type oauthFailure struct {
	status            int
	code, description string
}

func denied(status int, code, description string) *oauthFailure {
	return &oauthFailure{status: status, code: code, description: description}
}

// knownGrantTypes are the grant types Okta recognises at all.
var knownGrantTypes = []string{"authorization_code", "client_credentials", "implicit", "interaction_code",
	"password", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code",
	"urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:saml2-bearer",
	"urn:ietf:params:oauth:grant-type:token-exchange", "urn:openid:params:grant-type:ciba",
	"urn:okta:params:oauth:grant-type:otp", "urn:okta:params:oauth:grant-type:oob",
	"http://auth0.com/oauth/grant-type/mfa-otp", "http://auth0.com/oauth/grant-type/mfa-oob"}

// token serves POST /oauth2/{as}/v1/token for the client_credentials grant, with
// client_secret_basic or client_secret_post, answering Okta's errors in Okta's
// order: client authentication, grant type, scopes, consent, then policy.
func (e *Emulator) token(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("as")
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request must be a form-encoded POST.")
		return
	}
	e.mu.Lock()
	s := e.org.server(id)
	if s == nil {
		e.mu.Unlock()
		notFound(id, "AuthorizationServer").write(w)
		return
	}
	claims, resp, fail := e.grant(s, r)
	if fail == nil {
		e.org.tokensIssued++
	}
	e.mu.Unlock()
	w.Header().Set("Cache-Control", "no-cache, no-store")
	w.Header().Set("Pragma", "no-cache")
	if fail != nil {
		writeOAuthError(w, fail.status, fail.code, fail.description)
		return
	}
	jwt, err := e.keys[s.id].sign(claims)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "Failed to create the access_token.")
		return
	}
	resp.AccessToken = jwt
	writeJSON(w, http.StatusOK, resp)
}

// grant decides the request with e.mu held and returns the token's claims.
func (e *Emulator) grant(s *authServer, r *http.Request) (map[string]any, tokenResponse, *oauthFailure) {
	c, fail := e.authenticate(r)
	if fail != nil {
		return nil, tokenResponse{}, fail
	}
	grantType := r.PostForm.Get("grant_type")
	switch {
	case grantType == "":
		return nil, tokenResponse{}, denied(http.StatusBadRequest, "invalid_request",
			"The token request must specify a 'grant_type'. Valid values: ["+strings.Join(c.grantTypes, ", ")+"]")
	case !slices.Contains(knownGrantTypes, grantType):
		return nil, tokenResponse{}, denied(http.StatusBadRequest, "unsupported_grant_type",
			"The authorization grant type is not supported by the authorization server. Configured grant types: ["+strings.Join(c.grantTypes, ", ")+"].")
	case !slices.Contains(c.grantTypes, grantType):
		return nil, tokenResponse{}, denied(http.StatusBadRequest, "unauthorized_client",
			"The client is not authorized to use the provided grant type. Configured grant types: ["+strings.Join(c.grantTypes, ", ")+"].")
	case grantType != "client_credentials":
		return nil, tokenResponse{}, denied(http.StatusBadRequest, "unsupported_grant_type",
			"The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].")
	}
	requested := strings.Fields(r.PostForm.Get("scope"))
	if len(requested) == 0 {
		for _, sc := range s.scopes {
			if sc.isDefault {
				requested = append(requested, sc.name)
			}
		}
		if len(requested) == 0 {
			return nil, tokenResponse{}, denied(http.StatusBadRequest, "invalid_scope",
				"The authorization server resource does not have any configured default scopes, 'scope' must be provided.")
		}
	}
	var needConsent []string
	for _, name := range requested {
		i := slices.IndexFunc(s.scopes, func(sc *scope) bool { return sc.name == name })
		switch {
		case slices.Contains(systemScopes, name):
			// openid and the other OIDC scopes describe a user; there is none here.
			return nil, tokenResponse{}, denied(http.StatusBadRequest, "invalid_scope", "Cannot request 'openid' scopes using client credentials.")
		case i < 0:
			return nil, tokenResponse{}, denied(http.StatusBadRequest, "invalid_scope", "One or more scopes are not configured for the authorization server resource.")
		case s.scopes[i].consent == consentRequired:
			needConsent = append(needConsent, name)
		}
	}
	if len(needConsent) > 0 {
		return nil, tokenResponse{}, denied(http.StatusBadRequest, "consent_required",
			"The following scopes require user consent and cannot be granted for the client credentials grant type: ["+strings.Join(needConsent, ", ")+"].")
	}
	ru := authorize(s, c.id, grantType, requested)
	if ru == nil {
		return nil, tokenResponse{}, denied(http.StatusUnauthorized, "access_denied",
			"Policy evaluation failed for this request, please check the policy configurations.")
	}
	now := e.opts.Now()
	life := time.Duration(ru.lifetimeMinutes) * time.Minute
	claims := tokenClaims(s, c.id, requested)
	for k, v := range map[string]any{
		"ver": 1, "jti": "AT." + randomString(43), "iss": e.issuer(s.id), "aud": s.audiences[0],
		"iat": now.Unix(), "exp": now.Add(life).Unix(), "cid": c.id, "scp": requested, "sub": c.id,
	} {
		claims[k] = v
	}
	return claims, tokenResponse{TokenType: "Bearer", ExpiresIn: int(life.Seconds()), Scope: strings.Join(requested, " ")}, nil
}

// authenticate finds the registered client from Basic auth or form credentials.
func (e *Emulator) authenticate(r *http.Request) (*client, *oauthFailure) {
	invalid := denied(http.StatusUnauthorized, "invalid_client", "Client authentication failed. Either the client or the client credentials are invalid.")
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	header := r.Header.Get("Authorization")
	var id, secret, method string
	switch {
	case header != "" && formSecret != "":
		return nil, denied(http.StatusBadRequest, "invalid_request", "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.")
	case header != "":
		var ok bool
		if id, secret, ok = basicCredentials(header); !ok {
			return nil, denied(http.StatusUnauthorized, "invalid_client", "Found Authentication header but was not valid client credentials.")
		}
		method = "client_secret_basic"
	case formID != "" && formSecret != "":
		id, secret, method = formID, formSecret, "client_secret_post"
	case formID != "":
		id, method = formID, "none"
	default:
		return nil, denied(http.StatusUnauthorized, "invalid_client", "No client credentials found.")
	}
	i := e.org.clientIndex(id)
	if i < 0 {
		return nil, invalid
	}
	c := e.org.clients[i]
	if c.authMethod != method || c.secret == "" {
		return nil, invalid
	}
	if subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1 {
		return nil, denied(http.StatusUnauthorized, "invalid_client", "The client secret supplied for a confidential client is invalid.")
	}
	return c, nil
}

// basicCredentials decodes "Basic base64(urlencode(id):urlencode(secret))".
func basicCredentials(header string) (id, secret string, ok bool) {
	scheme, payload, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(payload))
	if err != nil {
		return "", "", false
	}
	rawID, rawSecret, found := strings.Cut(string(raw), ":")
	if !found || rawID == "" {
		return "", "", false
	}
	if id, err = url.QueryUnescape(rawID); err != nil {
		return "", "", false
	}
	if secret, err = url.QueryUnescape(rawSecret); err != nil {
		return "", "", false
	}
	return id, secret, true
}
