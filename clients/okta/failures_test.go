package okta

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/sandbox"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	"github.com/dcrflow/dcrflow/sandbox/ratelimit"
)

const serversPath = "/api/v1/authorizationServers"

func TestFailures_BadManagementTokenIsUnauthorized(t *testing.T) {
	t.Parallel()
	h := start(t)
	const bad = "00thisIsNotAValidTokenAtAll0000000000000000"
	c := h.client(bad, h.env.HTTPClient) // the spec lists no 401 for these operations; Okta sends one
	for name, call := range map[string]func() error{
		"GetAuthServer": func() error { _, err := c.GetAuthServer(ctx(t), "default"); return err },
		"ListScopes":    func() error { _, err := c.ListScopes(ctx(t), "default"); return err },
		"CreateClaim": func() error {
			_, err := c.CreateClaim(ctx(t), "default", Claim{Name: "x", Status: StatusActive, ClaimType: ClaimTypeResource,
				ValueType: ValueTypeExpression, Value: "app.clientId"})
			return err
		},
	} {
		err := call()
		e := asErr(t, err)
		if !IsUnauthorized(err) || e.StatusCode != 401 || e.Code != CodeInvalidToken || e.Summary != "Invalid token provided" || e.Temporary() {
			t.Errorf("%s: %+v", name, e)
		}
		noSecrets(t, err, bad, mgmtToken)
	}
	// A DCR token does not open the management API either.
	_, err := h.client(dcrToken, h.env.HTTPClient).GetAuthServer(ctx(t), "default")
	if !IsUnauthorized(err) {
		t.Errorf("DCR token on /api/v1: %v", err)
	}
	noSecrets(t, err, dcrToken)
}

func TestFailures_BadDCRTokenIsUnauthorized(t *testing.T) {
	t.Parallel()
	h := start(t)
	c := h.client(mgmtToken, h.env.HTTPClient)
	reg := ClientRegistration{ClientName: "x", ApplicationType: "service", GrantTypes: []string{"client_credentials"}}
	for _, token := range []string{"00notADcrToken000000000000000000000000000", mgmtToken} {
		_, err := c.RegisterClient(ctx(t), token, reg)
		if e := asErr(t, err); !IsUnauthorized(err) || e.Code != CodeInvalidToken {
			t.Errorf("token %.6s…: %+v", token, e)
		}
		noSecrets(t, err, token)
	}
}

func TestFailures_RateLimitIsNotRetriedAndNamesTheWait(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.fault(faults.Fault{Method: http.MethodGet, Path: serversPath + "/*", Status: 429, Count: 3, RetryAfterSeconds: 7})
	since := h.mark()
	_, err := h.c.GetAuthServer(ctx(t), "default")
	e := asErr(t, err)
	if !IsRateLimited(err) || !e.Temporary() || e.Code != CodeRateLimited {
		t.Fatalf("429: %+v", e)
	}
	wait, ok := RetryAfter(err)
	if !ok || wait < 7*time.Second || wait > 8*time.Second {
		t.Errorf("RetryAfter %v %v, want 7-8s", wait, ok)
	}
	if n := h.hits(since, http.MethodGet, serversPath); n != 1 {
		t.Errorf("%d calls reached the server; the client must not retry", n)
	}
	noSecrets(t, err, mgmtToken)
}

func TestFailures_SpentBudgetWaitsForTheWindow(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.env.Sandbox.SetRateLimits(sandbox.RateLimits{OktaManagement: ratelimit.Settings{PerMinute: 1}})
	if _, err := h.c.GetAuthServer(ctx(t), "default"); err != nil {
		t.Fatal(err)
	}
	since := h.mark()
	_, err := h.c.ListScopes(ctx(t), "default")
	wait, ok := RetryAfter(err)
	if !IsRateLimited(err) || !ok || wait <= 0 || wait > 61*time.Second {
		t.Errorf("spent budget: %v (wait %v)", err, wait)
	}
	if n := h.hits(since, http.MethodGet, serversPath); n != 1 {
		t.Errorf("%d calls reached the server", n)
	}
	// The 429 is seen by observers too, with its headers.
	infos := h.observed("ListScopes")
	if len(infos) != 1 || infos[0].StatusCode != 429 || infos[0].RateLimit.Limit != 1 || infos[0].RateLimit.Remaining != 0 {
		t.Errorf("observed %+v", infos)
	}
}

func TestFailures_ServerErrorsAreTemporary(t *testing.T) {
	t.Parallel()
	h := start(t)
	for _, status := range []int{500, 503} {
		h.fault(faults.Fault{Path: serversPath + "/*/scopes", Status: status, Count: 1})
		_, err := h.c.ListScopes(ctx(t), "default")
		e := asErr(t, err)
		if e.StatusCode != status || !e.Temporary() || e.Code != "E0000009" || e.RequestID == "" || IsRateLimited(err) {
			t.Errorf("%d: %+v", status, e)
		}
		noSecrets(t, err, mgmtToken)
	}
}

func TestFailures_DroppedConnectionIsTemporaryWithoutStatus(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.fault(faults.Fault{Method: http.MethodPost, Path: serversPath + "/*/scopes", Drop: true, Count: 1})
	since := h.mark()
	_, err := h.c.CreateScope(ctx(t), "default", Scope{Name: "dropped"})
	e := asErr(t, err)
	if e.StatusCode != 0 || !e.Temporary() || IsNotFound(err) {
		t.Fatalf("drop: %+v", e)
	}
	// The SDK retries io.EOF at once and without bound; the client turns that off.
	if n := h.hits(since, http.MethodPost, serversPath); n != 1 {
		t.Errorf("%d calls reached the server", n)
	}
	noSecrets(t, err, mgmtToken)
	if _, err := h.c.CreateScope(ctx(t), "default", Scope{Name: "dropped"}); err != nil {
		t.Errorf("after the fault: %v", err)
	}
}

func TestFailures_TimeoutIsTemporaryCancelIsNot(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.fault(faults.Fault{Path: serversPath + "/**", LatencyMS: 2000})
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := h.c.GetAuthServer(short, "default")
	if e := asErr(t, err); !e.Temporary() || e.StatusCode != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %+v", e)
	}
	canceled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	_, err = h.c.GetAuthServer(canceled, "default")
	if e := asErr(t, err); e.Temporary() || !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %+v", e)
	}
}
