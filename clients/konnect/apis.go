package konnect

import (
	"context"
	"time"
)

// API is an API of the Konnect catalog.
type API struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Version     string            `json:"version"` // "" when unversioned
	Slug        string            `json:"slug"`
	Description string            `json:"description"`
	Labels      map[string]string `json:"labels"`
	Portals     []PortalRef       `json:"portals"` // where it is published
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// PortalRef names a portal an API is published to.
type PortalRef struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// APIsService handles /v3/apis.
type APIsService service

const apisPath = "/v3/apis"

// Get returns one API; a missing one is an *Error with IsNotFound.
func (s *APIsService) Get(ctx context.Context, id string) (*API, error) {
	const op = "fetch-api"
	if err := requireID(op, "id", id); err != nil {
		return nil, err
	}
	var a API
	if err := s.client.do(ctx, call{op: op, method: "GET", path: apisPath + "/" + escape(id), out: &a}); err != nil {
		return nil, err
	}
	return &a, nil
}

// FindByName returns the API with exactly this name, or nil. Versions of one API
// share a name: several matches are an error wrapping ErrAmbiguous.
func (s *APIsService) FindByName(ctx context.Context, name string) (*API, error) {
	return findOne(ctx, s.client, "list-apis", apisPath, "API", name, func(a API) string { return a.Name })
}

// Resolve finds an API by id (when nameOrID is a UUID) or else by name; nothing
// found is an error wrapping ErrNotFound.
func (s *APIsService) Resolve(ctx context.Context, nameOrID string) (*API, error) {
	return resolve(ctx, "API", nameOrID, s.Get, s.FindByName)
}
