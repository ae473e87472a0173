package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/ratelimit"
)

// A name several Konnect resources share is no transient fault: no retry picks one.
func TestAPIError_AnAmbiguousNameIsAConflictNotRetried(t *testing.T) {
	err := apiError("find DCR provider twice", fmt.Errorf("2 DCR providers named \"twice\": %w", konnect.ErrAmbiguous))
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != dcrflow.ErrTypeConflict || !app.NonRetryable() {
		t.Fatalf("err = %v", err)
	}
}

// Errors are classed by what they are: only transport faults, 5xx, 429 and timeouts
// are retried; a refusal that will repeat (a call refused before it was sent, an
// answer that cannot be used) fails at once, with the client's words.
func TestAPIError_ClassesClientErrorsByWhatTheyAre(t *testing.T) {
	ctx := context.Background()
	// An Okta org whose scope list links to itself, a Konnect region whose answers
	// do not decode, and one that does not listen.
	var oktaURL string
	okSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<`+oktaURL+r.URL.Path+`?after=x>; rel="next"`)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"id":"s1","name":"a"}]`)
	}))
	defer okSrv.Close()
	oktaURL = okSrv.URL
	oc, err := okta.New(okta.Config{OrgURL: okSrv.URL, Token: "00" + strings.Repeat("a", 40)})
	if err != nil {
		t.Fatal(err)
	}
	garbled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [`)
	}))
	defer garbled.Close()
	kc, err := konnect.New(konnect.Config{BaseURL: garbled.URL, Token: "kpat_x"})
	if err != nil {
		t.Fatal(err)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	kdead, err := konnect.New(konnect.Config{BaseURL: dead.URL, Token: "kpat_x"})
	if err != nil {
		t.Fatal(err)
	}
	_, nextRepeats := oc.ListScopes(ctx, "default")
	_, emptyOktaID := oc.FindScope(ctx, "default", "")
	_, emptyKonnectID := kc.AuthStrategies.Get(ctx, "")
	_, undecodable := kc.Portals.Get(ctx, "p")
	_, refused := kdead.Portals.Get(ctx, "p")
	for _, c := range []struct {
		name      string
		err       error
		typ       string
		retryable bool
	}{
		{"Okta's next link repeats", nextRepeats, dcrflow.ErrTypeClient, false},
		{"empty Okta id", emptyOktaID, dcrflow.ErrTypeClient, false},
		{"empty Konnect id", emptyKonnectID, dcrflow.ErrTypeClient, false},
		{"a body that does not decode", undecodable, dcrflow.ErrTypeClient, false},
		{"connection refused", refused, dcrflow.ErrTypeTransient, true},
		{"a timeout", fmt.Errorf("call: %w", context.DeadlineExceeded), dcrflow.ErrTypeTransient, true},
		{"a 503", &konnect.Error{Op: "x", StatusCode: 503}, dcrflow.ErrTypeTransient, true},
		{"a 429", &okta.Error{Op: "x", StatusCode: 429, RetryAfter: 3 * time.Second}, dcrflow.ErrTypeRateLimited, true},
		{"a 400", &konnect.Error{Op: "x", StatusCode: 400}, dcrflow.ErrTypeInvalid, false},
		{"a budget too small for the request", &konnect.Error{Op: "verify-dcr-provider", Err: &ratelimit.ErrTooSmall{System: ratelimit.OktaDCR, Slots: 2,
			Budget: 50, Workers: 8, Rate: 6.1, Need: 9800 * time.Millisecond, StepWait: 7500 * time.Millisecond, MinBudget: 66, MaxWorkers: 6}},
			dcrflow.ErrTypeConfig, false},
	} {
		if c.err == nil {
			t.Fatalf("%s: the client returned no error", c.name)
		}
		var app *temporal.ApplicationError
		if err := apiError("step", c.err); !errors.As(err, &app) || app.Type() != c.typ || app.NonRetryable() == c.retryable {
			t.Errorf("%s (%v): got %v, want type %s, retryable %v", c.name, c.err, err, c.typ, c.retryable)
		} else if !strings.Contains(app.Message(), c.err.Error()) {
			t.Errorf("%s: message %q lacks the client's words %q", c.name, app.Message(), c.err)
		}
	}
}
