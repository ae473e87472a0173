package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
)

// PlanTimeout bounds one attempt of a portal's plan: a GET per scope, API and
// publication besides the few fixed ones.
const PlanTimeout = 30 * time.Second

// planOptions: the plan only reads, so transient faults are retried as a step's are.
var planOptions = func() workflow.ActivityOptions {
	o := stepOptions
	o.StartToCloseTimeout = PlanTimeout
	o.WaitForCancellation = false
	return o
}()

// PlanPortals is the dry run of many portals (`starter plan`): one read-only
// PlanPortal activity per portal, at most MaxConcurrent at once, the plans in the
// order given. A portal whose plan fails for good (after the step's retries) gets the
// failure as a problem; the others are planned all the same. Each portal is judged
// against today's state; MarkShared then marks what an earlier portal of the same
// plan creates first.
func PlanPortals(ctx workflow.Context, in dcrflow.PlanInput) ([]dcrflow.PortalPlan, error) {
	specs, err := dcrflow.UnpackPortals(in.Packed)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("plan input: "+err.Error(), dcrflow.ErrTypeInvalid, err)
	}
	limit := in.MaxConcurrent
	if limit <= 0 {
		limit = DefaultMaxConcurrent
	}
	ctx = workflow.WithActivityOptions(ctx, planOptions)
	plans := make([]dcrflow.PortalPlan, len(specs))
	sel := workflow.NewSelector(ctx)
	next, running, done, troubled := 0, 0, 0, 0
	details := func() {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**Plan %s** (read-only): %d of %d portal(s) planned, %d with problems; %d running",
			in.Name, done, len(specs), troubled, running))
	}
	details()
	for done < len(specs) {
		for running < limit && next < len(specs) && ctx.Err() == nil {
			i, spec := next, specs[next]
			f := workflow.ExecuteActivity(withSummary(ctx, "Plan portal "+spec.Key+" (read-only)"), a.PlanPortal, spec)
			sel.AddFuture(f, func(f workflow.Future) {
				running--
				done++
				if err := f.Get(ctx, &plans[i]); err != nil {
					plans[i] = dcrflow.PortalPlan{Portal: spec.Key, Items: []dcrflow.PlanItem{}, Problems: []string{"plan failed: " + message(err)}}
				}
				if len(plans[i].Problems) > 0 {
					troubled++
				}
			})
			next++
			running++
		}
		if running == 0 {
			break // canceled before every portal started
		}
		sel.Select(ctx)
		details()
	}
	if ctx.Err() != nil {
		return nil, temporal.NewCanceledError(fmt.Sprintf("plan canceled after %d of %d portal(s)", done, len(specs)))
	}
	return MarkShared(plans), nil
}

// MarkShared marks, in the order given, what an earlier portal of the same plan
// creates or publishes first: a later portal's run then finds it, so its "create"
// becomes "adopt" and its "publish" or "republish" becomes "unchanged", with ByPortal
// naming the earlier portal. A portal with problems counts for none: its run fails
// and undoes what it made. Resources are matched as the runs share them: scopes and
// claims by authorization server and name, DCR providers and auth strategies by name,
// publications by portal and API. A fleet runs portals concurrently, so which portal
// comes first there is up to timing; the plan assumes the file's order. Applying it
// twice changes nothing more.
func MarkShared(plans []dcrflow.PortalPlan) []dcrflow.PortalPlan {
	first := map[string]string{} // resource → the portal whose run makes it
	for i := range plans {
		p := &plans[i]
		for j := range p.Items {
			it := &p.Items[j]
			key := sharedKey(*p, *it)
			if key == "" {
				continue
			}
			switch it.Action {
			case dcrflow.PlanCreate, dcrflow.PlanPublish, dcrflow.PlanRepublish:
				by, seen := first[key]
				if !seen {
					if len(p.Problems) == 0 { // a portal with problems fails, and undoes what it made
						first[key] = p.Portal
					}
					continue
				}
				it.ByPortal = by
				if it.Action == dcrflow.PlanCreate {
					it.Action = dcrflow.PlanAdopt
				} else {
					it.Action, it.Diffs = dcrflow.PlanUnchanged, nil
				}
			}
		}
	}
	return plans
}

func sharedKey(p dcrflow.PortalPlan, it dcrflow.PlanItem) string {
	switch it.Kind {
	case dcrflow.KindScope, dcrflow.KindClaim, dcrflow.KindAccessPolicy:
		if p.AuthServerID != "" {
			return string(it.Kind) + "\x00" + p.AuthServerID + "\x00" + it.Name
		}
	case dcrflow.KindDCRProvider, dcrflow.KindAuthStrategy:
		return string(it.Kind) + "\x00" + it.Name
	case dcrflow.KindPublication:
		if p.PortalID != "" {
			return string(it.Kind) + "\x00" + p.PortalID + "\x00" + it.Name
		}
	}
	return ""
}
