package okta

import (
	"context"
	"errors"
	"slices"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// AuthServer is a custom authorization server.
type AuthServer struct {
	ID          string
	Name        string
	Description string
	Audiences   []string
	Issuer      string // read it, never build it: custom domains change it
	IssuerMode  string
	Status      string
}

func authServerFrom(s *oktasdk.AuthorizationServer) AuthServer {
	return AuthServer{ID: s.Id, Name: s.Name, Description: s.Description, Audiences: slices.Clone(s.Audiences),
		Issuer: s.Issuer, IssuerMode: s.IssuerMode, Status: s.Status}
}

// errEmptyBody is a 2xx answer without the object it should carry.
var errEmptyBody = errors.New("empty response body")

// GetAuthServer reads a server by id; a 404 means no such server. It also proves
// that the token may read authorization servers.
func (c *Client) GetAuthServer(ctx context.Context, id string) (*AuthServer, error) {
	const op = "GetAuthServer"
	if id == "" {
		return nil, invalidArgument(op, "authorization server id is empty")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	s, resp, err := c.sdk.AuthorizationServer.GetAuthorizationServer(ctx, segment(id))
	if err == nil && s == nil {
		err = errEmptyBody
	}
	if err != nil {
		return nil, failure(op, ex, resp, err, c.token)
	}
	out := authServerFrom(s)
	return &out, nil
}

// FindAuthServerByName searches by name (Okta's q also matches audiences) and
// returns the exact match, or nil, nil when there is none.
func (c *Client) FindAuthServerByName(ctx context.Context, name string) (*AuthServer, error) {
	const op = "FindAuthServerByName"
	if name == "" {
		return nil, invalidArgument(op, "name is empty")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	servers, resp, err := c.sdk.AuthorizationServer.ListAuthorizationServers(ctx, firstPage(name))
	servers, resp, err = allPages(ctx, servers, resp, err)
	if err != nil {
		return nil, failure(op, ex, resp, err, c.token)
	}
	for _, s := range servers {
		if s != nil && s.Name == name {
			out := authServerFrom(s)
			return &out, nil
		}
	}
	return nil, nil
}
