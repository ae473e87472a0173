package okta

import (
	"context"
	"slices"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// Claim enums.
const (
	ClaimTypeResource   = "RESOURCE" // in access tokens
	ClaimTypeIdentity   = "IDENTITY" // in ID tokens
	ValueTypeExpression = "EXPRESSION"
	ValueTypeGroups     = "GROUPS"
	StatusActive        = "ACTIVE"
	StatusInactive      = "INACTIVE"
)

// Claim is a custom (or system) claim of an authorization server.
type Claim struct {
	ID              string
	Name            string
	Status          string
	ClaimType       string
	ValueType       string
	Value           string // an Okta EL expression for EXPRESSION, e.g. app.clientId
	GroupFilterType string
	// AlwaysIncludeInToken is sent only when set (the SDK drops a false bool).
	AlwaysIncludeInToken *bool
	// Scopes limits the claim to tokens with one of these scopes; empty means any.
	Scopes []string
	System bool
}

func claimFrom(cl *oktasdk.OAuth2Claim) Claim {
	out := Claim{ID: cl.Id, Name: cl.Name, Status: cl.Status, ClaimType: cl.ClaimType, ValueType: cl.ValueType,
		Value: cl.Value, GroupFilterType: cl.GroupFilterType, AlwaysIncludeInToken: cl.AlwaysIncludeInToken}
	if cl.Conditions != nil {
		out.Scopes = slices.Clone(cl.Conditions.Scopes)
	}
	if cl.System != nil {
		out.System = *cl.System
	}
	return out
}

// ListClaims returns every claim of the server, system claims included.
func (c *Client) ListClaims(ctx context.Context, asID string) ([]Claim, error) {
	return c.listClaims(ctx, "ListClaims", asID)
}

func (c *Client) listClaims(ctx context.Context, op, asID string) ([]Claim, error) {
	if asID == "" {
		return nil, invalidArgument(op, "authorization server id is empty")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	claims, resp, err := c.sdk.AuthorizationServer.ListOAuth2Claims(ctx, segment(asID))
	claims, resp, err = allPages(ctx, claims, resp, err)
	if err != nil {
		return nil, failure(op, ex, resp, err, c.token)
	}
	out := make([]Claim, 0, len(claims))
	for _, cl := range claims {
		if cl != nil {
			out = append(out, claimFrom(cl))
		}
	}
	return out, nil
}

// FindClaim returns the claim with this name and type (any type when claimType
// is empty), or nil, nil. A name may exist once per claim type.
func (c *Client) FindClaim(ctx context.Context, asID, name, claimType string) (*Claim, error) {
	const op = "FindClaim"
	if name == "" {
		return nil, invalidArgument(op, "claim name is empty")
	}
	claims, err := c.listClaims(ctx, op, asID)
	if err != nil {
		return nil, err
	}
	for _, cl := range claims {
		if cl.Name == name && (claimType == "" || cl.ClaimType == claimType) {
			return &cl, nil
		}
	}
	return nil, nil
}

// CreateClaim creates cl; a taken name and type fails with IsDuplicate.
func (c *Client) CreateClaim(ctx context.Context, asID string, cl Claim) (*Claim, error) {
	const op = "CreateClaim"
	if asID == "" || cl.Name == "" {
		return nil, invalidArgument(op, "authorization server id and claim name are required")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	// An empty scope list is dropped by the SDK's omitempty: "conditions":{} is
	// Okta's "any scope" too.
	body := oktasdk.OAuth2Claim{Name: cl.Name, Status: cl.Status, ClaimType: cl.ClaimType, ValueType: cl.ValueType,
		Value: cl.Value, GroupFilterType: cl.GroupFilterType, AlwaysIncludeInToken: cl.AlwaysIncludeInToken,
		Conditions: &oktasdk.OAuth2ClaimConditions{Scopes: slices.Clone(cl.Scopes)}}
	created, resp, err := c.sdk.AuthorizationServer.CreateOAuth2Claim(ctx, segment(asID), body)
	if err == nil && created == nil {
		err = errEmptyBody
	}
	if err != nil {
		return nil, failure(op, ex, resp, err, c.token)
	}
	out := claimFrom(created)
	return &out, nil
}

// DeleteClaim deletes a claim; a 404 means it is already gone.
func (c *Client) DeleteClaim(ctx context.Context, asID, claimID string) error {
	const op = "DeleteClaim"
	if asID == "" || claimID == "" {
		return invalidArgument(op, "authorization server id and claim id are required")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	resp, err := c.sdk.AuthorizationServer.DeleteOAuth2Claim(ctx, segment(asID), segment(claimID))
	if err != nil {
		return failure(op, ex, resp, err, c.token)
	}
	return nil
}
