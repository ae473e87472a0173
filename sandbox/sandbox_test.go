package sandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow/sandbox"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	"github.com/dcrflow/dcrflow/sandbox/konnect"
	"github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/ratelimit"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

func get(t *testing.T, url, auth string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func oktaAuth() string    { return "SSWS " + okta.DefaultManagementToken }
func konnectAuth() string { return "Bearer " + konnect.DefaultToken }

func TestControl_FaultsThroughHTTPHitTheRightSystem(t *testing.T) {
	env := sandboxtest.Start(t)
	ctx := context.Background()
	f, err := env.Control.AddFault(ctx, faults.Fault{Method: "GET", Path: "/v3/portals", Status: 503, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if resp := get(t, env.KonnectURL+"/v3/portals", konnectAuth()); resp.StatusCode != 503 || resp.Header.Get(faults.HeaderInjected) != f.ID {
		t.Fatalf("first call: %d %q, want injected 503", resp.StatusCode, resp.Header.Get(faults.HeaderInjected))
	}
	if ct := get(t, env.KonnectURL+"/v3/portals", konnectAuth()); ct.StatusCode != 200 {
		t.Fatalf("second call: %d, want 200 (fault spent)", ct.StatusCode)
	}
	list, err := env.Control.Faults(ctx)
	if err != nil || len(list) != 1 || list[0].Hits != 1 {
		t.Fatalf("faults after use: %+v %v", list, err)
	}
	if _, err := env.Control.AddFault(ctx, faults.Fault{Status: 200}); err == nil {
		t.Fatal("control API accepted a fault with status 200")
	}
}

func TestControl_RequestLogRecordsEveryCall(t *testing.T) {
	env := sandboxtest.Start(t)
	ctx := context.Background()
	get(t, env.OktaURL+"/api/v1/authorizationServers/default", oktaAuth())
	get(t, env.KonnectURL+"/v3/apis", "Bearer kpat_wrong")
	reqs, err := env.Control.Requests(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 2 {
		t.Fatalf("logged %d requests, want 2: %+v", len(reqs), reqs)
	}
	if reqs[0].System != "okta" || reqs[0].Status != 200 || reqs[1].System != "konnect" || reqs[1].Status != 401 {
		t.Fatalf("log = %+v", reqs)
	}
	newer, err := env.Control.Requests(ctx, reqs[0].Seq)
	if err != nil || len(newer) != 1 || newer[0].Seq != reqs[1].Seq {
		t.Fatalf("since filter: %+v %v", newer, err)
	}
}

func TestControl_RateLimitsAndResetRestoreTheFixture(t *testing.T) {
	env := sandboxtest.Start(t)
	ctx := context.Background()
	if err := env.Control.SetRateLimits(ctx, sandbox.RateLimits{Konnect: ratelimit.Settings{PerMinute: 1}}); err != nil {
		t.Fatal(err)
	}
	get(t, env.KonnectURL+"/v3/apis", konnectAuth())
	if resp := get(t, env.KonnectURL+"/v3/apis", konnectAuth()); resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over budget: %d Retry-After=%q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if err := env.Control.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if resp := get(t, env.KonnectURL+"/v3/apis", konnectAuth()); resp.StatusCode != 200 {
		t.Fatalf("after reset: %d, want 200 (fixture has no limit)", resp.StatusCode)
	}
	reqs, _ := env.Control.Requests(ctx, 0)
	if len(reqs) != 1 {
		t.Fatalf("reset kept the request log: %d entries", len(reqs))
	}
}

func TestControl_StateHasBothSystemsAndNoSecrets(t *testing.T) {
	env := sandboxtest.Start(t)
	resp := get(t, env.OktaURL+"/_sandbox/state", "")
	var state map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&state); err != nil {
		t.Fatal(err)
	}
	if len(state["okta"]) < 3 || len(state["konnect"]) < 3 {
		t.Fatalf("state lacks a system: %v", state)
	}
	all := string(state["okta"]) + string(state["konnect"])
	for _, secret := range []string{okta.DefaultManagementToken, okta.DefaultDCRToken, konnect.DefaultToken} {
		if strings.Contains(all, secret) {
			t.Fatalf("state exposes a token")
		}
	}
}

func TestLoadFixture_StrictAndKeepsDefaults(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"rate_limits":{"okta_dcr":{"per_minute":25}}}`), 0o644)
	fx, err := sandbox.LoadFixture(good)
	if err != nil {
		t.Fatal(err)
	}
	if fx.RateLimits.OktaDCR.PerMinute != 25 || len(fx.Konnect.Portals) == 0 || len(fx.Okta.AuthorizationServers) == 0 {
		t.Fatalf("fixture = %+v", fx.RateLimits)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"rate_limit":{}}`), 0o644)
	if _, err := sandbox.LoadFixture(bad); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("unknown field: err = %v, want one naming the file", err)
	}
}
