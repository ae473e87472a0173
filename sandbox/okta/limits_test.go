package okta

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/sandbox/faults"
	"github.com/dcrflow/dcrflow/sandbox/ratelimit"
)

func resetIn(t *testing.T, h http.Header) time.Duration {
	t.Helper()
	reset, err := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if err != nil {
		t.Fatalf("X-Rate-Limit-Reset %q", h.Get("X-Rate-Limit-Reset"))
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		t.Fatalf("Date %q", h.Get("Date"))
	}
	return time.Unix(reset, 0).Sub(date)
}

func TestRateLimit_ManagementBucketRefusesWith429(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.mgmt.Set(ratelimit.Settings{PerMinute: 2})
	for i, remaining := range []string{"1", "0"} {
		r := h.mgmtCall(http.MethodGet, "/api/v1/authorizationServers/default", nil)
		if r.status != http.StatusOK || r.header.Get("X-Rate-Limit-Limit") != "2" || r.header.Get("X-Rate-Limit-Remaining") != remaining {
			t.Fatalf("call %d: %d limit %s remaining %s", i, r.status, r.header.Get("X-Rate-Limit-Limit"), r.header.Get("X-Rate-Limit-Remaining"))
		}
	}
	r := h.mgmtCall(http.MethodGet, "/api/v1/authorizationServers/default", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("third call: %d %v", r.status, r.header)
	}
	if e := r.oktaErr(t); e.ErrorCode != "E0000047" || e.ErrorSummary != "API call exceeded rate limit due to too many requests." {
		t.Errorf("body %+v", e)
	}
	if wait := resetIn(t, r.header); wait <= 0 || wait > 61*time.Second {
		t.Errorf("reset in %v", wait)
	}
	// Other buckets are untouched.
	if r := h.call(http.MethodGet, "/oauth2/v1/clients", DefaultDCRToken, nil); r.status != http.StatusOK {
		t.Errorf("DCR bucket refused: %d", r.status)
	}
	if r := h.call(http.MethodGet, "/oauth2/default/v1/keys", "", nil); r.status != http.StatusOK || r.header.Get("X-Rate-Limit-Limit") != "" {
		t.Errorf("keys: %d, limit header %q", r.status, r.header.Get("X-Rate-Limit-Limit"))
	}
}

// The authorization servers' token endpoints have their own bucket (a real org's
// binds too): over it, 429 with the rate headers; the other buckets are untouched.
func TestRateLimit_TokenBucketIsSeparate(t *testing.T) {
	t.Parallel()
	h := start(t)
	id, secret := h.register("token-bucket")
	h.token.Set(ratelimit.Settings{PerMinute: 1})
	// The first request reaches the endpoint (which refuses it for want of a policy:
	// any answer but 429 tells), the second the bucket's 429.
	if r := h.tokenCall("default", ccForm(""), id, secret); r.status == http.StatusTooManyRequests || r.header.Get("X-Rate-Limit-Limit") != "1" {
		t.Fatalf("first token: %d, limit %q", r.status, r.header.Get("X-Rate-Limit-Limit"))
	}
	r := h.tokenCall("default", ccForm(""), id, secret)
	if r.status != http.StatusTooManyRequests || r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("second token: %d %v", r.status, r.header)
	}
	if wait := resetIn(t, r.header); wait <= 0 || wait > 61*time.Second {
		t.Errorf("reset in %v", wait)
	}
	if r := h.mgmtCall(http.MethodGet, "/api/v1/authorizationServers/default", nil); r.status != http.StatusOK {
		t.Errorf("management bucket refused: %d", r.status)
	}
	if r := h.call(http.MethodGet, "/oauth2/v1/clients", DefaultDCRToken, nil); r.status != http.StatusOK {
		t.Errorf("DCR bucket refused: %d", r.status)
	}
}

func TestRateLimit_DCRBucketIsSeparate(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.dcr.Set(ratelimit.Settings{PerMinute: 1})
	h.register("first")
	r := h.call(http.MethodGet, "/oauth2/v1/clients", DefaultDCRToken, nil)
	if r.status != http.StatusTooManyRequests || r.oktaErr(t).ErrorCode != "E0000047" {
		t.Fatalf("second DCR call: %d %s", r.status, r.body)
	}
	if r := h.mgmtCall(http.MethodGet, "/api/v1/authorizationServers", nil); r.status != http.StatusOK {
		t.Errorf("management refused: %d", r.status)
	}
}

func TestWriteError_FormatsPerEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, path string
		status     int
		code       string // errorCode or OAuth error
	}{
		{"management 500", "/api/v1/authorizationServers", 500, "E0000009"},
		{"management 503", "/api/v1/authorizationServers", 503, "E0000009"},
		{"management 404", "/api/v1/authorizationServers/x", 404, "E0000007"},
		{"dcr 400", "/oauth2/v1/clients", 400, "invalid_client_metadata"},
		{"token 500", "/oauth2/default/v1/token", 500, "server_error"},
		{"token 401", "/oauth2/default/v1/token", 401, "invalid_client"},
		{"token 429", "/oauth2/default/v1/token", 429, "E0000047"},
	} {
		rec := httptest.NewRecorder()
		WriteError(rec, httptest.NewRequest(http.MethodGet, tc.path, nil), tc.status, 0)
		r := reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		if r.status != tc.status || r.header.Get("X-Okta-Request-Id") == "" || r.header.Get("Date") == "" {
			t.Fatalf("%s: %d %v", tc.name, r.status, r.header)
		}
		if tc.code[0] == 'E' {
			if e := r.oktaErr(t); e.ErrorCode != tc.code {
				t.Errorf("%s: %+v", tc.name, e)
			}
		} else if e := r.oauthErr(t); e.Error != tc.code {
			t.Errorf("%s: %+v", tc.name, e)
		}
	}
}

func TestWriteError_InjectedRateLimitNamesTheWait(t *testing.T) {
	t.Parallel()
	h := start(t)
	var in faults.Injector
	srv := httptest.NewServer(in.Wrap(h.em, WriteError))
	t.Cleanup(srv.Close)
	if _, err := in.Add(faults.Fault{Path: "/api/v1/**", Status: 429, Count: 1, RetryAfterSeconds: 7}); err != nil {
		t.Fatal(err)
	}
	r := h.mgmtCall(http.MethodGet, srv.URL+"/api/v1/authorizationServers", nil)
	if r.status != http.StatusTooManyRequests || r.oktaErr(t).ErrorCode != "E0000047" || r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("injected: %d %v %s", r.status, r.header, r.body)
	}
	if wait := resetIn(t, r.header); wait < 7*time.Second || wait > 8*time.Second {
		t.Errorf("reset in %v, want 7-8s", wait)
	}
	if r := h.mgmtCall(http.MethodGet, srv.URL+"/api/v1/authorizationServers", nil); r.status != http.StatusOK {
		t.Errorf("after the fault: %d", r.status)
	}
}
