package activities_test

import (
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/sandbox"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// Konnect's spec allows both answers to a failed verify: 200 with status "failed",
// or a 4xx. Both must be the same clear, final failure naming the provider and what
// to check — never a generic error, never "not visible yet" retried.
func TestVerifyDCRProvider_FailureAs200OrAs4xxIsTheSameClearFailure(t *testing.T) {
	for _, status := range []int{0, 403, 404} { // the 4xx the spec documents for verify
		h := newHarness(t, sandboxtest.WithFixture(func(fx *sandbox.Fixture) { fx.Konnect.VerifyFailureStatus = status }))
		in := activities.ProviderInput{Name: "dcrflow-bad", Issuer: h.sb.OktaURL + "/oauth2/default", TokenName: "wrong", PortalKey: "p"}
		r, err := call[dcrflow.Resource](h, a.EnsureDCRProvider, in)
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.env.ExecuteActivity(a.VerifyDCRProvider, activities.KonnectResourceInput{ID: r.ID, Name: in.Name})
		typ, retry := errType(t, err)
		if typ != dcrflow.ErrTypeConflict || retry || !strings.Contains(err.Error(), `DCR provider "dcrflow-bad"`) ||
			!strings.Contains(err.Error(), "check its DCR token and issuer") || strings.Contains(err.Error(), "not visible yet") {
			t.Errorf("verify failure answered as %d: %v (type %s, retryable %v)", status, err, typ, retry)
		}
		if strings.Contains(err.Error(), "00sbxNotARealToken") {
			t.Errorf("verify failure answered as %d shows the DCR token", status)
		}
	}
}

// A 404 from verify for a provider Konnect does not show (yet) stays "not visible
// yet", retried, as for every fresh reference.
func TestVerifyDCRProvider_404ForAMissingProviderIsRetried(t *testing.T) {
	h := newHarness(t, sandboxtest.WithFixture(func(fx *sandbox.Fixture) { fx.Konnect.VerifyFailureStatus = 404 }))
	_, err := h.env.ExecuteActivity(a.VerifyDCRProvider, activities.KonnectResourceInput{ID: "7f9fd312-a987-4628-b4c5-bb4f4fddd5f7", Name: "gone"})
	if typ, retry := errType(t, err); typ != dcrflow.ErrTypeTransient || !retry || !strings.Contains(err.Error(), "not visible yet") {
		t.Fatalf("verify of a missing provider: %v (%s, %v)", err, typ, retry)
	}
}

// A verify that failed because Okta answered Konnect 429 or 5xx, or dropped the
// connection (Konnect calls Okta's DCR endpoint with the provider's token), is
// retried: it says nothing about the token or the issuer. Answered as 200 "failed"
// or as a 4xx alike.
func TestVerifyDCRProvider_OktaUnavailableToKonnectIsRetried(t *testing.T) {
	for _, status := range []int{0, 403} {
		for _, f := range []faults.Fault{{Status: 503}, {Status: 429, RetryAfterSeconds: 1}, {Drop: true}} {
			h := newHarness(t, sandboxtest.WithFixture(func(fx *sandbox.Fixture) { fx.Konnect.VerifyFailureStatus = status }))
			in := activities.ProviderInput{Name: "dcrflow-flaky", Issuer: h.sb.OktaURL + "/oauth2/default", TokenName: "default", PortalKey: "p"}
			r, err := call[dcrflow.Resource](h, a.EnsureDCRProvider, in)
			if err != nil {
				t.Fatal(err)
			}
			f.Method, f.Path, f.Count = "POST", "/oauth2/v1/clients", 1
			if _, err := h.sb.Sandbox.Faults.Add(f); err != nil {
				t.Fatal(err)
			}
			_, err = h.env.ExecuteActivity(a.VerifyDCRProvider, activities.KonnectResourceInput{ID: r.ID, Name: in.Name})
			if typ, retry := errType(t, err); typ != dcrflow.ErrTypeTransient || !retry || !strings.Contains(err.Error(), "Okta was unavailable") {
				t.Errorf("verify (answered as %d) while Okta answers Konnect %+v: %v (type %s, retryable %v)", status, f, err, typ, retry)
			}
			// The fault spent, the retry passes.
			if _, err := h.env.ExecuteActivity(a.VerifyDCRProvider, activities.KonnectResourceInput{ID: r.ID, Name: in.Name}); err != nil {
				t.Errorf("verify after the fault: %v", err)
			}
		}
	}
}
