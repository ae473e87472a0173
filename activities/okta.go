package activities

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/usage"
)

// ClaimValue is the Okta expression that puts the client id into the claim Konnect
// reads as the credential.
const ClaimValue = "app.clientId"

// ResolveTargets reads what every later step needs — the authorization server and its
// issuer (proving the management token works), the portal and the APIs — before
// anything is written, so a typo fails the run with nothing to undo.
func (a *Activities) ResolveTargets(ctx context.Context, spec dcrflow.PortalSpec) (Targets, error) {
	var t Targets
	if _, ok := a.DCRTokens[spec.DCRTokenName]; !ok {
		return t, configError("the worker has no DCR token named %q (it has: %s); add it to dcr_tokens or DCRFLOW_DCR_TOKEN_%s",
			spec.DCRTokenName, strings.Join(sortedKeys(a.DCRTokens), ", "), envName(spec.DCRTokenName))
	}
	as, err := a.authServer(ctx, spec.AuthServer)
	if err != nil {
		return t, err
	}
	if as.Status != "" && as.Status != okta.StatusActive {
		return t, conflict("authorization server %q is %s; activate it in Okta", spec.AuthServer, as.Status)
	}
	t.AuthServerID, t.Issuer = as.ID, as.Issuer
	portal, err := a.Konnect.Portals.Resolve(ctx, spec.Portal)
	if err != nil {
		return t, lookupError("portal", spec.Portal, err)
	}
	t.PortalID = portal.ID
	if err := a.checkOwner(ctx, portal.ID, spec); err != nil {
		return t, err
	}
	byName, err := a.apisByName(ctx, spec.APIs)
	if err != nil {
		return t, err
	}
	for i, api := range spec.APIs {
		// One heartbeat per API: the attempt's time grows with the APIs, a dead
		// worker is still noticed within the heartbeat timeout.
		activity.RecordHeartbeat(ctx, i)
		found, listed := byName[api.API]
		switch {
		case !listed:
			one, err := a.Konnect.APIs.Resolve(ctx, api.API)
			if err != nil {
				return t, lookupError("API", api.API, err)
			}
			found = []konnect.API{*one}
		case len(found) == 0:
			return t, lookupError("API", api.API, konnect.ErrNotFound)
		case len(found) > 1:
			return t, lookupError("API", api.API, konnect.ErrAmbiguous)
		}
		t.APIs = append(t.APIs, ResolvedAPI{ID: found[0].ID, Spec: api})
	}
	return t, nil
}

// apisByName finds the APIs named by name (not by id) in one filtered list when
// there are several: a name that is absent from the map is resolved on its own, one
// mapped to nothing exists nowhere.
func (a *Activities) apisByName(ctx context.Context, apis []dcrflow.APISpec) (map[string][]konnect.API, error) {
	var names []string
	for _, api := range apis {
		if !looksLikeUUID(api.API) && !strings.Contains(api.API, ",") && !slices.Contains(names, api.API) {
			names = append(names, api.API)
		}
	}
	if len(names) < 2 {
		return nil, nil
	}
	found, err := a.Konnect.APIs.FindByNames(ctx, names)
	if err != nil {
		return nil, apiError("find APIs "+strings.Join(names, ", "), err)
	}
	for _, n := range names {
		if _, ok := found[n]; !ok {
			found[n] = nil
		}
	}
	return found, nil
}

// looksLikeUUID: Konnect ids are UUIDs; such a name is read by id first.
func looksLikeUUID(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-'
}

// authServer finds a server by id, then by exact name.
func (a *Activities) authServer(ctx context.Context, idOrName string) (*okta.AuthServer, error) {
	// One call in the usual case: an id (or "default", both id and name) is read
	// directly, anything else looked up by name; the other way only when that fails.
	byID := func() (*okta.AuthServer, error) {
		as, err := a.Okta.GetAuthServer(ctx, idOrName)
		if okta.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, apiError("read authorization server "+idOrName, err)
		}
		return as, nil
	}
	byName := func() (*okta.AuthServer, error) {
		as, err := a.Okta.FindAuthServerByName(ctx, idOrName)
		if err != nil {
			return nil, apiError("find authorization server "+idOrName, err)
		}
		return as, nil
	}
	lookups := []func() (*okta.AuthServer, error){byName, byID}
	if idOrName == "default" || serverIDPattern.MatchString(idOrName) {
		lookups = []func() (*okta.AuthServer, error){byID, byName}
	}
	for _, lookup := range lookups {
		if as, err := lookup(); err != nil || as != nil {
			return as, err
		}
	}
	return nil, notFound("no Okta authorization server has the id or name %q; check auth_server in the onboarding file", idOrName)
}

// serverIDPattern matches Okta's ids of custom authorization servers (aus…).
var serverIDPattern = regexp.MustCompile(`^aus[0-9A-Za-z]{10,30}$`)

func lookupError(kind, nameOrID string, err error) error {
	switch {
	case errors.Is(err, konnect.ErrNotFound) || konnect.IsNotFound(err):
		return notFound("no Konnect %s has the id or name %q; check the onboarding file", kind, nameOrID)
	case errors.Is(err, konnect.ErrAmbiguous):
		return conflict("several Konnect %ss are named %q; name it by id in the onboarding file", kind, nameOrID)
	}
	return apiError("find "+kind+" "+nameOrID, err)
}

// scopeMarker tags the description of a scope this run creates, so that a retry after
// a crash recognises it as its own rather than adopting it.
func scopeMarker(portalKey, runID string) string {
	return ownerMarkerPrefix + "portal " + portalKey + ", run " + runID + "]"
}

// ownerMarkerPrefix starts every scopeMarker (scopes and access policies carry it),
// whatever the portal and run.
const ownerMarkerPrefix = "[managed by dcrflow: "

// ownedBy tells whether a description carries dcrflow's marker for the portal (any run).
func ownedBy(description, portalKey string) bool {
	return strings.Contains(description, ownerMarkerPrefix+"portal "+portalKey+", run ")
}

// ownedByAnother tells whether a description carries dcrflow's marker for another portal.
func ownedByAnother(description, portalKey string) bool {
	return strings.Contains(description, ownerMarkerPrefix) && !ownedBy(description, portalKey)
}

// EnsureScope adopts the custom scope when it exists and client_credentials can be
// granted it, creates it (IMPLICIT consent, published in metadata) when missing. Runs
// that started before EnsureScopes still call it.
func (a *Activities) EnsureScope(ctx context.Context, in ScopeInput) (dcrflow.Resource, error) {
	rs, err := a.EnsureScopes(ctx, ScopesInput{AuthServerID: in.AuthServerID, Scopes: []dcrflow.ScopeSpec{in.Scope}, PortalKey: in.PortalKey})
	if err != nil {
		return dcrflow.Resource{Kind: dcrflow.KindScope, Name: in.Scope.Name}, err
	}
	return rs[0], nil
}

// EnsureScopes ensures a portal's scopes as EnsureScope does each, with one list of
// the server's scopes for all of them (Okta's q with their common prefix): it joins
// every scope's record (at once), finds them in one call, refuses before writing
// anything when one that exists cannot be adopted, then creates the missing ones.
// The resources come in the order of the input.
func (a *Activities) EnsureScopes(ctx context.Context, in ScopesInput) ([]dcrflow.Resource, error) {
	marker := scopeMarker(in.PortalKey, runID(ctx))
	out := make([]dcrflow.Resource, len(in.Scopes))
	names := make([]string, len(in.Scopes))
	keys := make([]usage.Key, len(in.Scopes))
	for i, sc := range in.Scopes {
		out[i] = dcrflow.Resource{Kind: dcrflow.KindScope, Name: sc.Name}
		names[i], keys[i] = sc.Name, usage.KeyOf(out[i])
	}
	if err := a.joinAll(ctx, usage.OktaDomain(in.AuthServerID), keys, in.PortalKey); err != nil {
		return nil, err
	}
	found, err := a.Okta.FindScopes(ctx, in.AuthServerID, names)
	if err != nil {
		return nil, apiError("find scopes "+strings.Join(names, ", "), err)
	}
	adopt := func(i int, s *okta.Scope) error {
		v := judgeScope(s, marker)
		if v.Action == dcrflow.PlanConflict {
			return conflict("%s", scopeConflict(s.Name, v))
		}
		out[i].ID, out[i].Action = s.ID, v.RunAction()
		return nil
	}
	for i, n := range names {
		if s, ok := found[n]; ok {
			if err := adopt(i, &s); err != nil {
				return nil, err
			}
		}
	}
	no := false
	for i, sc := range in.Scopes {
		if out[i].ID != "" {
			continue
		}
		s, err := a.Okta.CreateScope(ctx, in.AuthServerID, okta.Scope{
			Name: sc.Name, Description: strings.TrimSpace(sc.Description + " " + marker),
			Consent: okta.ConsentImplicit, MetadataPublish: okta.PublishAllClients, Default: &no,
		})
		if okta.IsDuplicate(err) {
			// Created meanwhile by someone else: look again and judge what is there.
			if s, err = a.Okta.FindScope(ctx, in.AuthServerID, sc.Name); err == nil && s != nil {
				if err := adopt(i, s); err != nil {
					return nil, err
				}
				continue
			}
		}
		if err != nil {
			return nil, apiError("create scope "+sc.Name, err)
		}
		out[i].ID, out[i].Action = s.ID, dcrflow.ActionCreated
	}
	return out, nil
}

// DeleteScope undoes EnsureScope; already gone counts as done.
func (a *Activities) DeleteScope(ctx context.Context, in OktaResourceInput) error {
	if err := a.Okta.DeleteScope(ctx, in.AuthServerID, in.ID); err != nil && !okta.IsNotFound(err) {
		return apiError("delete scope "+in.Name, err)
	}
	return nil
}

// EnsureClaim adopts an access-token claim of that name whose value is the client id
// in every token, creates it when missing, and fails on any other claim of that name.
func (a *Activities) EnsureClaim(ctx context.Context, in ClaimInput) (dcrflow.Resource, error) {
	res := dcrflow.Resource{Kind: dcrflow.KindClaim, Name: in.Name}
	adopt := func(c *okta.Claim, own bool) (dcrflow.Resource, error) {
		v := judgeClaim(c, own)
		if v.Action == dcrflow.PlanConflict {
			return res, conflict("%s", claimConflict(c.Name, v))
		}
		res.ID, res.Action = c.ID, v.RunAction()
		return res, nil
	}
	// Claims carry no label, so an attempt notes in its heartbeat that it is about to
	// create one: a retry after a crash or timeout then knows the claim is this run's.
	var earlier claimProgress
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &earlier)
	}
	domain := usage.OktaDomain(in.AuthServerID)
	if err := a.join(ctx, domain, usage.KeyOf(res), in.PortalKey); err != nil {
		return res, err
	}
	c, err := a.Okta.FindClaim(ctx, in.AuthServerID, in.Name, okta.ClaimTypeResource)
	if err != nil {
		return res, apiError("find claim "+in.Name, err)
	}
	if c != nil {
		return adopt(c, earlier.Creating == in.Name)
	}
	// The claim carries no marker: the record notes the create before it is sent, so
	// an undo can delete it even when the create's answer is lost.
	if err := a.note(ctx, usage.Note{Domain: domain, Key: usage.KeyOf(res), Portal: in.PortalKey, Creating: true}); err != nil {
		return res, err
	}
	activity.RecordHeartbeat(ctx, claimProgress{Creating: in.Name})
	yes := true
	c, err = a.Okta.CreateClaim(ctx, in.AuthServerID, okta.Claim{
		Name: in.Name, Status: okta.StatusActive, ClaimType: okta.ClaimTypeResource,
		ValueType: okta.ValueTypeExpression, Value: ClaimValue, AlwaysIncludeInToken: &yes,
	})
	if okta.IsDuplicate(err) {
		if c, err = a.Okta.FindClaim(ctx, in.AuthServerID, in.Name, okta.ClaimTypeResource); err == nil && c != nil {
			return adopt(c, false)
		}
	}
	if err != nil {
		return res, apiError("create claim "+in.Name, err)
	}
	res.ID, res.Action = c.ID, dcrflow.ActionCreated
	return res, nil
}

// claimProgress is EnsureClaim's heartbeat: the claim an attempt set out to create.
type claimProgress struct {
	Creating string `json:"creating"`
}

// DeleteClaim undoes EnsureClaim; already gone counts as done. The claim is shared by
// every portal on the authorization server, so it stays while a Konnect OIDC strategy
// for the same issuer still names it: another portal may have adopted it meanwhile.
func (a *Activities) DeleteClaim(ctx context.Context, in OktaResourceInput) (UndoResult, error) {
	users, err := a.claimUsers(ctx, in.Issuer, in.Name)
	if err != nil {
		return UndoResult{}, err
	}
	if len(users) > 0 {
		return UndoResult{Kept: true, Reason: "still used by auth strategies " + strings.Join(users, ", ")}, nil
	}
	if err := a.Okta.DeleteClaim(ctx, in.AuthServerID, in.ID); err != nil && !okta.IsNotFound(err) {
		return UndoResult{}, apiError("delete claim "+in.Name, err)
	}
	return UndoResult{}, nil
}

// claimUsers names the Konnect OIDC strategies for the issuer that use the claim as
// their credential claim (undo and offboarding keep a claim while any does).
func (a *Activities) claimUsers(ctx context.Context, issuer, claim string) ([]string, error) {
	return a.strategiesUsing(ctx, "claim "+claim, func(s konnect.AuthStrategy) bool {
		return s.OIDC != nil && sameURL(s.OIDC.Issuer, issuer) && slices.Contains(s.OIDC.CredentialClaim, claim)
	})
}

// strategiesUsing names the org's OIDC strategies that match, read page by page with
// a heartbeat between pages (Konnect has no filter by issuer, scope or claim). Only
// the last user of a resource asks, before it removes the resource.
func (a *Activities) strategiesUsing(ctx context.Context, what string, match func(konnect.AuthStrategy) bool) ([]string, error) {
	var users []string
	err := a.Konnect.AuthStrategies.EachOIDC(ctx, func(page []konnect.AuthStrategy) error {
		for _, s := range page {
			if match(s) {
				users = append(users, s.Name)
			}
		}
		activity.RecordHeartbeat(ctx, nil)
		return nil
	})
	if err != nil {
		return nil, apiError("list auth strategies using "+what, err)
	}
	return users, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
