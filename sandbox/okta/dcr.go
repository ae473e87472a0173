package okta

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Which grant types each application type may register (spec createClient).
var appGrantTypes = map[string][]string{
	"browser": {"authorization_code", "implicit", "urn:ietf:params:oauth:grant-type:saml2-bearer",
		"urn:okta:params:oauth:grant-type:otp", "urn:okta:params:oauth:grant-type:oob",
		"http://auth0.com/oauth/grant-type/mfa-otp", "http://auth0.com/oauth/grant-type/mfa-oob"},
	"native": {"authorization_code", "implicit", "password", "refresh_token",
		"urn:ietf:params:oauth:grant-type:saml2-bearer", "urn:okta:params:oauth:grant-type:otp",
		"urn:okta:params:oauth:grant-type:oob", "http://auth0.com/oauth/grant-type/mfa-otp",
		"http://auth0.com/oauth/grant-type/mfa-oob"},
	"service": {"client_credentials", "urn:ietf:params:oauth:grant-type:saml2-bearer",
		"urn:okta:params:oauth:grant-type:otp", "urn:okta:params:oauth:grant-type:oob",
		"http://auth0.com/oauth/grant-type/mfa-otp", "http://auth0.com/oauth/grant-type/mfa-oob"},
	"web": {"authorization_code", "implicit", "refresh_token", "client_credentials",
		"urn:ietf:params:oauth:grant-type:saml2-bearer", "urn:okta:params:oauth:grant-type:otp",
		"urn:okta:params:oauth:grant-type:oob", "http://auth0.com/oauth/grant-type/mfa-otp",
		"http://auth0.com/oauth/grant-type/mfa-oob"},
}

var (
	authMethods   = []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"}
	responseTypes = []string{"code", "token", "id_token", "none"}
)

// secretMethods are the auth methods for which Okta generates a client secret.
var secretMethods = []string{"client_secret_basic", "client_secret_post", "client_secret_jwt"}

type clientJSON struct {
	ClientID                string   `json:"client_id"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientName              string   `json:"client_name"`
	ClientSecret            *string  `json:"client_secret,omitempty"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	ClientURI               *string  `json:"client_uri"`
	LogoURI                 *string  `json:"logo_uri"`
	RedirectURIs            []string `json:"redirect_uris"`
	ResponseTypes           []string `json:"response_types"`
	GrantTypes              []string `json:"grant_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	ApplicationType         string   `json:"application_type"`
}

// clientInput is a registration body (spec Client).
type clientInput struct {
	ClientName              string          `json:"client_name"`
	ApplicationType         string          `json:"application_type"`
	GrantTypes              []string        `json:"grant_types"`
	ResponseTypes           []string        `json:"response_types"`
	RedirectURIs            []string        `json:"redirect_uris"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method"`
	JWKS                    json.RawMessage `json:"jwks"`
	JWKSURI                 string          `json:"jwks_uri"`
}

// metadataError is RFC 7591's invalid_client_metadata with Okta's wording style.
type metadataError string

// newClient validates a registration and applies Okta's defaults.
func newClient(in clientInput) (*client, metadataError) {
	if strings.TrimSpace(in.ClientName) == "" {
		return nil, "`client_name`: The field can't be left blank."
	}
	c := &client{name: in.ClientName, appType: orDefault(in.ApplicationType, "web"),
		grantTypes: slices.Clone(in.GrantTypes), responseTypes: slices.Clone(in.ResponseTypes),
		redirectURIs: slices.Clone(in.RedirectURIs), authMethod: in.TokenEndpointAuthMethod}
	allowed, ok := appGrantTypes[c.appType]
	if !ok {
		return nil, "`application_type`: The value must be one of [browser, native, service, web]."
	}
	if len(c.grantTypes) == 0 {
		c.grantTypes = []string{"authorization_code"}
	}
	for _, g := range c.grantTypes {
		if !slices.Contains(allowed, g) {
			return nil, metadataError("`grant_types`: '" + g + "' is not a valid grant type for the application type '" + c.appType + "'.")
		}
	}
	if (c.appType == "web" || c.appType == "native") && !slices.Contains(c.grantTypes, "authorization_code") {
		return nil, "`grant_types`: Must include 'authorization_code' for the application type '" + metadataError(c.appType) + "'."
	}
	if c.authMethod == "" {
		c.authMethod = "client_secret_basic"
		if c.appType == "browser" || c.appType == "native" {
			c.authMethod = "none"
		}
	}
	if !slices.Contains(authMethods, c.authMethod) {
		return nil, "`token_endpoint_auth_method`: The value must be one of [" + metadataError(strings.Join(authMethods, ", ")) + "]."
	}
	if c.appType == "service" && c.authMethod == "none" {
		return nil, "`token_endpoint_auth_method`: A service client must authenticate at the token endpoint."
	}
	if c.authMethod == "private_key_jwt" && len(in.JWKS) == 0 && in.JWKSURI == "" {
		return nil, "`jwks`: A JWKS or jwks_uri is required for the token endpoint auth method 'private_key_jwt'."
	}
	needsRedirect := slices.Contains(c.grantTypes, "authorization_code") || slices.Contains(c.grantTypes, "implicit")
	if needsRedirect && len(c.redirectURIs) == 0 {
		return nil, "`redirect_uris`: The field can't be left blank."
	}
	for _, u := range c.redirectURIs {
		if p, err := url.Parse(u); err != nil || !p.IsAbs() || p.Fragment != "" {
			return nil, metadataError("`redirect_uris`: '" + u + "' is not an absolute URI without fragment.")
		}
	}
	if len(c.responseTypes) == 0 {
		c.responseTypes = []string{"code"}
		if !needsRedirect {
			c.responseTypes = []string{"token"}
		}
	}
	for _, rt := range c.responseTypes {
		if !slices.Contains(responseTypes, rt) {
			return nil, metadataError("`response_types`: '" + rt + "' is not a valid response type.")
		}
	}
	return c, ""
}

func clientView(c *client, withSecret bool) clientJSON {
	out := clientJSON{ClientID: c.id, ClientIDIssuedAt: c.issuedAt.Unix(), ClientName: c.name,
		RedirectURIs: c.redirectURIs, ResponseTypes: c.responseTypes, GrantTypes: c.grantTypes,
		TokenEndpointAuthMethod: c.authMethod, ApplicationType: c.appType}
	if out.RedirectURIs == nil {
		out.RedirectURIs = []string{}
	}
	if c.secret != "" {
		never := int64(0)
		out.ClientSecretExpiresAt = &never
		if withSecret {
			secret := c.secret
			out.ClientSecret = &secret
		}
	}
	return out
}

// registerClient serves POST /oauth2/v1/clients.
func (e *Emulator) registerClient(w http.ResponseWriter, r *http.Request) {
	var in clientInput
	if !decodeBody(w, r, &in) {
		malformed().write(w)
		return
	}
	c, problem := newClient(in)
	if problem != "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", string(problem))
		return
	}
	c.id = randomID(prefixApp)
	if slices.Contains(secretMethods, c.authMethod) {
		c.secret = randomString(40)
	}
	e.respond(w, func() (int, any, *apiProblem) {
		c.issuedAt = e.opts.Now()
		c.seq = e.org.seq(c.id)
		e.org.clients = append(e.org.clients, c)
		return http.StatusCreated, clientView(c, true), nil
	})
}

// listClients serves GET /oauth2/v1/clients: q is a client_name prefix.
func (e *Emulator) listClients(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	limit := listLimit(r)
	e.respond(w, func() (int, any, *apiProblem) {
		var matched []*client
		for _, c := range e.org.clients {
			if strings.HasPrefix(c.name, q) {
				matched = append(matched, c)
			}
		}
		page, more := paginate(e.org, matched, func(c *client) int64 { return c.seq }, r.URL.Query().Get("after"), limit)
		out := make([]clientJSON, 0, len(page))
		for _, c := range page {
			out = append(out, clientView(c, false))
		}
		e.setLinks(w, r, limit, lastID(page, func(c *client) string { return c.id }), more)
		return http.StatusOK, out, nil
	})
}

func (e *Emulator) getClient(w http.ResponseWriter, r *http.Request) {
	e.respond(w, func() (int, any, *apiProblem) {
		i := e.org.clientIndex(r.PathValue("id"))
		if i < 0 {
			return 0, nil, notFound(r.PathValue("id"), "App")
		}
		return http.StatusOK, clientView(e.org.clients[i], false), nil
	})
}

func (e *Emulator) deleteClient(w http.ResponseWriter, r *http.Request) {
	e.respond(w, func() (int, any, *apiProblem) {
		i := e.org.clientIndex(r.PathValue("id"))
		if i < 0 {
			return 0, nil, notFound(r.PathValue("id"), "App")
		}
		e.org.clients = slices.Delete(e.org.clients, i, i+1)
		return http.StatusNoContent, nil, nil
	})
}

func (o *orgState) clientIndex(id string) int {
	return slices.IndexFunc(o.clients, func(c *client) bool { return c.id == id })
}
