package konnect

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
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

// FindByNames lists, in one filtered list (filter[name][oeq]), the APIs named
// exactly as names, by name; a name no API has is absent, one that several
// versions share holds them all. Konnect separates oeq's values with commas: a
// name holding one cannot be asked for this way (use FindByName).
func (s *APIsService) FindByNames(ctx context.Context, names []string) (map[string][]API, error) {
	const op = "list-apis"
	for _, n := range names {
		if n == "" || strings.Contains(n, ",") {
			return nil, &Error{Op: op, Err: fmt.Errorf("API name %q cannot be one of several in a filter: %w", n, ErrInvalidArgument)}
		}
	}
	out := map[string][]API{}
	if len(names) == 0 {
		return out, nil
	}
	items, err := listAll[API](ctx, s.client, op, apisPath, url.Values{"filter[name][oeq]": {strings.Join(names, ",")}})
	if err != nil {
		return nil, err
	}
	for _, a := range items {
		if slices.Contains(names, a.Name) { // the server's match is not trusted to be exact
			out[a.Name] = append(out[a.Name], a)
		}
	}
	return out, nil
}

// Resolve finds an API by id (when nameOrID is a UUID) or else by name; nothing
// found is an error wrapping ErrNotFound.
func (s *APIsService) Resolve(ctx context.Context, nameOrID string) (*API, error) {
	return resolve(ctx, "API", nameOrID, s.Get, s.FindByName)
}
