package main

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/sandbox"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/usage"
)

// loopRun is the sequential baseline: the same steps, one portal after another.
type loopRun struct {
	Portals   int
	Succeeded int
	Failures  []string
	Wall      time.Duration
	Samples   []sample
	Requests  map[string]bucketStats
	BenchCPU  time.Duration // this process's CPU while looping (clients and activities run here)
	PerPortal time.Duration
}

// loop onboards n portals of the fleet one after another by calling the activities
// directly — the workflow's steps in its order, with the same clients a worker builds
// — with no Temporal server, no workflow and no concurrency. The SDK's activity test
// environment only supplies the activity context the activities read (run id,
// attempt, heartbeats); no server is involved.
func (b *bench) loop(n int) (*loopRun, error) {
	logf("phase loop: %d portals one after another, no Temporal, no limits", n)
	if err := b.prepare(sandbox.RateLimits{}); err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	oc, err := okta.New(okta.Config{OrgURL: b.sb.oktaURL, Token: sbokta.DefaultManagementToken, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	kc, err := konnect.New(konnect.Config{BaseURL: b.sb.konnectURL, Token: sbkonnect.DefaultToken, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	acts := &activities.Activities{Okta: oc, Konnect: activities.KonnectFrom(kc),
		DCRTokens: map[string]string{"default": sbokta.DefaultDCRToken}, Usage: &usage.Memory{}}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(quietLogger())

	r := &loopRun{Portals: n}
	cpu0 := selfCPU()
	start := time.Now()
	for _, spec := range fleetSpecs("p2loop", n) {
		if err := b.ctx.Err(); err != nil {
			return nil, err
		}
		env := suite.NewTestActivityEnvironment()
		env.RegisterActivity(acts)
		if err := onboardDirect(env, spec); err != nil {
			r.Failures = append(r.Failures, fmt.Sprintf("%s: %v", spec.Key, err))
		} else {
			r.Succeeded++
		}
		r.Samples = append(r.Samples, sample{T: time.Since(start).Seconds(), Done: len(r.Samples) + 1})
	}
	r.Wall = time.Since(start)
	r.BenchCPU = selfCPU() - cpu0
	r.PerPortal = r.Wall / time.Duration(n)
	log, err := b.sb.control.Requests(b.ctx, 0)
	if err != nil {
		return nil, err
	}
	r.Requests = countRequests(log)
	logf("phase loop: %d/%d succeeded in %s (%s per portal)", r.Succeeded, n, r.Wall.Round(100*time.Millisecond), r.PerPortal.Round(time.Millisecond))
	return r, nil
}

// onboardDirect is OnboardPortal's happy path (workflows/onboard_portal.go) as a plain
// function: resolve, scopes, claim, access policy, provider + verify, strategy,
// publish, the claim again and validate. A failure stops the portal; nothing is undone (the sandbox is
// reset after the phase).
func onboardDirect(env *testsuite.TestActivityEnvironment, spec dcrflow.PortalSpec) error {
	var a *activities.Activities
	var t activities.Targets
	if err := call(env, &t, a.ResolveTargets, spec); err != nil {
		return err
	}
	var made []dcrflow.Resource
	if err := call(env, &made, a.EnsureScopes, activities.ScopesInput{AuthServerID: t.AuthServerID, Scopes: spec.Scopes, PortalKey: spec.Key}); err != nil {
		return err
	}
	var scopes []string
	for _, r := range made {
		scopes = append(scopes, r.Name)
	}
	claim := activities.ClaimInput{AuthServerID: t.AuthServerID, Name: spec.ClaimName}
	var res dcrflow.Resource
	if err := call(env, &res, a.EnsureClaim, claim); err != nil {
		return err
	}
	var pr activities.PolicyResult
	if err := call(env, &pr, a.EnsureAccessPolicy, activities.PolicyInput{AuthServerID: t.AuthServerID, AuthServer: spec.AuthServer,
		Scopes: scopes, PortalKey: spec.Key, Ensure: spec.AccessPolicy == dcrflow.AccessPolicyEnsure}); err != nil {
		return err
	}
	if pr.NeedsRule {
		if err := call(env, nil, a.EnsureAccessPolicyRule, activities.PolicyRuleInput{AuthServerID: t.AuthServerID, PolicyID: pr.Resource.ID,
			PolicyName: pr.Resource.Name, Scopes: scopes, PortalKey: spec.Key}); err != nil {
			return err
		}
	}
	var provider dcrflow.Resource
	if err := call(env, &provider, a.EnsureDCRProvider, activities.ProviderInput{Name: spec.DCRProvider, Issuer: t.Issuer,
		TokenName: spec.DCRTokenName, PortalKey: spec.Key, Labels: spec.Labels}); err != nil {
		return err
	}
	if err := call(env, nil, a.VerifyDCRProvider, activities.KonnectResourceInput{ID: provider.ID, Name: provider.Name}); err != nil {
		return err
	}
	var strategy dcrflow.Resource
	if err := call(env, &strategy, a.EnsureAuthStrategy, activities.StrategyInput{Strategy: spec.Strategy, Issuer: t.Issuer,
		Scopes: scopes, ClaimName: spec.ClaimName, ProviderID: provider.ID, PortalKey: spec.Key, Labels: spec.Labels}); err != nil {
		return err
	}
	for _, api := range t.APIs {
		var pub activities.PublishResult
		if err := call(env, &pub, a.PublishAPI, activities.PublishInput{APIID: api.ID, APIName: api.Spec.API, PortalID: t.PortalID,
			StrategyID: strategy.ID, Visibility: api.Spec.Visibility, AutoApprove: api.Spec.AutoApprove}); err != nil {
			return err
		}
	}
	if err := call(env, &res, a.EnsureClaim, claim); err != nil {
		return err
	}
	var v dcrflow.Validation
	if err := call(env, &v, a.ValidateDCR, activities.ValidateInput{PortalKey: spec.Key, Issuer: t.Issuer, Scopes: scopes,
		ClaimName: spec.ClaimName, TokenName: spec.DCRTokenName}); err != nil {
		return err
	}
	if !v.Passed {
		return fmt.Errorf("validation failed: %v", v.Problems)
	}
	return nil
}

// call runs one activity and decodes its result into out (nil: none).
func call(env *testsuite.TestActivityEnvironment, out any, fn any, arg any) error {
	v, err := env.ExecuteActivity(fn, arg)
	if err != nil || out == nil {
		return err
	}
	return v.Get(out)
}

// selfCPU is this process's CPU time so far.
func selfCPU() time.Duration { return cpuOf(os.Getpid()) }
