package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// dcrStatus is the status and Okta error code of GET /oauth2/v1/clients with token.
func dcrStatus(t *testing.T, env *sandboxtest.Env, token string) (int, string) {
	t.Helper()
	resp := get(t, env.OktaURL+"/oauth2/v1/clients?limit=1", "SSWS "+token)
	var body struct {
		ErrorCode    string `json:"errorCode"`
		ErrorSummary string `json:"errorSummary"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &body)
	if resp.StatusCode == 401 && body.ErrorSummary != "Invalid token provided" {
		t.Fatalf("401 summary %q, want Okta's \"Invalid token provided\"", body.ErrorSummary)
	}
	return resp.StatusCode, body.ErrorCode
}

func tokenState(t *testing.T, env *sandboxtest.Env, token string) string {
	t.Helper()
	list, err := env.Control.DCRTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Fingerprint == okta.Fingerprint(token) {
			return s.State
		}
	}
	return "absent"
}

func TestControl_DCRTokenAddRevokeExpire(t *testing.T) {
	env := sandboxtest.Start(t)
	ctx := context.Background()
	const next = "00sbxNextTokenForRotationAbCdEfGhIjKlMnOpQr"
	if st, code := dcrStatus(t, env, next); st != 401 || code != "E0000011" {
		t.Fatalf("unknown token: %d %s, want 401 E0000011", st, code)
	}
	if err := env.Control.AddDCRToken(ctx, next); err != nil {
		t.Fatal(err)
	}
	if st, _ := dcrStatus(t, env, next); st != 200 {
		t.Fatalf("added token: %d, want 200", st)
	}
	if err := env.Control.RevokeDCRToken(ctx, next); err != nil {
		t.Fatal(err)
	}
	if st, code := dcrStatus(t, env, next); st != 401 || code != "E0000011" {
		t.Fatalf("revoked token: %d %s, want 401 E0000011", st, code)
	}
	if got := tokenState(t, env, next); got != okta.TokenRevoked {
		t.Fatalf("state %s, want revoked", got)
	}
	// The seed's token still works; expired now, it does not.
	if st, _ := dcrStatus(t, env, okta.DefaultDCRToken); st != 200 {
		t.Fatalf("default token: %d", st)
	}
	if err := env.Control.ExpireDCRToken(ctx, okta.DefaultDCRToken); err != nil {
		t.Fatal(err)
	}
	if st, code := dcrStatus(t, env, okta.DefaultDCRToken); st != 401 || code != "E0000011" {
		t.Fatalf("expired token: %d %s, want 401 E0000011", st, code)
	}
	if err := env.Control.RevokeDCRToken(ctx, "never-added"); err == nil {
		t.Fatal("revoking an unknown token: no error")
	}
	// The list shows fingerprints only.
	raw, _ := json.Marshal(must(env.Control.DCRTokens(ctx)))
	if bytes.Contains(raw, []byte(next)) || bytes.Contains(raw, []byte(okta.DefaultDCRToken)) {
		t.Fatalf("token list shows a token: %s", raw)
	}
	// Reset brings the seed back.
	if err := env.Control.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := dcrStatus(t, env, okta.DefaultDCRToken); st != 200 {
		t.Fatalf("after reset: %d", st)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Okta expires an API token unused for 30 days; a use keeps it alive.
func TestControl_DCRTokenExpiresAfter30DaysUnused(t *testing.T) {
	env := sandboxtest.Start(t)
	ctx := context.Background()
	const other = "00sbxOtherTokenUnusedAbCdEfGhIjKlMnOpQrStU"
	if err := env.Control.AddDCRToken(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := env.Control.AdvanceOktaClock(ctx, 29*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if st, _ := dcrStatus(t, env, okta.DefaultDCRToken); st != 200 { // used on day 29
		t.Fatalf("day 29: %d", st)
	}
	if err := env.Control.AdvanceOktaClock(ctx, 2*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := tokenState(t, env, other); got != okta.TokenExpired {
		t.Fatalf("unused for 31 days: %s, want expired", got)
	}
	if st, code := dcrStatus(t, env, other); st != 401 || code != "E0000011" {
		t.Fatalf("unused for 31 days: %d %s, want 401 E0000011", st, code)
	}
	if st, _ := dcrStatus(t, env, okta.DefaultDCRToken); st != 200 {
		t.Fatalf("used 2 days ago: %d, want 200", st)
	}
	resp, err := http.Post(env.OktaURL+"/_sandbox/okta/clock", "application/json", strings.NewReader(`{"advance":"-1h"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("negative advance: %d, want 400", resp.StatusCode)
	}
}
