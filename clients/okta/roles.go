package okta

import "context"

// TokenRoles lists the admin roles (their types, e.g. SUPER_ADMIN or
// API_ACCESS_MANAGEMENT_ADMIN) of the admin whose SSWS token the client uses: the
// token carries every right of those roles. It reads GET /api/v1/users/me and
// GET /api/v1/users/{id}/roles, which an admin may be refused (then the error says so).
func (c *Client) TokenRoles(ctx context.Context) ([]string, error) {
	const op = "TokenRoles"
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	u, resp, err := c.sdk.User.GetUser(ctx, "me")
	if err == nil && (u == nil || u.Id == "") {
		err = errEmptyBody
	}
	if err != nil {
		return nil, failure(op, ex, resp, err, c.token)
	}
	roles, resp, err := c.sdk.User.ListAssignedRolesForUser(ctx, u.Id, nil)
	if err != nil {
		return nil, failure(op, ex, resp, err, c.token)
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		if r != nil && r.Type != "" {
			out = append(out, r.Type)
		}
	}
	return out, nil
}
