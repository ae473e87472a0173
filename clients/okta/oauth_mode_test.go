package okta

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/sandbox"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

const serviceAppID = "0oaSvcDcrflow000001"

// oauthHarness is a sandbox with one service app granted the given scopes and a
// client in private-key mode requesting want (nil: the defaults).
type oauthHarness struct {
	env  *sandboxtest.Env
	c    *Client
	pem  []byte
	auth *authRecorder
}

func startOAuth(t *testing.T, granted, want []string, lifetime int) *oauthHarness {
	t.Helper()
	pemKey, jwks, err := sbokta.NewServiceAppKey("kid-1")
	if err != nil {
		t.Fatal(err)
	}
	env := sandboxtest.Start(t, sandboxtest.WithFixture(func(fx *sandbox.Fixture) {
		fx.Okta.ServiceApps = append(fx.Okta.ServiceApps, sbokta.SeedServiceApp{ClientID: serviceAppID, JWKS: jwks,
			GrantedScopes: granted, TokenLifetimeSeconds: lifetime})
	}))
	rec := &authRecorder{base: env.HTTPClient.Transport}
	c, err := New(Config{OrgURL: env.OktaURL, AuthMode: AuthPrivateKey, RequestTimeout: 10 * time.Second,
		OAuth:      OAuthConfig{ClientID: serviceAppID, KeyID: "kid-1", PrivateKey: pemKey, Scopes: want},
		HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &oauthHarness{env: env, c: c, pem: pemKey, auth: rec}
}

func (h *oauthHarness) tokenRequests() int {
	n := 0
	for _, r := range h.env.Sandbox.Requests(0) {
		if r.Method == http.MethodPost && r.Path == "/oauth2/v1/token" {
			n++
		}
	}
	return n
}

// noKeyMaterial fails when s carries the key, an assertion or an access token.
func noKeyMaterial(t *testing.T, pemKey []byte, s string) {
	t.Helper()
	body := strings.Split(string(pemKey), "\n")[1]
	for _, bad := range []string{body, "PRIVATE KEY", "eyJ", "sbxoat."} {
		if strings.Contains(s, bad) {
			t.Errorf("%q leaks %q", s, bad)
		}
	}
}

func TestOAuthMode_ScopedTokenReadsAndWrites(t *testing.T) {
	h := startOAuth(t, []string{ScopeAuthServersRead, ScopeAuthServersManage}, nil, 0)
	if h.c.AuthMode() != AuthPrivateKey {
		t.Fatalf("mode %q", h.c.AuthMode())
	}
	as, err := h.c.GetAuthServer(ctx(t), sbokta.DefaultServerID)
	if err != nil {
		t.Fatalf("GetAuthServer: %v", err)
	}
	sc, err := h.c.CreateScope(ctx(t), as.ID, Scope{Name: "oauth:mode", Consent: ConsentImplicit})
	if err != nil {
		t.Fatalf("CreateScope: %v", err)
	}
	if err := h.c.DeleteScope(ctx(t), as.ID, sc.ID); err != nil {
		t.Fatalf("DeleteScope: %v", err)
	}
	if n := h.tokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1 (cached across calls)", n)
	}
	h.auth.mu.Lock()
	defer h.auth.mu.Unlock()
	for _, a := range h.auth.seen {
		if strings.HasPrefix(a, "SSWS") {
			t.Errorf("an SSWS header was sent in OAuth mode")
		}
	}
}

func TestOAuthMode_MissingManageScopeNamesIt(t *testing.T) {
	h := startOAuth(t, []string{ScopeAuthServersRead}, []string{ScopeAuthServersRead}, 0)
	if _, err := h.c.GetAuthServer(ctx(t), sbokta.DefaultServerID); err != nil {
		t.Fatalf("GetAuthServer with the read scope: %v", err)
	}
	_, err := h.c.CreateScope(ctx(t), sbokta.DefaultServerID, Scope{Name: "oauth:denied", Consent: ConsentImplicit})
	var oe *Error
	if !errors.As(err, &oe) || !IsInsufficientScope(err) || oe.MissingScope != ScopeAuthServersManage || oe.StatusCode != http.StatusForbidden {
		t.Fatalf("CreateScope = %#v, want 403 insufficient_scope for %s", err, ScopeAuthServersManage)
	}
	if !strings.Contains(err.Error(), ScopeAuthServersManage) || oe.Temporary() {
		t.Errorf("message %q must name the scope; temporary=%v", err, oe.Temporary())
	}
	noKeyMaterial(t, h.pem, err.Error())
}

func TestOAuthMode_ScopeNotGrantedFailsAtTheTokenRequest(t *testing.T) {
	h := startOAuth(t, []string{ScopeAuthServersRead}, nil, 0) // asks for manage too
	_, err := h.c.GetAuthServer(ctx(t), sbokta.DefaultServerID)
	var oe *Error
	if !errors.As(err, &oe) || !oe.TokenRequest || oe.Code != CodeInvalidScope || oe.StatusCode != http.StatusBadRequest {
		t.Fatalf("GetAuthServer = %#v, want a refused token request (invalid_scope)", err)
	}
	if !strings.Contains(err.Error(), ScopeAuthServersManage) || oe.Temporary() {
		t.Errorf("message %q must name the scope; temporary=%v", err, oe.Temporary())
	}
}

func TestOAuthMode_WrongKeyIsInvalidClient(t *testing.T) {
	h := startOAuth(t, []string{ScopeAuthServersRead}, []string{ScopeAuthServersRead}, 0)
	other, _, err := sbokta.NewServiceAppKey("kid-1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{OrgURL: h.env.OktaURL, AuthMode: AuthPrivateKey, HTTPClient: h.env.HTTPClient,
		OAuth: OAuthConfig{ClientID: serviceAppID, KeyID: "kid-1", PrivateKey: other, Scopes: []string{ScopeAuthServersRead}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetAuthServer(ctx(t), sbokta.DefaultServerID)
	var oe *Error
	if !errors.As(err, &oe) || !oe.TokenRequest || oe.Code != CodeInvalidClient || oe.StatusCode != http.StatusUnauthorized || !IsUnauthorized(err) {
		t.Fatalf("GetAuthServer = %#v, want 401 invalid_client at the token request", err)
	}
	if !strings.Contains(err.Error(), "okta.private_key_file") {
		t.Errorf("message %q should say what to check", err)
	}
	noKeyMaterial(t, other, err.Error())
}

func TestOAuthMode_TokenRenewedBeforeExpiry(t *testing.T) {
	// Tokens live 3 s; the SDK keeps one until 2 s before it expires, so a call a
	// second later must fetch a new one — and never be refused for an expired one.
	h := startOAuth(t, []string{ScopeAuthServersRead}, []string{ScopeAuthServersRead}, 3)
	deadline := time.Now().Add(10 * time.Second)
	calls := 0
	for h.tokenRequests() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no second token request within 10 s (%d calls, %d token requests)", calls, h.tokenRequests())
		}
		if _, err := h.c.GetAuthServer(ctx(t), sbokta.DefaultServerID); err != nil {
			t.Fatalf("call %d: %v", calls, err)
		}
		calls++
		time.Sleep(50 * time.Millisecond) // pacing the polling loop, bounded by the deadline
	}
	if calls < 3 {
		t.Errorf("only %d calls before renewal: the token was not cached", calls)
	}
	for _, r := range h.env.Sandbox.Requests(0) {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("a call was refused: %+v", r)
		}
	}
}

// failToken fails every token request as a dead network would, quoting the URL.
type failToken struct{ base http.RoundTripper }

func (f failToken) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/oauth2/v1/token") {
		return nil, errors.New("dial " + r.URL.String() + ": connection refused")
	}
	return f.base.RoundTrip(r)
}

func TestOAuthMode_TokenTransportFailureIsRetryableAndScrubbed(t *testing.T) {
	h := startOAuth(t, []string{ScopeAuthServersRead}, []string{ScopeAuthServersRead}, 0)
	c, err := New(Config{OrgURL: h.env.OktaURL, AuthMode: AuthPrivateKey, HTTPClient: &http.Client{Transport: failToken{h.env.HTTPClient.Transport}},
		OAuth: OAuthConfig{ClientID: serviceAppID, KeyID: "kid-1", PrivateKey: h.pem, Scopes: []string{ScopeAuthServersRead}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetAuthServer(ctx(t), sbokta.DefaultServerID)
	var oe *Error
	if !errors.As(err, &oe) || !oe.Temporary() || !oe.TokenRequest {
		t.Fatalf("GetAuthServer = %#v, want a temporary token-request failure", err)
	}
	noKeyMaterial(t, h.pem, err.Error())
	for e := error(oe); e != nil; e = errors.Unwrap(e) {
		noKeyMaterial(t, h.pem, e.Error())
	}
}

func TestOAuthMode_ConfigErrorsNeverQuoteTheKey(t *testing.T) {
	pemKey, _, err := sbokta.NewServiceAppKey("k")
	if err != nil {
		t.Fatal(err)
	}
	broken := []byte(strings.Replace(string(pemKey), "A", "B", 5))
	for name, cfg := range map[string]Config{
		"no client id": {OrgURL: "https://acme.okta.com", AuthMode: AuthPrivateKey, OAuth: OAuthConfig{PrivateKey: pemKey}},
		"not PEM":      {OrgURL: "https://acme.okta.com", AuthMode: AuthPrivateKey, OAuth: OAuthConfig{ClientID: "x", PrivateKey: []byte("secret-not-pem")}},
		"broken key":   {OrgURL: "https://acme.okta.com", AuthMode: AuthPrivateKey, OAuth: OAuthConfig{ClientID: "x", PrivateKey: broken}},
		"unknown mode": {OrgURL: "https://acme.okta.com", AuthMode: "Bearer", Token: "t"},
	} {
		_, err := New(cfg)
		if err == nil {
			t.Errorf("%s: New accepted it", name)
			continue
		}
		noKeyMaterial(t, pemKey, err.Error())
		if strings.Contains(err.Error(), "secret-not-pem") {
			t.Errorf("%s: %v quotes the key", name, err)
		}
	}
}
