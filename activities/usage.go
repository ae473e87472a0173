package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/sync/errgroup"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/usage"
)

// Shared resources: every ensure activity joins the resource's record before it
// finds, adopts or creates it; every undo and offboarding leaves it first, and only
// the last one to leave removes it (and only what dcrflow made). The record serialises
// joins and leaves per domain, so a portal that adopts a resource can never lose it
// to another portal's undo.

// busyRetry is how soon a join retries while another portal removes the resource.
const busyRetry = 2 * time.Second

// join makes the portal a user of the resource. An old workflow run that names no
// portal is not recorded (its undo is the old, unconditional one).
func (a *Activities) join(ctx context.Context, domain string, k usage.Key, portal string) error {
	if portal == "" {
		return nil
	}
	j, err := a.Usage.Join(ctx, usage.Join{Domain: domain, Key: k, Portal: portal, Run: runID(ctx)})
	if err != nil {
		return usageError("join "+k.String(), err)
	}
	if j.Busy != "" {
		return temporal.NewApplicationErrorWithOptions(j.Busy+"; waiting until it is gone, then this portal ensures it again",
			dcrflow.ErrTypeTransient, temporal.ApplicationErrorOptions{NextRetryDelay: busyRetry, Category: temporal.ApplicationErrorCategoryBenign})
	}
	return nil
}

// note records, before a write, that the run creates the resource or changes a
// publication (from before).
func (a *Activities) note(ctx context.Context, n usage.Note) error {
	if n.Portal == "" {
		return nil
	}
	if err := a.Usage.Note(ctx, n); err != nil {
		return usageError("note "+n.Key.String(), err)
	}
	return nil
}

// usageError: the record lives on the Temporal server, so failing to reach it is
// transient (the server restarts, the entity continues as new).
func usageError(op string, err error) error {
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("usage record: %s: %v", op, err), dcrflow.ErrTypeTransient, temporal.ApplicationErrorOptions{})
}

// leaveFirst leaves the resource and says whether the caller may go on to remove it
// (it is the last user and holds it until release). When not, the resource is kept
// and the returned Resource says why.
func (a *Activities) leaveFirst(ctx context.Context, l usage.Leave, res dcrflow.Resource) (usage.Left, *dcrflow.Resource, error) {
	left, err := a.Usage.Leave(ctx, l)
	if err != nil {
		return left, nil, usageError("leave "+l.Key.String(), err)
	}
	switch {
	case left.Earlier:
		r := kept(res, "portal %s still relies on it through an earlier onboarding run", l.Portal)
		return left, &r, nil
	case !left.Last:
		r := kept(res, "still used by portal(s) %s", left.Named())
		return left, &r, nil
	}
	return left, nil, nil
}

// release ends the lease leaveFirst took; the resource's record goes when it is gone
// (not kept). A removal that failed releases it too, as kept: nobody waits for a lease
// whose holder gave up, and its retry leaves (and takes the lease) again.
//
// A publication's record holds only what it was before dcrflow changed it: once its
// last user is through with it (put back, or kept as not dcrflow's doing), that is
// stale, and a later publisher must note afresh what it finds.
func (a *Activities) release(ctx context.Context, l usage.Leave, res dcrflow.Resource, removeErr error) error {
	gone := removeErr == nil && (res.Action != dcrflow.ActionKept || l.Kind == dcrflow.KindPublication)
	if err := a.Usage.Release(ctx, usage.Release{Domain: l.Domain, Key: l.Key, Portal: l.Portal, Gone: gone}); err != nil {
		return usageError("release "+l.Key.String(), err)
	}
	return removeErr
}

// ReleaseInput is one resource an onboarding run relied on, for its undo.
type ReleaseInput struct {
	Kind         dcrflow.Kind `json:"kind"`
	Name         string       `json:"name"`
	PortalKey    string       `json:"portal_key"`
	AuthServerID string       `json:"auth_server_id,omitempty"` // Okta resources
	Issuer       string       `json:"issuer,omitempty"`
	// Publications: the API, the Konnect portal, and the run's auth strategy (a
	// publication is only put back while it still uses it).
	APIID      string `json:"api_id,omitempty"`
	PortalID   string `json:"portal_id,omitempty"`
	StrategyID string `json:"strategy_id,omitempty"`
}

// ReleaseResource is the undo of an ensure step, recorded before the step runs: the
// run leaves the resource, and when it was the last user it removes the resource if
// dcrflow made it (labels, markers, the record) — also when the step's create landed
// but its answer never came — or puts a publication back as it was before dcrflow
// changed it. A resource another portal still uses is kept.
func (a *Activities) ReleaseResource(ctx context.Context, in ReleaseInput) (UndoResult, error) {
	switch in.Kind { // before leaving: a kind with no undo must not hold a lease
	case dcrflow.KindScope, dcrflow.KindClaim, dcrflow.KindAccessPolicy, dcrflow.KindDCRProvider, dcrflow.KindAuthStrategy, dcrflow.KindPublication:
	default:
		return UndoResult{}, temporal.NewNonRetryableApplicationError("no undo for kind "+string(in.Kind), dcrflow.ErrTypeInvalid, nil)
	}
	l, res := in.leave(runID(ctx))
	left, keptRes, err := a.leaveFirst(ctx, l, res)
	if err != nil {
		return UndoResult{}, err
	}
	if keptRes != nil {
		return UndoResult{Kept: true, Reason: keptRes.Reason}, nil
	}
	item := OffboardItemInput{PortalKey: in.PortalKey, Name: in.Name, AuthServerID: in.AuthServerID, Issuer: in.Issuer}
	var out dcrflow.Resource
	switch in.Kind {
	case dcrflow.KindScope:
		out, err = a.removeScope(ctx, item)
	case dcrflow.KindClaim:
		out, err = a.removeClaim(ctx, item, claimOwnership{recorded: left.Created, strict: true})
	case dcrflow.KindAccessPolicy:
		out, err = a.removeAccessPolicy(ctx, item)
	case dcrflow.KindDCRProvider:
		out, err = a.removeDCRProvider(ctx, item)
	case dcrflow.KindAuthStrategy:
		out, err = a.removeAuthStrategy(ctx, item)
	case dcrflow.KindPublication:
		if !left.Changed {
			out = kept(res, "dcrflow did not change it: it already was as asked")
			break
		}
		out, err = a.OffboardPublicationAlone(ctx, OffboardPublicationInput{APIID: in.APIID, APIName: in.Name, PortalID: in.PortalID,
			Strategies: []OwnedResource{{ID: in.StrategyID, Owned: true}}, Before: left.Before, BeforeKnown: true})
	}
	if err := a.release(ctx, l, out, err); err != nil {
		return UndoResult{}, err
	}
	if out.Action == dcrflow.ActionKept {
		return UndoResult{Kept: true, Reason: out.Reason}, nil
	}
	return UndoResult{}, nil
}

// leave is the record's view of the input: the domain, key and the leaving run.
func (in ReleaseInput) leave(run string) (usage.Leave, dcrflow.Resource) {
	res := dcrflow.Resource{Kind: in.Kind, Name: in.Name}
	if in.Kind == dcrflow.KindPublication {
		res.ID = in.APIID + "/" + in.PortalID
	}
	return usage.Leave{Domain: usage.DomainOf(in.Kind, in.AuthServerID), Key: usage.KeyOf(res), Portal: in.PortalKey, Run: run}, res
}

// RebuildUsage rebuilds a record (a shard of a domain) from what Temporal knows of the
// portals onboarded before the record existed; the UsageRecord workflow runs it once,
// when it is first started. What it reads holds the whole domain, so it also starts
// the domain's other records with their part (those not started yet): each would
// otherwise read every portal again on its first use, which comes later and later in
// a large fleet (a shard first used by the 500th portal read 500 results).
func (a *Activities) RebuildUsage(ctx context.Context, in usage.State) (usage.State, error) {
	out := usage.State{Domain: in.Domain, Shard: in.Shard, Rebuilt: true}
	seeder, ok := a.Usage.(interface {
		Seeds(context.Context, string, int, func()) ([]usage.Seed, error)
		StartRebuilt(context.Context, usage.State) (bool, error)
	})
	if !ok {
		return out, nil
	}
	seeds, err := seeder.Seeds(ctx, in.Domain, in.Shard, func() { activity.RecordHeartbeat(ctx, nil) })
	if err != nil {
		return out, usageError("rebuild from onboarding records", err)
	}
	books := make([]*usage.Book, usage.Shards)
	for i := range books {
		books[i] = usage.NewBook(nil)
	}
	for _, s := range seeds {
		books[usage.ShardOf(s.Key)].Add(s)
	}
	g, gctx := errgroup.WithContext(ctx) // the first portal of a domain waits for this
	for shard, book := range books {
		if shard == in.Shard {
			continue
		}
		g.Go(func() error {
			sibling := usage.State{Domain: in.Domain, Shard: shard}
			if err := sibling.Pack(book); err != nil {
				return err
			}
			_, err := seeder.StartRebuilt(gctx, sibling)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return out, usageError("start the domain's other records", err)
	}
	return out, out.Pack(books[in.Shard])
}
