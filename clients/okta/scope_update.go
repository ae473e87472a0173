package okta

import (
	"context"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// UpdateScope replaces a custom scope (Okta's PUT: fields left empty take their
// defaults, so pass the whole scope as read, changed).
func (c *Client) UpdateScope(ctx context.Context, asID string, s Scope) (*Scope, error) {
	const op = "UpdateScope"
	if asID == "" || s.ID == "" || s.Name == "" {
		return nil, invalidArgument(op, "authorization server id, scope id and scope name are required")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	body := oktasdk.OAuth2Scope{Name: s.Name, DisplayName: s.DisplayName, Description: s.Description,
		Consent: s.Consent, MetadataPublish: s.MetadataPublish, Default: s.Default}
	updated, resp, err := c.sdk.AuthorizationServer.UpdateOAuth2Scope(ctx, segment(asID), segment(s.ID), body)
	if err == nil && updated == nil {
		err = errEmptyBody
	}
	if err != nil {
		return nil, failure(op, ex, resp, err, c.token)
	}
	out := scopeFrom(updated)
	return &out, nil
}
