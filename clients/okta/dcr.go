package okta

import (
	"context"
	"fmt"
	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ClientRegistration is an RFC 7591 registration request (Okta's Client).
type ClientRegistration struct {
	ClientName              string   // required
	ApplicationType         string   // browser, native, service or web (Okta's default)
	GrantTypes              []string // e.g. client_credentials
	ResponseTypes           []string
	RedirectURIs            []string
	TokenEndpointAuthMethod string // e.g. client_secret_basic
}

// RegisteredClient is what Okta answered. ClientSecret is a secret: String and
// GoString leave it out.
type RegisteredClient struct {
	ClientID                string
	ClientSecret            string
	ClientName              string
	ApplicationType         string
	GrantTypes              []string
	ResponseTypes           []string
	RedirectURIs            []string
	TokenEndpointAuthMethod string
	IssuedAt                time.Time
	SecretExpiresAt         time.Time // zero: never
}

func (c RegisteredClient) String() string {
	return fmt.Sprintf("okta client %s (%s, %s, grants %v, secret redacted)", c.ClientID, c.ClientName,
		c.TokenEndpointAuthMethod, c.GrantTypes)
}

func (c RegisteredClient) GoString() string { return c.String() }

type registrationJSON struct {
	ClientName              string   `json:"client_name"`
	ApplicationType         string   `json:"application_type,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
}

type registeredJSON struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at"`
	ClientName              string   `json:"client_name"`
	ApplicationType         string   `json:"application_type"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

// RegisterClient registers a client through Okta DCR (POST /oauth2/v1/clients)
// with the given DCR token.
func (c *Client) RegisterClient(ctx context.Context, dcrToken string, reg ClientRegistration) (*RegisteredClient, error) {
	const op = "RegisterClient"
	if dcrToken == "" {
		return nil, invalidArgument(op, "DCR token is empty")
	}
	body := registrationJSON{ClientName: reg.ClientName, ApplicationType: reg.ApplicationType,
		GrantTypes: reg.GrantTypes, ResponseTypes: reg.ResponseTypes, RedirectURIs: reg.RedirectURIs,
		TokenEndpointAuthMethod: reg.TokenEndpointAuthMethod}
	return c.oneClient(ctx, op, dcrToken, http.MethodPost, "/oauth2/v1/clients", body)
}

// oneClient sends a DCR request whose answer is one client.
func (c *Client) oneClient(ctx context.Context, op, dcrToken, method, path string, body any) (*RegisteredClient, error) {
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	re, req, err := c.dcrRequest(op, ex, dcrToken, method, path, body)
	if err != nil {
		return nil, err
	}
	var out registeredJSON
	resp, err := re.Do(ctx, req, &out)
	if err == nil && out.ClientID == "" {
		err = errEmptyBody
	}
	if err != nil {
		return nil, failure(op, ex, resp, err, dcrToken)
	}
	return out.client(), nil
}

// client is the answer as a RegisteredClient.
func (j *registeredJSON) client() *RegisteredClient {
	rc := &RegisteredClient{ClientID: j.ClientID, ClientSecret: j.ClientSecret, ClientName: j.ClientName,
		ApplicationType: j.ApplicationType, GrantTypes: slices.Clone(j.GrantTypes),
		ResponseTypes: slices.Clone(j.ResponseTypes), RedirectURIs: slices.Clone(j.RedirectURIs),
		TokenEndpointAuthMethod: j.TokenEndpointAuthMethod, IssuedAt: time.Unix(j.ClientIDIssuedAt, 0)}
	if j.ClientSecretExpiresAt != nil && *j.ClientSecretExpiresAt > 0 {
		rc.SecretExpiresAt = time.Unix(*j.ClientSecretExpiresAt, 0)
	}
	return rc
}

// GetClient reads one DCR client (GET /oauth2/v1/clients/{clientId}); an unknown
// id fails with IsNotFound. ClientSecret is whatever Okta includes, if anything.
func (c *Client) GetClient(ctx context.Context, dcrToken, clientID string) (*RegisteredClient, error) {
	const op = "GetClient"
	if dcrToken == "" || clientID == "" {
		return nil, invalidArgument(op, "DCR token and client id are required")
	}
	return c.oneClient(ctx, op, dcrToken, http.MethodGet, "/oauth2/v1/clients/"+segment(clientID), nil)
}

// DeleteClient deletes a DCR client; a 404 means it is already gone.
func (c *Client) DeleteClient(ctx context.Context, dcrToken, clientID string) error {
	const op = "DeleteClient"
	if dcrToken == "" || clientID == "" {
		return invalidArgument(op, "DCR token and client id are required")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	re, req, err := c.dcrRequest(op, ex, dcrToken, http.MethodDelete, "/oauth2/v1/clients/"+segment(clientID), nil)
	if err != nil {
		return err
	}
	resp, err := re.Do(ctx, req, nil)
	if err != nil {
		return failure(op, ex, resp, err, dcrToken)
	}
	return nil
}

// ListClients lists the DCR clients whose client_name starts with namePrefix (Okta's
// `q` is a prefix match on it), following every page. Secrets are not returned.
func (c *Client) ListClients(ctx context.Context, dcrToken, namePrefix string) ([]RegisteredClient, error) {
	const op = "ListClients"
	if dcrToken == "" {
		return nil, invalidArgument(op, "DCR token is empty")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	path := "/oauth2/v1/clients?" + url.Values{"q": {namePrefix}, "limit": {strconv.Itoa(pageSize)}}.Encode()
	re, req, err := c.dcrRequest(op, ex, dcrToken, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	var first []*registeredJSON
	resp, err := re.Do(ctx, req, &first)
	all, resp, err := allPages(ctx, first, resp, err)
	if err != nil {
		return nil, failure(op, ex, resp, err, dcrToken)
	}
	out := make([]RegisteredClient, 0, len(all))
	for _, j := range all {
		if strings.HasPrefix(j.ClientName, namePrefix) {
			out = append(out, RegisteredClient{ClientID: j.ClientID, ClientName: j.ClientName, ApplicationType: j.ApplicationType,
				GrantTypes: slices.Clone(j.GrantTypes), TokenEndpointAuthMethod: j.TokenEndpointAuthMethod})
		}
	}
	return out, nil
}

// dcrRequest builds a call to the DCR endpoint on the SDK client of dcrToken (the
// SDK's executor adds the org URL and the SSWS header).
func (c *Client) dcrRequest(op string, ex *exchange, dcrToken, method, path string, body any) (*oktasdk.RequestExecutor, *http.Request, error) {
	sdk, err := c.dcrSDK(dcrToken)
	if err != nil {
		return nil, nil, &Error{Op: op, Summary: "configure SDK", Err: err}
	}
	re := sdk.CloneRequestExecutor()
	req, err := re.WithAccept("application/json").WithContentType("application/json").NewRequest(method, path, body)
	if err != nil {
		return nil, nil, failure(op, ex, nil, err, dcrToken)
	}
	return re, req, nil
}
