package okta

import (
	"context"
	"slices"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// Scope enums.
const (
	ConsentImplicit = "IMPLICIT" // granted without a prompt: what client_credentials needs
	ConsentRequired = "REQUIRED"
	ConsentFlexible = "FLEXIBLE"

	PublishAllClients = "ALL_CLIENTS" // listed in the server's metadata
	PublishNoClients  = "NO_CLIENTS"
)

// Scope is a custom (or system) scope of an authorization server.
type Scope struct {
	ID              string
	Name            string
	DisplayName     string
	Description     string
	Consent         string
	MetadataPublish string
	// Default is sent only when set: the SDK drops a false bool otherwise.
	Default *bool
	System  bool
}

func scopeFrom(s *oktasdk.OAuth2Scope) Scope {
	out := Scope{ID: s.Id, Name: s.Name, DisplayName: s.DisplayName, Description: s.Description,
		Consent: s.Consent, MetadataPublish: s.MetadataPublish, Default: s.Default}
	if s.System != nil {
		out.System = *s.System
	}
	return out
}

// ListScopes returns every scope of the server, system scopes included.
func (c *Client) ListScopes(ctx context.Context, asID string) ([]Scope, error) {
	return c.listScopes(ctx, "ListScopes", asID, "")
}

// FindScope returns the scope named exactly name, or nil, nil.
func (c *Client) FindScope(ctx context.Context, asID, name string) (*Scope, error) {
	const op = "FindScope"
	if name == "" {
		return nil, invalidArgument(op, "scope name is empty")
	}
	scopes, err := c.listScopes(ctx, op, asID, name)
	if err != nil {
		return nil, err
	}
	for _, s := range scopes {
		if s.Name == name {
			return &s, nil
		}
	}
	return nil, nil
}

// FindScopes returns the scopes named exactly as names, by name (missing ones are
// absent), in one list: Okta's q with the names' common prefix (every name matches
// it, whether q matches a prefix or anywhere in the name), or the whole list when
// they share none.
func (c *Client) FindScopes(ctx context.Context, asID string, names []string) (map[string]Scope, error) {
	const op = "FindScopes"
	for _, n := range names {
		if n == "" {
			return nil, invalidArgument(op, "scope name is empty")
		}
	}
	out := map[string]Scope{}
	if len(names) == 0 {
		return out, nil
	}
	scopes, err := c.listScopes(ctx, op, asID, commonPrefix(names))
	if err != nil {
		return nil, err
	}
	for _, s := range scopes {
		if slices.Contains(names, s.Name) {
			out[s.Name] = s
		}
	}
	return out, nil
}

// commonPrefix is the longest prefix every name starts with.
func commonPrefix(names []string) string {
	p := names[0]
	for _, n := range names[1:] {
		i := 0
		for i < len(p) && i < len(n) && p[i] == n[i] {
			i++
		}
		p = p[:i]
	}
	return p
}

// listScopes lists with Okta's q (a search, so callers match exactly).
func (c *Client) listScopes(ctx context.Context, op, asID, q string) ([]Scope, error) {
	if asID == "" {
		return nil, invalidArgument(op, "authorization server id is empty")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	scopes, resp, err := c.sdk.AuthorizationServer.ListOAuth2Scopes(ctx, segment(asID), firstPage(q))
	scopes, resp, err = allPages(ctx, scopes, resp, err)
	if err != nil {
		return nil, failure(op, ex, resp, err, c.token)
	}
	out := make([]Scope, 0, len(scopes))
	for _, s := range scopes {
		if s != nil {
			out = append(out, scopeFrom(s))
		}
	}
	return out, nil
}

// CreateScope creates s; a taken name fails with IsDuplicate.
func (c *Client) CreateScope(ctx context.Context, asID string, s Scope) (*Scope, error) {
	const op = "CreateScope"
	if asID == "" || s.Name == "" {
		return nil, invalidArgument(op, "authorization server id and scope name are required")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	body := oktasdk.OAuth2Scope{Name: s.Name, DisplayName: s.DisplayName, Description: s.Description,
		Consent: s.Consent, MetadataPublish: s.MetadataPublish, Default: s.Default}
	created, resp, err := c.sdk.AuthorizationServer.CreateOAuth2Scope(ctx, segment(asID), body)
	if err == nil && created == nil {
		err = errEmptyBody
	}
	if err != nil {
		return nil, failure(op, ex, resp, err, c.token)
	}
	out := scopeFrom(created)
	return &out, nil
}

// DeleteScope deletes a scope; a 404 means it is already gone.
func (c *Client) DeleteScope(ctx context.Context, asID, scopeID string) error {
	const op = "DeleteScope"
	if asID == "" || scopeID == "" {
		return invalidArgument(op, "authorization server id and scope id are required")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	resp, err := c.sdk.AuthorizationServer.DeleteOAuth2Scope(ctx, segment(asID), segment(scopeID))
	if err != nil {
		return failure(op, ex, resp, err, c.token)
	}
	return nil
}
