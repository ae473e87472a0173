package okta

import (
	"net/http"
	"slices"
)

// metadataJSON is a custom server's discovery document (spec OAuthMetadata and
// OidcMetadata, values as in the spec's CustomASOAuthMetadata example).
type metadataJSON struct {
	Issuer                                    string   `json:"issuer"`
	AuthorizationEndpoint                     string   `json:"authorization_endpoint"`
	TokenEndpoint                             string   `json:"token_endpoint"`
	UserinfoEndpoint                          string   `json:"userinfo_endpoint,omitempty"`
	RegistrationEndpoint                      string   `json:"registration_endpoint"`
	JWKSURI                                   string   `json:"jwks_uri"`
	ResponseTypesSupported                    []string `json:"response_types_supported"`
	ResponseModesSupported                    []string `json:"response_modes_supported"`
	GrantTypesSupported                       []string `json:"grant_types_supported"`
	SubjectTypesSupported                     []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported          []string `json:"id_token_signing_alg_values_supported,omitempty"`
	ScopesSupported                           []string `json:"scopes_supported"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported                           []string `json:"claims_supported"`
	CodeChallengeMethodsSupported             []string `json:"code_challenge_methods_supported"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpoint                        string   `json:"revocation_endpoint"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	EndSessionEndpoint                        string   `json:"end_session_endpoint"`
	RequestParameterSupported                 bool     `json:"request_parameter_supported"`
	RequestObjectSigningAlgValuesSupported    []string `json:"request_object_signing_alg_values_supported"`
	DeviceAuthorizationEndpoint               string   `json:"device_authorization_endpoint"`
}

var (
	accessTokenClaims = []string{"ver", "jti", "iss", "aud", "iat", "exp", "cid", "uid", "scp", "sub"}
	oidcClaims        = []string{"iss", "ver", "sub", "aud", "iat", "exp", "jti", "auth_time", "amr", "idp",
		"nonce", "name", "nickname", "preferred_username", "given_name", "middle_name", "family_name", "email",
		"email_verified", "profile", "zoneinfo", "locale", "address", "phone_number", "picture", "website",
		"gender", "birthdate", "updated_at", "at_hash", "c_hash"}
)

func (e *Emulator) metadata(s *authServer, oidc bool) metadataJSON {
	iss := e.issuer(s.id)
	var scopes []string
	for _, sc := range s.scopes {
		if sc.system || sc.publish == publishAll {
			scopes = append(scopes, sc.name)
		}
	}
	m := metadataJSON{
		Issuer: iss, AuthorizationEndpoint: iss + "/v1/authorize", TokenEndpoint: iss + "/v1/token",
		RegistrationEndpoint: e.opts.BaseURL + "/oauth2/v1/clients", JWKSURI: iss + "/v1/keys",
		ResponseTypesSupported: []string{"code", "token", "id_token", "code id_token", "code token", "id_token token", "code id_token token"},
		ResponseModesSupported: []string{"query", "fragment", "form_post", "okta_post_message"},
		GrantTypesSupported: []string{"authorization_code", "implicit", "refresh_token", "password",
			"client_credentials", "urn:ietf:params:oauth:grant-type:device_code"},
		SubjectTypesSupported:                     []string{"public"},
		ScopesSupported:                           scopes,
		TokenEndpointAuthMethodsSupported:         slices.Clone(authMethods),
		ClaimsSupported:                           accessTokenClaims,
		CodeChallengeMethodsSupported:             []string{"S256"},
		IntrospectionEndpoint:                     iss + "/v1/introspect",
		IntrospectionEndpointAuthMethodsSupported: slices.Clone(authMethods),
		RevocationEndpoint:                        iss + "/v1/revoke",
		RevocationEndpointAuthMethodsSupported:    slices.Clone(authMethods),
		EndSessionEndpoint:                        iss + "/v1/logout",
		RequestParameterSupported:                 true,
		RequestObjectSigningAlgValuesSupported:    []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"},
		DeviceAuthorizationEndpoint:               iss + "/v1/device/authorize",
	}
	if oidc {
		m.UserinfoEndpoint = iss + "/v1/userinfo"
		m.IDTokenSigningAlgValuesSupported = []string{"RS256"}
		m.ClaimsSupported = oidcClaims
	}
	return m
}

func (e *Emulator) oauthMetadata(w http.ResponseWriter, r *http.Request) {
	e.serveMetadata(w, r, false)
}

func (e *Emulator) oidcMetadata(w http.ResponseWriter, r *http.Request) { e.serveMetadata(w, r, true) }

func (e *Emulator) serveMetadata(w http.ResponseWriter, r *http.Request, oidc bool) {
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		return http.StatusOK, e.metadata(s, oidc), nil
	})
}
