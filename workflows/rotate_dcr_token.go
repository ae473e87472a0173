package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

// DefaultRotateConcurrency bounds the providers rotated at once.
const DefaultRotateConcurrency = 4

// revertOptions: putting a provider back on its old token must get through, so it
// retries as long as compensation does.
var revertOptions = undoOptions

// RotateDCRToken moves every DCR provider that holds the token of in.Name onto the
// worker's new token ("<name>-next"): per provider, PATCH its dcr_config, verify it
// (Konnect registers a client in Okta with it) and validate one of its portals end to
// end with the new token. A provider that fails any of these is put back on the old
// token (and verified there), so none is left half-rotated: each ends on the new
// token, verified, or back on the old one. After a failure the rotation stops
// starting providers unless ContinueOnError. It completes, saying the old token is
// safe to revoke, only when every provider is on the new token; otherwise it fails
// with ErrTypeRotateFailed and the RotateResult as details.
//
// The tokens never enter the history: activities resolve the names in the worker's
// configuration. Every activity is idempotent, so a run resumed after a worker
// crash does again at most the step it was in.
func RotateDCRToken(ctx workflow.Context, in dcrflow.RotateInput) (*dcrflow.RotateResult, error) {
	r := &rotation{in: in, results: make([]*dcrflow.ProviderRotation, len(in.Providers)), running: map[string]string{}}
	if r.in.MaxConcurrent <= 0 {
		r.in.MaxConcurrent = DefaultRotateConcurrency
	}
	if err := workflow.SetQueryHandler(ctx, dcrflow.QueryProgress, func() (dcrflow.RotateProgress, error) {
		return r.progress(), nil
	}); err != nil {
		return nil, err
	}
	r.show(ctx, dcrflow.OutcomeRunning)
	pctx := workflow.WithActivityOptions(ctx, preflightOptions)
	if err := workflow.ExecuteActivity(withSummary(pctx, "Preflight: the worker holds the token and its new one"), a.RotationPreflight, in.Name).Get(ctx, nil); err != nil {
		r.show(ctx, dcrflow.OutcomeFailed)
		return nil, temporal.NewNonRetryableApplicationError("rotation of "+in.Name+" refused before any change: "+message(err), dcrflow.ErrTypeConfig, nil)
	}
	active := 0
	canceled := false
	for i, p := range in.Providers {
		if err := workflow.Await(ctx, func() bool { return active < r.in.MaxConcurrent || r.stopped }); err != nil {
			canceled, r.stopped = true, true // canceled: start no more; those running end on one token
		}
		if r.stopped {
			r.results[i] = &dcrflow.ProviderRotation{Provider: p.Name, ID: p.ID, Outcome: dcrflow.RotationSkipped,
				Reason: "not tried: the rotation stopped at the first failure (--continue-on-error goes on)", Portals: portalKeys(p)}
			if canceled {
				r.results[i].Reason = "not tried: the rotation was canceled"
			}
			continue
		}
		active++
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { active-- }()
			res := r.rotateOne(ctx, p)
			r.results[i] = &res
			delete(r.running, p.Name)
			if res.Outcome != dcrflow.RotationRotated && res.Outcome != dcrflow.RotationGone && !r.in.ContinueOnError {
				r.stopped = true
			}
			r.show(ctx, dcrflow.OutcomeRunning)
		})
	}
	// The providers in flight finish (a canceled one goes back on the old token)
	// even when the rotation is canceled: none is left half-rotated.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if err := workflow.Await(dctx, func() bool { return active == 0 }); err != nil {
		return nil, err
	}
	out := r.result()
	if canceled || ctx.Err() != nil {
		r.show(dctx, dcrflow.OutcomeCanceled)
		return out, temporal.NewCanceledError(*out)
	}
	if !out.SafeToRevoke {
		r.show(ctx, dcrflow.OutcomeFailed)
		return out, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("rotation of %s: %d provider(s) still on the old token (%s); keep the old token until they are rotated",
				in.Name, len(out.OnOldToken()), strings.Join(out.OnOldToken(), ", ")),
			dcrflow.ErrTypeRotateFailed, nil, *out)
	}
	r.show(ctx, dcrflow.OutcomeSucceeded)
	return out, nil
}

type rotation struct {
	in      dcrflow.RotateInput
	results []*dcrflow.ProviderRotation
	running map[string]string // provider → step
	stopped bool
}

func portalKeys(p dcrflow.RotateProvider) []string {
	out := make([]string, len(p.Portals))
	for i, pt := range p.Portals {
		out[i] = pt.Spec.Key
	}
	return out
}

// rotateOne puts one provider on the new token, or back on the old one.
func (r *rotation) rotateOne(ctx workflow.Context, p dcrflow.RotateProvider) dcrflow.ProviderRotation {
	res := dcrflow.ProviderRotation{Provider: p.Name, ID: p.ID, Portals: portalKeys(p)}
	step := func(s string) {
		r.running[p.Name] = s
		r.show(ctx, dcrflow.OutcomeRunning)
	}
	sctx := workflow.WithActivityOptions(ctx, stepOptions)
	fail := func(at string, err error) dcrflow.ProviderRotation {
		res.Step, res.Reason = at, message(err)
		return r.revert(ctx, p, res, step)
	}

	step("set the new token")
	var set activities.SetTokenResult
	in := activities.SetTokenInput{ProviderID: p.ID, Provider: p.Name, Token: activities.TokenInput{Name: r.in.Name, Next: true}}
	if err := workflow.ExecuteActivity(withSummary(sctx, "Rotate "+p.Name+": PATCH its dcr_config with the new token"), a.SetProviderToken, in).Get(ctx, &set); err != nil {
		return fail("set the new token", err)
	}
	if set.Gone {
		res.Outcome, res.Reason = dcrflow.RotationGone, "no DCR provider of that name in Konnect any more"
		return res
	}
	res.ID = set.ID

	step("verify with the new token")
	kin := activities.KonnectResourceInput{ID: set.ID, Name: p.Name}
	if err := workflow.ExecuteActivity(withSummary(sctx, "Rotate "+p.Name+": verify (Konnect registers a client in Okta with the new token)"), a.VerifyDCRProvider, kin).Get(ctx, nil); err != nil {
		return fail("verify with the new token", err)
	}

	if len(p.Portals) > 0 {
		pt := p.Portals[0]
		res.Validated = pt.Spec.Key
		at := "validate portal " + pt.Spec.Key + " with the new token"
		step(at)
		if err := r.validate(ctx, pt); err != nil {
			return fail(at, err)
		}
	}
	res.Outcome = dcrflow.RotationRotated
	return res
}

// validate runs the portal's end-to-end check with the new token: a DCR client, a
// token, its signature, claim and scopes; through a Konnect application too when the
// portal validates that way (Konnect registers through the provider's new token).
func (r *rotation) validate(ctx workflow.Context, pt dcrflow.RotatePortal) error {
	vctx := workflow.WithActivityOptions(ctx, validateOptions)
	next := dcrflow.NextDCRTokenName(r.in.Name)
	scopes := make([]string, len(pt.Spec.Scopes))
	for i, s := range pt.Spec.Scopes {
		scopes[i] = s.Name
	}
	in := activities.ValidateInput{PortalKey: pt.Spec.Key, Issuer: pt.Issuer, Scopes: scopes, ClaimName: pt.Spec.ClaimName, TokenName: next}
	var v dcrflow.Validation
	if err := workflow.ExecuteActivity(withSummary(vctx, "Validate "+pt.Spec.Key+" with the new token: DCR client, token, signature, claim and scopes"), a.ValidateDCR, in).Get(ctx, &v); err != nil {
		return err
	}
	if !v.Passed {
		return temporal.NewNonRetryableApplicationError("validation failed: "+strings.Join(v.Problems, "; "), dcrflow.ErrTypeValidation, nil)
	}
	if pt.Spec.ValidateVia != dcrflow.ValidateViaKonnect || pt.Spec.ValidationOwner == nil || pt.PortalID == "" || pt.StrategyID == "" {
		return nil
	}
	kin := activities.KonnectValidateInput{PortalKey: pt.Spec.Key, PortalID: pt.PortalID, StrategyID: pt.StrategyID,
		Owner: *pt.Spec.ValidationOwner, TokenName: next, Labels: pt.Spec.Labels}
	var kv dcrflow.Validation
	if err := workflow.ExecuteActivity(withSummary(vctx, "Validate "+pt.Spec.Key+" through Konnect with the new token"), a.ValidateThroughKonnect, kin).Get(ctx, &kv); err != nil {
		return err
	}
	if !kv.Passed {
		return temporal.NewNonRetryableApplicationError("validation through Konnect failed: "+strings.Join(kv.Problems, "; "), dcrflow.ErrTypeValidation, nil)
	}
	return nil
}

// revert puts the provider back on the old token and verifies it there.
func (r *rotation) revert(ctx workflow.Context, p dcrflow.RotateProvider, res dcrflow.ProviderRotation, step func(string)) dcrflow.ProviderRotation {
	step("back to the old token")
	ctx, _ = workflow.NewDisconnectedContext(ctx) // also when the rotation was canceled
	rctx := workflow.WithActivityOptions(ctx, revertOptions)
	in := activities.SetTokenInput{ProviderID: res.ID, Provider: p.Name, Token: activities.TokenInput{Name: r.in.Name}}
	if res.ID == "" {
		in.ProviderID = p.ID
	}
	var set activities.SetTokenResult
	if err := workflow.ExecuteActivity(withSummary(rctx, "Rotate "+p.Name+": failed, PATCH it back to the old token"), a.SetProviderToken, in).Get(ctx, &set); err != nil {
		res.Outcome = dcrflow.RotationFailed
		res.Reason += "; putting it back on the old token failed too: " + message(err) + " (run the rotation again, or set its token in Konnect)"
		return res
	}
	if set.Gone {
		res.Outcome, res.Reason = dcrflow.RotationGone, res.Reason+"; the provider is gone from Konnect"
		return res
	}
	res.ID, res.Outcome = set.ID, dcrflow.RotationReverted
	vctx := workflow.WithActivityOptions(ctx, stepOptions)
	if err := workflow.ExecuteActivity(withSummary(vctx, "Rotate "+p.Name+": verify on the old token"), a.VerifyDCRProvider,
		activities.KonnectResourceInput{ID: set.ID, Name: p.Name}).Get(ctx, nil); err != nil {
		res.Reason += "; back on the old token, whose verify failed too: " + message(err)
	}
	return res
}

func (r *rotation) result() *dcrflow.RotateResult {
	out := &dcrflow.RotateResult{Name: r.in.Name, Providers: []dcrflow.ProviderRotation{}}
	for _, p := range r.results {
		if p != nil {
			out.Providers = append(out.Providers, *p)
		}
	}
	out.SafeToRevoke = len(out.OnOldToken()) == 0
	return out
}

func (r *rotation) progress() dcrflow.RotateProgress {
	p := dcrflow.RotateProgress{Name: r.in.Name, Total: len(r.in.Providers), Running: map[string]string{}, Done: []dcrflow.ProviderRotation{}, Stopped: r.stopped}
	for k, v := range r.running {
		p.Running[k] = v
	}
	for _, res := range r.results {
		if res != nil {
			p.Done = append(p.Done, *res)
		}
	}
	return p
}

// show publishes the progress in the UI: current details (a line per provider) and,
// when the namespace has them, the search attributes.
func (r *rotation) show(ctx workflow.Context, outcome dcrflow.Outcome) {
	var b strings.Builder
	done := 0
	for _, res := range r.results {
		if res != nil {
			done++
		}
	}
	fmt.Fprintf(&b, "**Rotate DCR token %s**: %s, %d of %d provider(s) done\n\n", r.in.Name, outcome, done, len(r.in.Providers))
	for i, p := range r.in.Providers {
		switch res := r.results[i]; {
		case res != nil && res.Reason != "":
			fmt.Fprintf(&b, "- %s: %s — %s\n", p.Name, res.Outcome, res.Reason)
		case res != nil:
			fmt.Fprintf(&b, "- %s: %s\n", p.Name, res.Outcome)
		case r.running[p.Name] != "":
			fmt.Fprintf(&b, "- %s: %s…\n", p.Name, r.running[p.Name])
		default:
			fmt.Fprintf(&b, "- %s: waiting\n", p.Name)
		}
	}
	workflow.SetCurrentDetails(ctx, b.String())
	if !r.in.UpsertSearchAttributes {
		return
	}
	err := workflow.UpsertTypedSearchAttributes(ctx, saStep.ValueSet(fmt.Sprintf("rotate %d/%d", done, len(r.in.Providers))), saOutcome.ValueSet(string(outcome)))
	if err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
}
