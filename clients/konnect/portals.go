package konnect

import (
	"context"
	"time"
)

// Portal is a Dev Portal.
type Portal struct {
	ID                               string            `json:"id"`
	Name                             string            `json:"name"`
	DisplayName                      string            `json:"display_name"`
	Description                      string            `json:"description"`
	AuthenticationEnabled            bool              `json:"authentication_enabled"`
	RBACEnabled                      bool              `json:"rbac_enabled"`
	DefaultAPIVisibility             string            `json:"default_api_visibility"`
	DefaultPageVisibility            string            `json:"default_page_visibility"`
	DefaultApplicationAuthStrategyID string            `json:"default_application_auth_strategy_id"` // "" when null
	AutoApproveDevelopers            bool              `json:"auto_approve_developers"`
	AutoApproveApplications          bool              `json:"auto_approve_applications"`
	DefaultDomain                    string            `json:"default_domain"`
	CanonicalDomain                  string            `json:"canonical_domain"`
	Labels                           map[string]string `json:"labels"`
	CreatedAt                        time.Time         `json:"created_at"`
	UpdatedAt                        time.Time         `json:"updated_at"`
}

// Developer is a developer of a portal.
type Developer struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	FullName string `json:"full_name"`
	Status   string `json:"status"` // approved, pending, revoked or rejected
}

// Team is a developer team of a portal.
type Team struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	CanOwnApplications bool   `json:"can_own_applications"`
}

// PortalsService handles /v3/portals.
type PortalsService service

const portalsPath = "/v3/portals"

// Get returns one portal; a missing one is an *Error with IsNotFound.
func (s *PortalsService) Get(ctx context.Context, id string) (*Portal, error) {
	const op = "get-portal"
	if err := requireID(op, "id", id); err != nil {
		return nil, err
	}
	var p Portal
	if err := s.client.do(ctx, call{op: op, method: "GET", path: portalsPath + "/" + escape(id), out: &p}); err != nil {
		return nil, err
	}
	return &p, nil
}

// FindByName returns the portal with exactly this name, or nil.
func (s *PortalsService) FindByName(ctx context.Context, name string) (*Portal, error) {
	return findOne(ctx, s.client, "list-portals", portalsPath, "portal", name, func(p Portal) string { return p.Name })
}

// Resolve finds a portal by id (when nameOrID is a UUID) or else by name; nothing
// found is an error wrapping ErrNotFound.
func (s *PortalsService) Resolve(ctx context.Context, nameOrID string) (*Portal, error) {
	return resolve(ctx, "portal", nameOrID, s.Get, s.FindByName)
}

// Developer reads one developer of the portal; one of another portal is not found.
func (s *PortalsService) Developer(ctx context.Context, portalID, id string) (*Developer, error) {
	const op = "get-developer"
	if err := requireID(op, "portal id", portalID); err != nil {
		return nil, err
	}
	if err := requireID(op, "developer id", id); err != nil {
		return nil, err
	}
	var d Developer
	if err := s.client.do(ctx, call{op: op, method: "GET", path: portalsPath + "/" + escape(portalID) + "/developers/" + escape(id), out: &d}); err != nil {
		return nil, err
	}
	return &d, nil
}

// Team reads one developer team of the portal; one of another portal is not found.
func (s *PortalsService) Team(ctx context.Context, portalID, id string) (*Team, error) {
	const op = "get-portal-team"
	if err := requireID(op, "portal id", portalID); err != nil {
		return nil, err
	}
	if err := requireID(op, "team id", id); err != nil {
		return nil, err
	}
	var t Team
	if err := s.client.do(ctx, call{op: op, method: "GET", path: portalsPath + "/" + escape(portalID) + "/teams/" + escape(id), out: &t}); err != nil {
		return nil, err
	}
	return &t, nil
}
