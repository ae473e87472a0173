package konnect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// Application owner types.
const (
	OwnerDeveloper = "developer"
	OwnerTeam      = "team"
)

// Credential types of an application's auth strategy.
const (
	CredentialClientCredentials   = "client_credentials"              // openid_connect with a DCR provider
	CredentialSelfManagedClientID = "self_managed_client_credentials" // openid_connect without one
	CredentialKeyAuth             = "key_auth"
)

// Application is a Dev Portal application. With a DCR auth strategy, ClientID is
// the client Konnect registered at the identity provider through the strategy's
// DCR provider; the management API never returns its secret.
type Application struct {
	ID                string
	Name              string
	Description       string // "" when none
	Labels            map[string]string
	ClientID          string // "" for key_auth applications
	RegistrationCount int
	DCRProviderID     string // "" when the application does not use DCR
	PortalID          string
	AuthStrategy      ApplicationAuthStrategy
	GrantedScopes     []string // nil when Konnect does not report them
	Owner             ApplicationOwner
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// ApplicationAuthStrategy is the strategy summary inside an application.
type ApplicationAuthStrategy struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	CredentialType string   `json:"credential_type"` // one of the Credential* constants
	AuthMethods    []string `json:"auth_methods"`    // client credentials types
	KeyNames       []string `json:"key_names"`       // key_auth
}

// ApplicationOwner is the developer or team owning an application.
type ApplicationOwner struct {
	Type string `json:"type"` // OwnerDeveloper or OwnerTeam
	ID   string `json:"id"`
}

// UnmarshalJSON decodes either application shape (ClientCredentialsApplication
// or KeyAuthApplication).
func (a *Application) UnmarshalJSON(b []byte) error {
	type ref struct {
		ID string `json:"id"`
	}
	var w struct {
		ID                string                  `json:"id"`
		Name              string                  `json:"name"`
		Description       *string                 `json:"description"`
		Labels            map[string]string       `json:"labels"`
		ClientID          string                  `json:"client_id"`
		RegistrationCount float64                 `json:"registration_count"` // a JSON number in the spec
		DCRProvider       *ref                    `json:"dcr_provider"`
		Portal            ref                     `json:"portal"`
		AuthStrategy      ApplicationAuthStrategy `json:"auth_strategy"`
		GrantedScopes     []string                `json:"granted_scopes"`
		Owner             ApplicationOwner        `json:"owner"`
		CreatedAt         time.Time               `json:"created_at"`
		UpdatedAt         time.Time               `json:"updated_at"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = Application{ID: w.ID, Name: w.Name, Labels: w.Labels, ClientID: w.ClientID,
		RegistrationCount: int(w.RegistrationCount), PortalID: w.Portal.ID, AuthStrategy: w.AuthStrategy,
		GrantedScopes: w.GrantedScopes, Owner: w.Owner, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if w.Description != nil {
		a.Description = *w.Description
	}
	if w.DCRProvider != nil {
		a.DCRProviderID = w.DCRProvider.ID
	}
	return nil
}

// CreateApplication is what Create needs. With a DCR strategy Konnect registers
// the identity provider's client itself.
type CreateApplication struct {
	Name           string
	Description    string // optional
	Owner          ApplicationOwner
	AuthStrategyID string // optional: the portal's default strategy
	Labels         map[string]string
}

// ApplicationsService handles /v3/portals/{portalId}/applications.
type ApplicationsService service

func applicationsPath(portalID string) string {
	return portalsPath + "/" + escape(portalID) + "/applications"
}

// Create creates an application in a portal for its owner. An owner or strategy
// that does not exist answers 400 with invalid_parameters naming it; with a DCR
// strategy, the identity provider refusing the registration answers 400 and the
// provider being unreachable 502 (Temporary).
func (s *ApplicationsService) Create(ctx context.Context, portalID string, in CreateApplication) (*Application, error) {
	const op = "create-application"
	if err := requireID(op, "portal id", portalID); err != nil {
		return nil, err
	}
	if in.Name == "" || in.Owner.Type == "" || in.Owner.ID == "" {
		return nil, &Error{Op: "create-application", Err: fmt.Errorf("name and owner (type and id) are required: %w", ErrInvalidArgument)}
	}
	body := struct {
		Name           string            `json:"name"`
		Description    string            `json:"description,omitempty"`
		Labels         map[string]string `json:"labels,omitempty"`
		AuthStrategyID string            `json:"auth_strategy_id,omitempty"`
		Owner          ApplicationOwner  `json:"owner"`
	}{in.Name, in.Description, in.Labels, in.AuthStrategyID, in.Owner}
	var a Application
	if err := s.client.do(ctx, call{op: op, method: "POST", path: applicationsPath(portalID), in: body, out: &a}); err != nil {
		return nil, err
	}
	return &a, nil
}

// Get returns one application of a portal; a missing one is an *Error with
// IsNotFound.
func (s *ApplicationsService) Get(ctx context.Context, portalID, appID string) (*Application, error) {
	const op = "get-application"
	if err := requireID(op, "portal id", portalID); err != nil {
		return nil, err
	}
	if err := requireID(op, "application id", appID); err != nil {
		return nil, err
	}
	var a Application
	if err := s.client.do(ctx, call{op: op, method: "GET", path: applicationsPath(portalID) + "/" + escape(appID), out: &a}); err != nil {
		return nil, err
	}
	return &a, nil
}

// List returns every application of a portal, following all pages; a non-empty
// nameFilter keeps those named exactly so.
func (s *ApplicationsService) List(ctx context.Context, portalID string, nameFilter string) ([]Application, error) {
	const op = "list-applications"
	if err := requireID(op, "portal id", portalID); err != nil {
		return nil, err
	}
	q := url.Values{}
	if nameFilter != "" {
		q.Set("filter[name][eq]", nameFilter)
	}
	apps, err := listAll[Application](ctx, s.client, op, applicationsPath(portalID), q)
	if err != nil {
		return nil, err
	}
	if nameFilter == "" {
		return apps, nil
	}
	out := apps[:0]
	for _, a := range apps {
		if a.Name == nameFilter { // the server's match is not trusted to be exact
			out = append(out, a)
		}
	}
	return out, nil
}

// Delete removes an application with its registrations and credentials; with DCR
// Konnect deletes the identity provider's client too.
func (s *ApplicationsService) Delete(ctx context.Context, portalID, appID string) error {
	const op = "delete-application"
	if err := requireID(op, "portal id", portalID); err != nil {
		return err
	}
	if err := requireID(op, "application id", appID); err != nil {
		return err
	}
	return s.client.do(ctx, call{op: op, method: "DELETE", path: applicationsPath(portalID) + "/" + escape(appID)})
}
