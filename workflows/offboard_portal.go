package workflows

import (
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

// OffboardPortal undoes a portal's onboarding for what dcrflow owns, in the reverse
// order of the saga: each publication of the portal that uses its auth strategy is
// restored as it was before onboarding (when an onboarding record says) or
// unpublished, then the auth strategy, the DCR provider, the access policy, the claim
// and the scopes are deleted — each only when dcrflow made it and nothing else still
// uses it; everything else is kept, with the reason. Adopted resources are never
// deleted. Each step is an idempotent activity with the onboarding's retries, so
// running it again (after a failure, or to see that nothing is left) is safe and
// writes nothing more. A step that fails for good ends the run with an OffboardFailed
// error whose details hold the OffboardResult so far.
func OffboardPortal(ctx workflow.Context, in dcrflow.OffboardInput) (*dcrflow.OffboardResult, error) {
	ctx = workflow.WithActivityOptions(ctx, stepOptions)
	o := &offboarding{in: in, spec: in.Spec, res: &dcrflow.OffboardResult{Portal: in.Spec.Key, Resources: []dcrflow.Resource{}}}
	if err := workflow.SetQueryHandler(ctx, dcrflow.QueryProgress, o.progress); err != nil {
		return nil, err
	}
	steps := []step{
		{StepResolve, o.resolve}, {StepPublish, o.publications}, {StepStrategy, o.strategies}, {StepProvider, o.providers},
		{StepPolicy, o.accessPolicy}, {StepClaim, o.claims}, {StepScopes, o.scopes},
	}
	names := make([]string, len(steps))
	for i, st := range steps {
		names[i] = st.name
	}
	o.checks = newChecklist(names)
	for _, st := range steps {
		o.step, o.stepStart = st.name, len(o.res.Resources)
		o.checks.set(o.step, stateRunning, "")
		o.show(ctx, dcrflow.OutcomeRunning)
		err := st.run(ctx)
		if err == nil {
			o.checks.set(o.step, stateDone, o.note())
			continue
		}
		o.res.Failure = &dcrflow.Failure{Step: o.step, Message: message(err)}
		o.checks.set(o.step, stateFailed, o.res.Failure.Message)
		if ctx.Err() != nil || temporal.IsCanceledError(err) {
			o.show(ctx, dcrflow.OutcomeCanceled)
			return nil, temporal.NewCanceledError("offboarding canceled at step " + o.step)
		}
		o.show(ctx, dcrflow.OutcomeFailed)
		msg := fmt.Sprintf("offboard portal %s: step %s failed: %s (offboarding it again goes on from there)", in.Spec.Key, o.step, o.res.Failure.Message)
		return nil, temporal.NewNonRetryableApplicationError(msg, dcrflow.ErrTypeOffboardFailed, err, o.res)
	}
	o.show(ctx, dcrflow.OutcomeSucceeded)
	return o.res, nil
}

type offboarding struct {
	in   dcrflow.OffboardInput
	spec dcrflow.PortalSpec
	res  *dcrflow.OffboardResult

	step      string
	stepStart int // index in res.Resources where the current step's resources begin
	checks    *checklist
	outcome   dcrflow.Outcome

	targets activities.OffboardTargets
}

func (o *offboarding) progress() (dcrflow.Progress, error) {
	return dcrflow.Progress{Portal: o.spec.Key, Outcome: o.outcome, Step: o.step, Resources: o.res.Resources}, nil
}

// show publishes the checklist as the UI's current details. Offboarding sets no
// search attributes: DcrflowOutcome is the onboarding's.
func (o *offboarding) show(ctx workflow.Context, outcome dcrflow.Outcome) {
	o.outcome = outcome
	workflow.SetCurrentDetails(ctx, o.checks.markdown("Offboard "+o.spec.Key, outcome))
}

// note sums up what the step did to its resources, for the checklist.
func (o *offboarding) note() string {
	counts := map[dcrflow.Action]int{}
	for _, r := range o.res.Resources[o.stepStart:] {
		counts[r.Action]++
	}
	var parts []string
	for _, a := range []dcrflow.Action{dcrflow.ActionDeleted, dcrflow.ActionUnpublished, dcrflow.ActionRestored, dcrflow.ActionKept, dcrflow.ActionAbsent} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ")
}

// records are this portal's onboarding results, newest first.
func (o *offboarding) records() []dcrflow.OnboardResult {
	var out []dcrflow.OnboardResult
	for _, r := range o.in.Onboarded {
		if r.Portal == o.spec.Key {
			out = append(out, r)
		}
	}
	return out
}

// names are the spec's names of a kind, then those only the records know (a name
// the onboarding file no longer lists), each once.
func (o *offboarding) names(kind dcrflow.Kind, fromSpec ...string) []string {
	out := slices.Clone(fromSpec)
	for _, rec := range o.records() {
		for _, r := range rec.Resources {
			if r.Kind == kind && !slices.Contains(out, r.Name) {
				out = append(out, r.Name)
			}
		}
	}
	return out
}

// known is what the records say about resources of a kind: created (by this portal's
// runs, or by another portal offboarded with it) or adopted.
func (o *offboarding) known(kind dcrflow.Kind) activities.Known {
	var k activities.Known
	add := func(r dcrflow.Resource) {
		switch {
		case r.Kind != kind || r.ID == "":
		case r.Action == dcrflow.ActionCreated && !slices.Contains(k.Created, r.ID):
			k.Created = append(k.Created, r.ID)
		case r.Action == dcrflow.ActionAdopted && !slices.Contains(k.Adopted, r.ID):
			k.Adopted = append(k.Adopted, r.ID)
		}
	}
	for _, rec := range o.records() {
		for _, r := range rec.Resources {
			add(r)
		}
	}
	for _, r := range o.in.CreatedByOthers {
		add(r)
	}
	return k
}

// before is what the newest record that changed the publication says it was before:
// nil and known when the run published it anew.
func (o *offboarding) before(id string) (*dcrflow.PublicationSettings, bool) {
	for _, rec := range o.records() {
		for _, r := range rec.Resources {
			if r.Kind != dcrflow.KindPublication || r.ID != id {
				continue
			}
			switch r.Action {
			case dcrflow.ActionPublished:
				return nil, true
			case dcrflow.ActionUpdated:
				return r.Previous, r.Previous != nil // a record from before Previous was kept says nothing
			}
		}
	}
	return nil, false
}

func (o *offboarding) resolve(ctx workflow.Context) error {
	in := activities.OffboardLookupInput{AuthServer: o.spec.AuthServer, Portal: o.spec.Portal,
		APIs: o.names(dcrflow.KindPublication, apiNames(o.spec)...), Strategies: o.names(dcrflow.KindAuthStrategy, o.spec.Strategy.Name)}
	summary := fmt.Sprintf("Find Okta server %s, portal %s, %d API(s) and the auth strategy (read-only)", o.spec.AuthServer, o.spec.Portal, len(in.APIs))
	return workflow.ExecuteActivity(withSummary(ctx, summary), a.FindOffboardTargets, in).Get(ctx, &o.targets)
}

func (o *offboarding) publications(ctx workflow.Context) error {
	for _, api := range o.targets.APIs {
		if api.ID == "" || o.targets.PortalID == "" {
			o.report(dcrflow.Resource{Kind: dcrflow.KindPublication, Name: api.Name, Action: dcrflow.ActionAbsent, Reason: "no such API or portal in Konnect"})
			continue
		}
		before, known := o.before(api.ID + "/" + o.targets.PortalID)
		in := activities.OffboardPublicationInput{PortalKey: o.spec.Key, APIID: api.ID, APIName: api.Name, PortalID: o.targets.PortalID,
			Strategies: o.targets.Strategies, Before: before, BeforeKnown: known}
		var r dcrflow.Resource
		if err := workflow.ExecuteActivity(withSummary(ctx, "Offboard: unpublish "+api.Name+" from portal "+o.spec.Portal+", or restore it as it was"), a.OffboardPublication, in).Get(ctx, &r); err != nil {
			return err
		}
		o.report(r)
	}
	return nil
}

func (o *offboarding) strategies(ctx workflow.Context) error {
	return o.each(ctx, dcrflow.KindAuthStrategy, o.names(dcrflow.KindAuthStrategy, o.spec.Strategy.Name), a.OffboardAuthStrategy, "auth strategy")
}

func (o *offboarding) providers(ctx workflow.Context) error {
	return o.each(ctx, dcrflow.KindDCRProvider, o.names(dcrflow.KindDCRProvider, o.spec.DCRProvider), a.OffboardDCRProvider, "DCR provider")
}

// accessPolicy offboards the access policy (and its rule) step 4 created for the
// portal; one it only found is kept.
func (o *offboarding) accessPolicy(ctx workflow.Context) error {
	return o.each(ctx, dcrflow.KindAccessPolicy, o.names(dcrflow.KindAccessPolicy, activities.PolicyName(o.spec.Key)), a.OffboardAccessPolicy, "access policy")
}

func (o *offboarding) claims(ctx workflow.Context) error {
	return o.each(ctx, dcrflow.KindClaim, o.names(dcrflow.KindClaim, o.spec.ClaimName), a.OffboardClaim, "claim")
}

func (o *offboarding) scopes(ctx workflow.Context) error {
	var spec []string
	for _, s := range o.spec.Scopes {
		spec = append(spec, s.Name)
	}
	return o.each(ctx, dcrflow.KindScope, o.names(dcrflow.KindScope, spec...), a.OffboardScope, "scope")
}

// each offboards the named resources of one kind, one activity each.
func (o *offboarding) each(ctx workflow.Context, kind dcrflow.Kind, names []string, fn any, what string) error {
	inOkta := kind == dcrflow.KindClaim || kind == dcrflow.KindScope || kind == dcrflow.KindAccessPolicy
	for _, name := range names {
		if inOkta && o.targets.AuthServerID == "" {
			o.report(dcrflow.Resource{Kind: kind, Name: name, Action: dcrflow.ActionAbsent, Reason: "no such Okta authorization server"})
			continue
		}
		in := activities.OffboardItemInput{PortalKey: o.spec.Key, Name: name, Known: o.known(kind)}
		if inOkta {
			in.AuthServerID, in.Issuer = o.targets.AuthServerID, o.targets.Issuer
		}
		var r dcrflow.Resource
		if err := workflow.ExecuteActivity(withSummary(ctx, "Offboard: delete "+what+" "+name+" unless it is not dcrflow's or still used"), fn, in).Get(ctx, &r); err != nil {
			return err
		}
		o.report(r)
	}
	return nil
}

func (o *offboarding) report(r dcrflow.Resource) {
	o.res.Resources = append(o.res.Resources, r)
}

func apiNames(spec dcrflow.PortalSpec) []string {
	out := make([]string, len(spec.APIs))
	for i, api := range spec.APIs {
		out[i] = api.API
	}
	return out
}
