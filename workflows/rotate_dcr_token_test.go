package workflows

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
)

// tokenWorld fakes Konnect's providers for a rotation: which token each holds
// ("old" or "new"), which fail verify or validation with the new one.
type tokenWorld struct {
	mu            sync.Mutex
	holds         map[string]string // provider id → old|new
	badVerify     map[string]bool   // provider id whose verify fails on the new token
	badValidate   map[string]bool   // portal key whose validation fails with the new token
	gone          map[string]bool   // provider name not in Konnect
	preflightErr  error
	maxRunning    int
	validateTakes time.Duration
	running       int
	validated     []string
}

func newTokenWorld(ids ...string) *tokenWorld {
	w := &tokenWorld{holds: map[string]string{}, badVerify: map[string]bool{}, badValidate: map[string]bool{}, gone: map[string]bool{}}
	for _, id := range ids {
		w.holds[id] = "old"
	}
	return w
}

func (w *tokenWorld) env(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(a.RotationPreflight, mock.Anything, mock.Anything).Return(func(context.Context, string) error { return w.preflightErr })
	env.OnActivity(a.SetProviderToken, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SetTokenInput) (activities.SetTokenResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.gone[in.Provider] {
			return activities.SetTokenResult{Gone: true}, nil
		}
		if in.Token.Next {
			w.running++
			w.maxRunning = max(w.maxRunning, w.running)
			w.holds[in.ProviderID] = "new"
		} else {
			w.holds[in.ProviderID] = "old"
		}
		return activities.SetTokenResult{ID: in.ProviderID}, nil
	})
	env.OnActivity(a.VerifyDCRProvider, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.KonnectResourceInput) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.holds[in.ID] == "new" && w.badVerify[in.ID] {
			w.running--
			return temporal.NewNonRetryableApplicationError("Konnect could not register a client in Okta with DCR provider \""+in.Name+"\": Invalid token provided", dcrflow.ErrTypeConflict, nil)
		}
		return nil
	})
	env.OnActivity(a.ValidateDCR, mock.Anything, mock.Anything).After(w.validateTakes).Return(func(_ context.Context, in activities.ValidateInput) (dcrflow.Validation, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.running--
		w.validated = append(w.validated, in.PortalKey+":"+in.TokenName)
		if w.badValidate[in.PortalKey] {
			return dcrflow.Validation{Passed: false, Problems: []string{"scope missing"}}, nil
		}
		return dcrflow.Validation{Passed: true}, nil
	})
	return env
}

func rotateInput(continueOnError bool) dcrflow.RotateInput {
	in := dcrflow.RotateInput{Name: "partners", ContinueOnError: continueOnError, MaxConcurrent: 2}
	for _, p := range []string{"p1", "p2", "p3"} {
		in.Providers = append(in.Providers, dcrflow.RotateProvider{Name: "prov-" + p, ID: p, Portals: []dcrflow.RotatePortal{
			{Spec: dcrflow.PortalSpec{Key: p + "-a", Scopes: []dcrflow.ScopeSpec{{Name: "read"}}}, Issuer: "https://org/oauth2/aus"},
			{Spec: dcrflow.PortalSpec{Key: p + "-b"}, Issuer: "https://org/oauth2/aus"},
		}})
	}
	return in
}

func TestRotateDCRToken_AllProvidersRotated(t *testing.T) {
	w := newTokenWorld("p1", "p2", "p3")
	env := w.env(t)
	env.ExecuteWorkflow(RotateDCRToken, rotateInput(false))
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res dcrflow.RotateResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if !res.SafeToRevoke || len(res.Providers) != 3 {
		t.Fatalf("result: %+v", res)
	}
	for id, h := range w.holds {
		if h != "new" {
			t.Errorf("%s holds %s", id, h)
		}
	}
	// One portal per provider, validated with the new token.
	if len(w.validated) != 3 || !strings.HasSuffix(w.validated[0], ":partners-next") || !strings.Contains(strings.Join(w.validated, ","), "p2-a:") {
		t.Errorf("validated: %v", w.validated)
	}
	if w.maxRunning > 2 {
		t.Errorf("%d providers at once, bound 2", w.maxRunning)
	}
}

// A provider whose verify fails with the new token goes back on the old one; with
// --continue-on-error the others are rotated, and the rotation fails naming it.
func TestRotateDCRToken_FailedProviderBackOnOldToken(t *testing.T) {
	w := newTokenWorld("p1", "p2", "p3")
	w.badVerify["p2"] = true
	env := w.env(t)
	env.ExecuteWorkflow(RotateDCRToken, rotateInput(true))
	err := env.GetWorkflowError()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != dcrflow.ErrTypeRotateFailed || !strings.Contains(ae.Message(), "prov-p2") {
		t.Fatalf("error: %v", err)
	}
	var res dcrflow.RotateResult
	if err := ae.Details(&res); err != nil {
		t.Fatal(err)
	}
	if res.SafeToRevoke || strings.Join(res.OnOldToken(), ",") != "prov-p2" {
		t.Fatalf("result: %+v", res)
	}
	if p := res.Providers[1]; p.Outcome != dcrflow.RotationReverted || p.Step != "verify with the new token" || !strings.Contains(p.Reason, "Invalid token provided") {
		t.Fatalf("p2: %+v", p)
	}
	if w.holds["p1"] != "new" || w.holds["p2"] != "old" || w.holds["p3"] != "new" {
		t.Fatalf("holds: %v", w.holds)
	}
}

// Without --continue-on-error, the first failure stops the rotation: providers not
// started are skipped (still on the old token, untouched).
func TestRotateDCRToken_StopsAtFirstFailure(t *testing.T) {
	w := newTokenWorld("p1", "p2", "p3")
	w.badValidate["p1-a"] = true
	env := w.env(t)
	in := rotateInput(false)
	in.MaxConcurrent = 1
	env.ExecuteWorkflow(RotateDCRToken, in)
	var ae *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &ae) {
		t.Fatalf("error: %v", err)
	}
	var res dcrflow.RotateResult
	if err := ae.Details(&res); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, p := range res.Providers {
		got = append(got, p.Provider+"="+p.Outcome)
	}
	if strings.Join(got, ",") != "prov-p1=reverted,prov-p2=skipped,prov-p3=skipped" {
		t.Fatalf("outcomes: %v", got)
	}
	for id, h := range w.holds {
		if h != "old" {
			t.Errorf("%s holds %s", id, h)
		}
	}
}

// A worker lacking the new token refuses the rotation before any change.
func TestRotateDCRToken_PreflightRefusal(t *testing.T) {
	w := newTokenWorld("p1")
	w.preflightErr = temporal.NewNonRetryableApplicationError("the worker has no DCR token named \"partners-next\"", dcrflow.ErrTypeConfig, nil)
	env := w.env(t)
	env.ExecuteWorkflow(RotateDCRToken, rotateInput(true))
	if err := env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "refused before any change") {
		t.Fatalf("error: %v", err)
	}
	if w.holds["p1"] != "old" {
		t.Fatal("a provider changed")
	}
}

// A provider gone from Konnect holds no token: the old one is still safe to revoke.
func TestRotateDCRToken_GoneProvider(t *testing.T) {
	w := newTokenWorld("p1", "p2", "p3")
	w.gone["prov-p3"] = true
	env := w.env(t)
	env.ExecuteWorkflow(RotateDCRToken, rotateInput(false))
	var res dcrflow.RotateResult
	if err := env.GetWorkflowResult(&res); err != nil || !res.SafeToRevoke || res.Providers[2].Outcome != dcrflow.RotationGone {
		t.Fatalf("result: %+v %v", res, err)
	}
}

// Canceled while providers are being validated on the new token: those in flight
// go back on the old token, those not started are skipped; none is left on the
// new token unvalidated.
func TestRotateDCRToken_CanceledMidwayLeavesNoneHalfRotated(t *testing.T) {
	w := newTokenWorld("p1", "p2", "p3")
	w.validateTakes = time.Minute
	env := w.env(t)
	env.RegisterDelayedCallback(env.CancelWorkflow, 30*time.Second)
	in := rotateInput(false)
	in.MaxConcurrent = 2
	env.ExecuteWorkflow(RotateDCRToken, in)
	var ce *temporal.CanceledError
	if err := env.GetWorkflowError(); !errors.As(err, &ce) {
		t.Fatalf("error: %v", err)
	}
	var res dcrflow.RotateResult
	if err := ce.Details(&res); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, p := range res.Providers {
		got = append(got, p.Provider+"="+p.Outcome)
	}
	if strings.Join(got, ",") != "prov-p1=reverted,prov-p2=reverted,prov-p3=skipped" {
		t.Fatalf("outcomes: %v", got)
	}
	for id, h := range w.holds {
		if h != "old" {
			t.Errorf("%s holds %s after the cancel", id, h)
		}
	}
}
