package konnect

import (
	"context"
	"time"
)

// Visibility values of a publication.
const (
	VisibilityPublic  = "public"
	VisibilityPrivate = "private"
)

// Publication is an API's publication in a portal.
type Publication struct {
	// AuthStrategyIDs holds at most one id; empty means no application auth.
	AuthStrategyIDs          []string  `json:"auth_strategy_ids"`
	Visibility               string    `json:"visibility"`
	AutoApproveRegistrations bool      `json:"auto_approve_registrations"`
	Warnings                 []string  `json:"warnings,omitempty"`
	CreatedAt                time.Time `json:"created_at"`
	UpdatedAt                time.Time `json:"updated_at"`
}

// PublicationsService handles /v3/apis/{apiId}/publications/{portalId}.
type PublicationsService service

func publicationPath(apiID, portalID string) string {
	return apisPath + "/" + escape(apiID) + "/publications/" + escape(portalID)
}

func requirePair(op, apiID, portalID string) error {
	if err := requireID(op, "api id", apiID); err != nil {
		return err
	}
	return requireID(op, "portal id", portalID)
}

// Get returns the publication; an API not published there is an *Error with
// IsNotFound.
func (s *PublicationsService) Get(ctx context.Context, apiID, portalID string) (*Publication, error) {
	const op = "fetch-publication"
	if err := requirePair(op, apiID, portalID); err != nil {
		return nil, err
	}
	var p Publication
	if err := s.client.do(ctx, call{op: op, method: "GET", path: publicationPath(apiID, portalID), out: &p}); err != nil {
		return nil, err
	}
	return &p, nil
}

// Put publishes (or fully replaces the publication of) an API in a portal; an
// answer without a body is success, and the result is then what was sent. All
// three fields are always sent: omitting auth_strategy_ids would apply the portal's
// default strategy, so no strategy is sent as an explicit null. An empty
// Visibility is sent as private, the API's default.
func (s *PublicationsService) Put(ctx context.Context, apiID, portalID string, p Publication) (*Publication, error) {
	const op = "publish-api-to-portal"
	if err := requirePair(op, apiID, portalID); err != nil {
		return nil, err
	}
	body := struct {
		AuthStrategyIDs          []string `json:"auth_strategy_ids"` // nil encodes as null
		Visibility               string   `json:"visibility"`
		AutoApproveRegistrations bool     `json:"auto_approve_registrations"`
	}{nil, p.Visibility, p.AutoApproveRegistrations}
	if len(p.AuthStrategyIDs) > 0 {
		body.AuthStrategyIDs = p.AuthStrategyIDs
	}
	if body.Visibility == "" {
		body.Visibility = VisibilityPrivate
	}
	// Without a body in the answer (some Konnect versions), the publication is what
	// was sent: nobody needs more from this call.
	out := Publication{AuthStrategyIDs: body.AuthStrategyIDs, Visibility: body.Visibility, AutoApproveRegistrations: body.AutoApproveRegistrations}
	if err := s.client.do(ctx, call{op: op, method: "PUT", path: publicationPath(apiID, portalID), in: body, out: &out, emptyOK: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete unpublishes the API from the portal.
func (s *PublicationsService) Delete(ctx context.Context, apiID, portalID string) error {
	const op = "delete-publication"
	if err := requirePair(op, apiID, portalID); err != nil {
		return err
	}
	return s.client.do(ctx, call{op: op, method: "DELETE", path: publicationPath(apiID, portalID)})
}
