package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
)

// KonnectValidateInput checks DCR the way a developer meets it: through a Konnect
// application with the portal's auth strategy.
type KonnectValidateInput struct {
	PortalKey  string            `json:"portal_key"`
	PortalID   string            `json:"portal_id"`
	StrategyID string            `json:"strategy_id"`
	Owner      dcrflow.AppOwner  `json:"owner"`
	TokenName  string            `json:"token_name"`
	Labels     map[string]string `json:"labels,omitempty"`
}

// ValidateThroughKonnect creates a throw-away application on the portal with the
// portal's auth strategy, so that Konnect itself registers the client in Okta through
// the DCR provider; checks that Konnect reports a client id and that Okta has that
// client; and deletes the application — also when a check fails — and with it the
// client (deleted directly with the DCR token should Konnect leave it behind).
// Konnect never shows the client's secret, so the token check stays with ValidateDCR.
func (a *Activities) ValidateThroughKonnect(ctx context.Context, in KonnectValidateInput) (dcrflow.Validation, error) {
	var v dcrflow.Validation
	token, ok := a.DCRTokens[in.TokenName]
	if !ok {
		return v, configError("the worker has no DCR token named %q", in.TokenName)
	}
	// Named after the run: a retry deletes what an earlier attempt created, even one
	// whose answer never came.
	name := fmt.Sprintf("dcrflow-validate-%s-%s", in.PortalKey, runID(ctx))
	if err := a.deleteValidationApps(ctx, in.PortalID, name, token); err != nil {
		return v, err
	}
	app, err := a.Konnect.Applications.Create(ctx, in.PortalID, konnect.CreateApplication{
		Name: name, Description: "Throw-away application of dcrflow's validation; deleted at once",
		Owner:          konnect.ApplicationOwner{Type: in.Owner.Type, ID: in.Owner.ID},
		AuthStrategyID: in.StrategyID, Labels: ownerLabels(in.Labels, in.PortalKey, runID(ctx)),
	})
	if err != nil {
		op := "create validation application " + name
		if ownerRefused(err) { // the owner is the file's, not this run's: no waiting for it
			return v, apiError(op+"; check validation_owner in the onboarding file", err)
		}
		return v, freshRefError(ctx, op, err)
	}
	activity.RecordHeartbeat(ctx, app.ID)
	v.ClientID = app.ClientID
	problems, checkErr := a.checkKonnectClient(ctx, token, app)
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := a.deleteValidationApps(cleanup, in.PortalID, name, token); err != nil {
		return v, err
	}
	if checkErr != nil {
		return v, checkErr
	}
	v.Problems, v.Passed = problems, len(problems) == 0
	return v, nil
}

// checkKonnectClient compares what Konnect says it registered with what Okta has.
func (a *Activities) checkKonnectClient(ctx context.Context, token string, app *konnect.Application) ([]string, error) {
	if app.ClientID == "" {
		return []string{"Konnect created the application but reports no client id: it did not register a client in Okta through the DCR provider"}, nil
	}
	c, err := a.Okta.GetClient(ctx, token, app.ClientID)
	switch {
	case okta.IsNotFound(err):
		return []string{fmt.Sprintf("Konnect reports client %s, which Okta does not have", app.ClientID)}, nil
	case err != nil:
		return nil, apiError("read client "+app.ClientID+" in Okta", err)
	}
	if !slices.Contains(c.GrantTypes, grantClientCred) {
		return []string{fmt.Sprintf("Okta client %s was registered without the client_credentials grant (%v)", c.ClientID, c.GrantTypes)}, nil
	}
	return nil, nil
}

// deleteValidationApps deletes the applications named name and makes sure Okta keeps
// none of their clients.
func (a *Activities) deleteValidationApps(ctx context.Context, portalID, name, token string) error {
	apps, err := a.Konnect.Applications.List(ctx, portalID, name)
	if err != nil {
		return apiError("list validation applications", err)
	}
	for _, app := range apps {
		if app.Name != name {
			continue
		}
		if err := a.Konnect.Applications.Delete(ctx, portalID, app.ID); err != nil && !konnect.IsNotFound(err) {
			return apiError("delete validation application "+app.ID, err)
		}
		if app.ClientID == "" {
			continue
		}
		if err := a.Okta.DeleteClient(ctx, token, app.ClientID); err != nil && !okta.IsNotFound(err) {
			return apiError("delete validation client "+app.ClientID, err)
		}
	}
	return nil
}

// ownerRefused tells whether Konnect refused the application's owner.
func ownerRefused(err error) bool {
	var ke *konnect.Error
	if !errors.As(err, &ke) {
		return false
	}
	for _, p := range ke.InvalidParameters {
		if strings.HasPrefix(p.Field, "owner") {
			return true
		}
	}
	return false
}

// KindValidationOwner is the plan's item for validation_owner when it is unusable.
const KindValidationOwner = "validation_owner"

// checkOwner proves, read-only, that the owner of validate: konnect can own the
// throw-away application on the portal: an approved developer, or a team allowed to
// own applications. Step 1 calls it, so a wrong owner fails the run before anything
// is written, and the plan lists it.
func (a *Activities) checkOwner(ctx context.Context, portalID string, spec dcrflow.PortalSpec) error {
	if spec.ValidateVia != dcrflow.ValidateViaKonnect || spec.ValidationOwner == nil {
		return nil
	}
	o := spec.ValidationOwner
	fix := "check validation_owner in the onboarding file (the portal's developers and teams are under Access in Konnect)"
	var err error
	switch o.Type {
	case konnect.OwnerDeveloper:
		var d *konnect.Developer
		if d, err = a.Konnect.Portals.Developer(ctx, portalID, o.ID); err == nil && d.Status != "approved" {
			return conflict("validation_owner: developer %s (%s) of portal %s is %s, and only approved developers own applications; approve them or %s",
				o.ID, d.Email, spec.Portal, d.Status, fix)
		}
	case konnect.OwnerTeam:
		var t *konnect.Team
		if t, err = a.Konnect.Portals.Team(ctx, portalID, o.ID); err == nil && !t.CanOwnApplications {
			return conflict("validation_owner: team %s (%s) of portal %s may not own applications; allow it or %s", o.ID, t.Name, spec.Portal, fix)
		}
	default:
		return configError("validation_owner: type %q: use developer or team", o.Type)
	}
	if konnect.IsNotFound(err) {
		return notFound("validation_owner: portal %s has no %s %s; %s", spec.Portal, o.Type, o.ID, fix)
	}
	if err != nil {
		return apiError("read validation_owner "+o.Type+" "+o.ID, err)
	}
	return nil
}
