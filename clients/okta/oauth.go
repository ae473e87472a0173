package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
)

// Token is a client_credentials answer. AccessToken is a secret: String and
// GoString leave it out.
type Token struct {
	AccessToken string
	TokenType   string
	ExpiresIn   time.Duration
	Scopes      []string
}

func (t Token) String() string {
	return fmt.Sprintf("%s token (redacted), expires in %s, scopes %v", t.TokenType, t.ExpiresIn, t.Scopes)
}

func (t Token) GoString() string { return t.String() }

// Metadata is an authorization server's OAuth 2.0 discovery document.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	RegistrationEndpoint              string   `json:"registration_endpoint"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
}

type tokenJSON struct {
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
}

// ClientCredentialsToken gets an access token from {issuer}/v1/token as the
// client (client_secret_basic). Okta's refusals keep their OAuth codes:
// invalid_scope, access_denied (no policy matched), invalid_client, ...
func (c *Client) ClientCredentialsToken(ctx context.Context, issuer, clientID, clientSecret string, scopes []string) (*Token, error) {
	const op = "ClientCredentialsToken"
	u, err := checkURL("issuer", issuer)
	if err != nil {
		return nil, invalidArgument(op, err.Error())
	}
	if clientID == "" || clientSecret == "" {
		return nil, invalidArgument(op, "client id and secret are required")
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	req, err := http.NewRequest(http.MethodPost, u.String()+"/v1/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, invalidArgument(op, err.Error())
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 2.3.1: both parts are form-encoded before base64.
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	var out tokenJSON
	if err := c.getJSON(ctx, op, req, &out, clientSecret); err != nil {
		return nil, err
	}
	if out.AccessToken == "" {
		return nil, &Error{Op: op, StatusCode: http.StatusOK, Err: errEmptyBody}
	}
	return &Token{AccessToken: out.AccessToken, TokenType: out.TokenType,
		ExpiresIn: time.Duration(out.ExpiresIn) * time.Second, Scopes: strings.Fields(out.Scope)}, nil
}

// GetMetadata reads {issuer}/.well-known/oauth-authorization-server.
func (c *Client) GetMetadata(ctx context.Context, issuer string) (*Metadata, error) {
	const op = "GetMetadata"
	u, err := checkURL("issuer", issuer)
	if err != nil {
		return nil, invalidArgument(op, err.Error())
	}
	req, err := http.NewRequest(http.MethodGet, u.String()+"/.well-known/oauth-authorization-server", nil)
	if err != nil {
		return nil, invalidArgument(op, err.Error())
	}
	req.Header.Set("Accept", "application/json")
	var m Metadata
	if err := c.getJSON(ctx, op, req, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// GetJWKS reads a JSON Web Key Set, e.g. Metadata.JWKSURI.
func (c *Client) GetJWKS(ctx context.Context, jwksURI string) (*jose.JSONWebKeySet, error) {
	const op = "GetJWKS"
	u, err := checkURL("jwks URI", jwksURI)
	if err != nil {
		return nil, invalidArgument(op, err.Error())
	}
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, invalidArgument(op, err.Error())
	}
	req.Header.Set("Accept", "application/json")
	var set jose.JSONWebKeySet
	if err := c.getJSON(ctx, op, req, &set); err != nil {
		return nil, err
	}
	return &set, nil
}

// maxBody caps a success body read by the plain calls.
const maxBody = 4 << 20

// getJSON sends req outside the SDK (no API token) and decodes a 2xx body into v.
func (c *Client) getJSON(ctx context.Context, op string, req *http.Request, v any, secrets ...string) error {
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		return failure(op, ex, nil, err, secrets...)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &Error{Op: op, StatusCode: resp.StatusCode, Err: err, transport: true}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return failure(op, ex, nil, nil, secrets...)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &Error{Op: op, StatusCode: resp.StatusCode, Summary: "undecodable response body", Err: err}
	}
	return nil
}
