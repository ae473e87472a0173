package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/usage"
)

// Offboarding removes what dcrflow made for a portal, and only that: Konnect
// resources labelled managed-by=dcrflow, scopes whose description carries dcrflow's
// marker, the claim by name and value (unless an onboarding record says it existed
// before), each only while nothing else uses it. Every activity below reads first,
// then acts, and is idempotent: already gone counts as done, and a retry recognises
// what an earlier attempt did (its heartbeat names the action it set out to take).

// OffboardLookupInput names what a portal's offboarding may touch.
type OffboardLookupInput struct {
	AuthServer string   `json:"auth_server"` // id or name
	Portal     string   `json:"portal"`      // name or id
	APIs       []string `json:"apis"`        // names or ids
	Strategies []string `json:"strategies"`  // auth strategy names
}

// OffboardTargets is what FindOffboardTargets found. An empty id: not there (so
// nothing of it is left to remove).
type OffboardTargets struct {
	AuthServerID string          `json:"auth_server_id"`
	Issuer       string          `json:"issuer"`
	PortalID     string          `json:"portal_id"`
	APIs         []NamedID       `json:"apis"`       // one per name asked, in order
	Strategies   []OwnedResource `json:"strategies"` // those found
}

// NamedID is a name as the spec gives it and the id it resolved to ("" if none).
type NamedID struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// OwnedResource is a resource found by name and whether dcrflow made it.
type OwnedResource struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Owned bool   `json:"owned"`
}

// Known is what the portal's onboarding records say about resources of one kind:
// the ids a run created, and those a run found and adopted.
type Known struct {
	Created []string `json:"created,omitempty"`
	Adopted []string `json:"adopted,omitempty"`
}

// OffboardItemInput names one resource to offboard.
type OffboardItemInput struct {
	PortalKey    string `json:"portal_key"`
	Name         string `json:"name"`
	AuthServerID string `json:"auth_server_id,omitempty"` // Okta resources
	Issuer       string `json:"issuer,omitempty"`         // whose Konnect strategies may use it
	Known        Known  `json:"known"`
}

// OffboardPublicationInput is one API's publication on the portal.
type OffboardPublicationInput struct {
	PortalKey string `json:"portal_key"`
	APIID     string `json:"api_id"`
	APIName   string `json:"api_name"`
	PortalID  string `json:"portal_id"`
	// Strategies are the portal's auth strategies found: a publication that uses
	// none of them is not dcrflow's doing.
	Strategies []OwnedResource `json:"strategies"`
	// Before is the publication before onboarding changed it (nil: there was none),
	// when an onboarding record says so (BeforeKnown).
	Before      *dcrflow.PublicationSettings `json:"before,omitempty"`
	BeforeKnown bool                         `json:"before_known"`
}

// offboardProgress is an offboarding activity's heartbeat: the action an attempt set
// out to take, so that a retry that finds it done reports it.
type offboardProgress struct {
	Doing dcrflow.Action `json:"doing"`
}

func earlierDoing(ctx context.Context) dcrflow.Action {
	var p offboardProgress
	if activity.HasHeartbeatDetails(ctx) && activity.GetHeartbeatDetails(ctx, &p) == nil {
		return p.Doing
	}
	return ""
}

// absent reports a resource that is not there: gone before, or by an earlier attempt.
func absent(ctx context.Context, res dcrflow.Resource, goal dcrflow.Action) dcrflow.Resource {
	res.Action = dcrflow.ActionAbsent
	if earlierDoing(ctx) == goal {
		res.Action = goal
	}
	return res
}

func kept(res dcrflow.Resource, format string, args ...any) dcrflow.Resource {
	res.Action, res.Reason = dcrflow.ActionKept, fmt.Sprintf(format, args...)
	return res
}

// FindOffboardTargets resolves what the offboarding may touch, read-only. A server,
// portal or API that does not exist is no error: nothing of it is left to remove.
func (a *Activities) FindOffboardTargets(ctx context.Context, in OffboardLookupInput) (OffboardTargets, error) {
	var t OffboardTargets
	as, err := a.authServer(ctx, in.AuthServer)
	switch {
	case err == nil:
		t.AuthServerID, t.Issuer = as.ID, as.Issuer
	case !isNotFound(err):
		return t, err
	}
	if portal, err := a.Konnect.Portals.Resolve(ctx, in.Portal); err == nil {
		t.PortalID = portal.ID
	} else if err := lookupError("portal", in.Portal, err); !isNotFound(err) {
		return t, err
	}
	for _, name := range in.APIs {
		api, err := a.Konnect.APIs.Resolve(ctx, name)
		if err != nil {
			if err := lookupError("API", name, err); !isNotFound(err) {
				return t, err
			}
			t.APIs = append(t.APIs, NamedID{Name: name})
			continue
		}
		t.APIs = append(t.APIs, NamedID{Name: name, ID: api.ID})
	}
	for _, name := range in.Strategies {
		s, err := a.Konnect.AuthStrategies.FindByName(ctx, name)
		if err != nil {
			return t, konnectFindError("auth strategy", name, err)
		}
		if s != nil {
			t.Strategies = append(t.Strategies, OwnedResource{ID: s.ID, Name: s.Name, Owned: managed(s.Labels)})
		}
	}
	return t, nil
}

// OffboardPublication unpublishes the API, or restores its publication as it was
// before onboarding, when the publication is dcrflow's doing: it uses the portal's
// auth strategy and an onboarding record says what it was before, or (no record)
// that strategy is one dcrflow made. Any other publication is kept.
func (a *Activities) OffboardPublication(ctx context.Context, in OffboardPublicationInput) (dcrflow.Resource, error) {
	res := dcrflow.Resource{Kind: dcrflow.KindPublication, Name: in.APIName, ID: in.APIID + "/" + in.PortalID}
	return a.offboardShared(ctx, usage.KonnectDomain, in.PortalKey, res, func(left usage.Left) (dcrflow.Resource, error) {
		if left.Changed { // the record knows what it was before dcrflow first changed it
			in.Before, in.BeforeKnown = left.Before, true
		}
		return a.OffboardPublicationAlone(ctx, in)
	})
}

// OffboardPublicationAlone is OffboardPublication once the portal is the
// publication's last user.
func (a *Activities) OffboardPublicationAlone(ctx context.Context, in OffboardPublicationInput) (dcrflow.Resource, error) {
	res := dcrflow.Resource{Kind: dcrflow.KindPublication, Name: in.APIName, ID: in.APIID + "/" + in.PortalID}
	cur, err := a.Konnect.Publications.Get(ctx, in.APIID, in.PortalID)
	switch {
	case konnect.IsNotFound(err):
		return absent(ctx, res, dcrflow.ActionUnpublished), nil
	case err != nil:
		return res, apiError("read publication of "+in.APIName, err)
	}
	i := slices.IndexFunc(in.Strategies, func(s OwnedResource) bool { return slices.Contains(cur.AuthStrategyIDs, s.ID) })
	if i < 0 {
		if earlierDoing(ctx) == dcrflow.ActionRestored && in.Before != nil && samePublication(cur, want(in.Before)) {
			res.Action = dcrflow.ActionRestored // an earlier attempt's PUT landed
			return res, nil
		}
		return kept(res, "published with auth strategy %v, not the portal's: not dcrflow's doing", cur.AuthStrategyIDs), nil
	}
	strategy := in.Strategies[i]
	switch {
	case in.BeforeKnown && in.Before == nil:
		return a.unpublish(ctx, res, in, "")
	case in.BeforeKnown && samePublication(cur, want(in.Before)):
		return kept(res, "already as it was before onboarding"), nil
	case in.BeforeKnown:
		activity.RecordHeartbeat(ctx, offboardProgress{Doing: dcrflow.ActionRestored})
		if _, err := a.Konnect.Publications.Put(ctx, in.APIID, in.PortalID, want(in.Before)); err != nil {
			return res, apiError("restore publication of "+in.APIName, err)
		}
		res.Action, res.Previous = dcrflow.ActionRestored, in.Before
		return res, nil
	case strategy.Owned:
		return a.unpublish(ctx, res, in, "no onboarding record of what it was before; it used dcrflow's auth strategy "+strategy.Name)
	}
	return kept(res, "it uses auth strategy %s, which dcrflow did not create, and no onboarding record says dcrflow published it", strategy.Name), nil
}

func (a *Activities) unpublish(ctx context.Context, res dcrflow.Resource, in OffboardPublicationInput, reason string) (dcrflow.Resource, error) {
	activity.RecordHeartbeat(ctx, offboardProgress{Doing: dcrflow.ActionUnpublished})
	if err := a.Konnect.Publications.Delete(ctx, in.APIID, in.PortalID); err != nil && !konnect.IsNotFound(err) {
		return res, apiError("unpublish "+in.APIName, err)
	}
	res.Action, res.Reason = dcrflow.ActionUnpublished, reason
	return res, nil
}

func want(p *dcrflow.PublicationSettings) konnect.Publication {
	return konnect.Publication{AuthStrategyIDs: p.AuthStrategyIDs, Visibility: p.Visibility, AutoApproveRegistrations: p.AutoApprove}
}

// OffboardAuthStrategy deletes the portal's auth strategy when dcrflow made it and no
// publication (of any portal) uses it any more.
func (a *Activities) OffboardAuthStrategy(ctx context.Context, in OffboardItemInput) (dcrflow.Resource, error) {
	return a.offboardItem(ctx, in, dcrflow.KindAuthStrategy, func(usage.Left) (dcrflow.Resource, error) { return a.removeAuthStrategy(ctx, in) })
}

func (a *Activities) removeAuthStrategy(ctx context.Context, in OffboardItemInput) (dcrflow.Resource, error) {
	res := dcrflow.Resource{Kind: dcrflow.KindAuthStrategy, Name: in.Name}
	s, err := a.Konnect.AuthStrategies.FindByName(ctx, in.Name)
	if err != nil {
		return res, konnectFindError("auth strategy", in.Name, err)
	}
	if s == nil {
		return absent(ctx, res, dcrflow.ActionDeleted), nil
	}
	res.ID = s.ID
	switch {
	case !managed(s.Labels) && !slices.Contains(in.Known.Created, s.ID):
		return kept(res, "not created by dcrflow (it has no %s=%s label)", LabelManagedBy, managedBy), nil
	case s.Active:
		return kept(res, "still used by a publication (of another portal, or one offboarding kept)"), nil
	}
	activity.RecordHeartbeat(ctx, offboardProgress{Doing: dcrflow.ActionDeleted})
	if err := a.Konnect.AuthStrategies.Delete(ctx, s.ID); err != nil && !konnect.IsNotFound(err) {
		if konnect.IsConflict(err) { // came into use meanwhile
			return kept(res, "still in use: %v", err), nil
		}
		return res, apiError("delete auth strategy "+in.Name, err)
	}
	res.Action = dcrflow.ActionDeleted
	return res, nil
}

// OffboardDCRProvider deletes the DCR provider when dcrflow made it and no auth
// strategy references it any more (a provider shared by other strategies stays).
func (a *Activities) OffboardDCRProvider(ctx context.Context, in OffboardItemInput) (dcrflow.Resource, error) {
	return a.offboardItem(ctx, in, dcrflow.KindDCRProvider, func(usage.Left) (dcrflow.Resource, error) { return a.removeDCRProvider(ctx, in) })
}

func (a *Activities) removeDCRProvider(ctx context.Context, in OffboardItemInput) (dcrflow.Resource, error) {
	res := dcrflow.Resource{Kind: dcrflow.KindDCRProvider, Name: in.Name}
	p, err := a.Konnect.DCRProviders.FindByName(ctx, in.Name)
	if err != nil {
		return res, konnectFindError("DCR provider", in.Name, err)
	}
	if p == nil {
		return absent(ctx, res, dcrflow.ActionDeleted), nil
	}
	res.ID = p.ID
	if !managed(p.Labels) && !slices.Contains(in.Known.Created, p.ID) {
		return kept(res, "not created by dcrflow (it has no %s=%s label)", LabelManagedBy, managedBy), nil
	}
	strategies, err := a.Konnect.AuthStrategies.ListByProvider(ctx, p.ID)
	if err != nil {
		return res, apiError("list auth strategies using DCR provider "+in.Name, err)
	}
	var users []string
	for _, s := range strategies {
		if s.DCRProvider == nil || s.DCRProvider.ID == p.ID { // the server filtered; tolerate one that does not say
			users = append(users, s.Name)
		}
	}
	switch {
	case len(users) > 0:
		return kept(res, "still used by auth strategies %s", strings.Join(users, ", ")), nil
	case p.Active:
		return kept(res, "still used by an auth strategy"), nil
	}
	activity.RecordHeartbeat(ctx, offboardProgress{Doing: dcrflow.ActionDeleted})
	if err := a.Konnect.DCRProviders.Delete(ctx, p.ID); err != nil && !konnect.IsNotFound(err) {
		if konnect.IsConflict(err) {
			return kept(res, "still in use: %v", err), nil
		}
		return res, apiError("delete DCR provider "+in.Name, err)
	}
	res.Action = dcrflow.ActionDeleted
	return res, nil
}

// OffboardClaim deletes the client-id claim when it is the claim dcrflow makes (its
// name, app.clientId for any scope), no onboarding record says it existed before,
// and no Konnect OIDC strategy for the issuer names it any more.
func (a *Activities) OffboardClaim(ctx context.Context, in OffboardItemInput) (dcrflow.Resource, error) {
	return a.offboardItem(ctx, in, dcrflow.KindClaim, func(left usage.Left) (dcrflow.Resource, error) {
		return a.removeClaim(ctx, in, claimOwnership{recorded: left.Created})
	})
}

// claimOwnership is what says a claim is dcrflow's: the usage record says a dcrflow
// run created it (recorded); strict (an undo) accepts nothing else, offboarding also
// the onboarding records and, without any, the claim's name and value.
type claimOwnership struct {
	recorded bool
	strict   bool
}

func (a *Activities) removeClaim(ctx context.Context, in OffboardItemInput, own claimOwnership) (dcrflow.Resource, error) {
	res := dcrflow.Resource{Kind: dcrflow.KindClaim, Name: in.Name}
	c, err := a.Okta.FindClaim(ctx, in.AuthServerID, in.Name, okta.ClaimTypeResource)
	if err != nil {
		return res, apiError("find claim "+in.Name, err)
	}
	if c == nil {
		return absent(ctx, res, dcrflow.ActionDeleted), nil
	}
	res.ID = c.ID
	reason := ""
	switch v := judgeClaim(c, false); {
	case v.Action == dcrflow.PlanConflict:
		return kept(res, "not the claim dcrflow creates: %s", strings.Join(v.Diffs, "; ")), nil
	case own.recorded:
		reason = "the usage record says dcrflow created it"
	case slices.Contains(in.Known.Created, c.ID):
	case own.strict:
		return kept(res, "no record says dcrflow created it"), nil
	case slices.Contains(in.Known.Adopted, c.ID):
		return kept(res, "it existed before dcrflow onboarded this portal (adopted)"), nil
	default:
		reason = "no onboarding record of it: recognised as dcrflow's by its name and value " + ClaimValue
	}
	users, err := a.claimUsers(ctx, in.Issuer, in.Name)
	if err != nil {
		return res, err
	}
	if len(users) > 0 {
		return kept(res, "still used by auth strategies %s", strings.Join(users, ", ")), nil
	}
	activity.RecordHeartbeat(ctx, offboardProgress{Doing: dcrflow.ActionDeleted})
	if err := a.Okta.DeleteClaim(ctx, in.AuthServerID, c.ID); err != nil && !okta.IsNotFound(err) {
		return res, apiError("delete claim "+in.Name, err)
	}
	res.Action, res.Reason = dcrflow.ActionDeleted, reason
	return res, nil
}

// OffboardScope deletes a custom scope dcrflow created (its description carries
// dcrflow's marker) once no Konnect OIDC strategy for the issuer lists it.
func (a *Activities) OffboardScope(ctx context.Context, in OffboardItemInput) (dcrflow.Resource, error) {
	return a.offboardItem(ctx, in, dcrflow.KindScope, func(usage.Left) (dcrflow.Resource, error) { return a.removeScope(ctx, in) })
}

func (a *Activities) removeScope(ctx context.Context, in OffboardItemInput) (dcrflow.Resource, error) {
	res := dcrflow.Resource{Kind: dcrflow.KindScope, Name: in.Name}
	s, err := a.Okta.FindScope(ctx, in.AuthServerID, in.Name)
	if err != nil {
		return res, apiError("find scope "+in.Name, err)
	}
	if s == nil {
		return absent(ctx, res, dcrflow.ActionDeleted), nil
	}
	res.ID = s.ID
	if !strings.Contains(s.Description, ownerMarkerPrefix) && !slices.Contains(in.Known.Created, s.ID) {
		return kept(res, "not created by dcrflow (its description has no %q marker)", ownerMarkerPrefix), nil
	}
	users, err := a.strategiesUsing(ctx, "scope "+in.Name, func(st konnect.AuthStrategy) bool {
		return st.OIDC != nil && sameURL(st.OIDC.Issuer, in.Issuer) && slices.Contains(st.OIDC.Scopes, in.Name)
	})
	if err != nil {
		return res, err
	}
	if len(users) > 0 {
		return kept(res, "still used by auth strategies %s", strings.Join(users, ", ")), nil
	}
	activity.RecordHeartbeat(ctx, offboardProgress{Doing: dcrflow.ActionDeleted})
	if err := a.Okta.DeleteScope(ctx, in.AuthServerID, s.ID); err != nil && !okta.IsNotFound(err) {
		return res, apiError("delete scope "+in.Name, err)
	}
	res.Action = dcrflow.ActionDeleted
	return res, nil
}

// offboardItem leaves the resource for the portal (every run of it) and, when the
// portal was its last user, removes it as remove decides, then releases it.
func (a *Activities) offboardItem(ctx context.Context, in OffboardItemInput, kind dcrflow.Kind, remove func(usage.Left) (dcrflow.Resource, error)) (dcrflow.Resource, error) {
	return a.offboardShared(ctx, usage.DomainOf(kind, in.AuthServerID), in.PortalKey, dcrflow.Resource{Kind: kind, Name: in.Name}, remove)
}

func (a *Activities) offboardShared(ctx context.Context, domain, portal string, res dcrflow.Resource, remove func(usage.Left) (dcrflow.Resource, error)) (dcrflow.Resource, error) {
	l := usage.Leave{Domain: domain, Key: usage.KeyOf(res), Portal: portal}
	left, keptRes, err := a.leaveFirst(ctx, l, res)
	if err != nil {
		return res, err
	}
	if keptRes != nil {
		return *keptRes, nil
	}
	out, err := remove(left)
	return out, a.release(ctx, l, out, err)
}

// managed tells whether labels mark a Konnect resource dcrflow created.
func managed(labels map[string]string) bool { return labels[LabelManagedBy] == managedBy }

func isNotFound(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == dcrflow.ErrTypeNotFound
}

// konnectFindError: several resources of one name is a conflict dcrflow cannot
// settle; anything else is the lookup's own error.
func konnectFindError(kind, name string, err error) error {
	if errors.Is(err, konnect.ErrAmbiguous) {
		return conflict("several Konnect %ss are named %q; rename one in Konnect", kind, name)
	}
	return apiError("find "+kind+" "+name, err)
}
