package okta

import (
	"context"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"testing"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/dcrflow/dcrflow/sandbox/faults"
)

// authRecorder notes the Authorization header of every request.
type authRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (a *authRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.seen = append(a.seen, r.Header.Get("Authorization"))
	a.mu.Unlock()
	return a.base.RoundTrip(r)
}

// TestConfig_EnvironmentAndYAMLCannotChangeBehaviour sets every OKTA_* variable
// and an okta.yaml that would switch the SDK to Bearer auth, another org and
// token, its cache on and five 429 retries; the client must ignore all of it.
//
// The SDK finds okta.yaml through os/user.Current, which reads the passwd
// database (cgo getpwuid_r, or /etc/passwd without cgo) and ignores $HOME, so the
// file written under a temporary HOME is only read where the test's user has that
// home. Either way the SDK applies explicit options after the file and the
// environment, which is what this test proves with the environment.
func TestConfig_EnvironmentAndYAMLCannotChangeBehaviour(t *testing.T) { // not parallel: t.Setenv
	home := t.TempDir()
	yaml := "okta:\n  client:\n    orgUrl: https://evil.example.com\n    token: 00yamlToken\n    authorizationMode: Bearer\n" +
		"    cache:\n      enabled: true\n    rateLimit:\n      maxRetries: 5\n  testing:\n    disableHttpsCheck: true\n"
	if err := os.MkdirAll(filepath.Join(home, ".okta"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".okta", "okta.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	if u, err := user.Current(); err == nil && u.HomeDir != home {
		t.Logf("os/user reports home %s, not $HOME: okta.yaml under $HOME is not read here", u.HomeDir)
	}
	for k, v := range map[string]string{
		"OKTA_CLIENT_AUTHORIZATIONMODE":      "Bearer",
		"OKTA_CLIENT_TOKEN":                  "00envToken",
		"OKTA_CLIENT_ORGURL":                 "https://evil.example.com",
		"OKTA_CLIENT_CACHE_ENABLED":          "true",
		"OKTA_CLIENT_RATE_LIMIT_MAX_RETRIES": "5",
		"OKTA_CLIENT_RATE_LIMIT_MAX_BACKOFF": "60",
		"OKTA_CLIENT_REQUEST_TIMEOUT":        "1",
		"OKTA_TESTING_DISABLE_HTTPS_CHECK":   "true",
	} {
		t.Setenv(k, v)
	}

	// The variables are in force: an SDK client built the usual way takes them.
	_, bare, err := oktasdk.NewClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m := bare.GetConfig().Okta.Client; m.AuthorizationMode != "Bearer" || !m.Cache.Enabled || m.RateLimit.MaxRetries != 5 {
		t.Fatalf("the environment did not reach the SDK (mode %s cache %v retries %d): the test proves nothing",
			m.AuthorizationMode, m.Cache.Enabled, m.RateLimit.MaxRetries)
	}

	h := start(t)
	rec := &authRecorder{base: h.env.HTTPClient.Transport}
	c := h.client(mgmtToken, &http.Client{Transport: rec})

	cfg := c.sdk.GetConfig()
	if cfg.Okta.Client.AuthorizationMode != "SSWS" || cfg.Okta.Client.Cache.Enabled || cfg.Okta.Client.RateLimit.MaxRetries != 0 ||
		cfg.Okta.Client.OrgUrl != h.env.OktaURL || cfg.Okta.Client.Token != mgmtToken || cfg.Okta.Client.RequestTimeout != 10 {
		t.Errorf("SDK config took outside values: mode %s cache %v retries %d org %s timeout %d",
			cfg.Okta.Client.AuthorizationMode, cfg.Okta.Client.Cache.Enabled, cfg.Okta.Client.RateLimit.MaxRetries,
			cfg.Okta.Client.OrgUrl, cfg.Okta.Client.RequestTimeout)
	}

	// No cache: two identical lists are two calls, each with the SSWS header.
	since := h.mark()
	for range 2 {
		if _, err := c.ListScopes(ctx(t), "default"); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.hits(since, http.MethodGet, serversPath+"/default/scopes"); n != 2 {
		t.Errorf("two lists reached the server %d times", n)
	}
	for _, a := range rec.seen {
		if a != "SSWS "+mgmtToken {
			t.Errorf("Authorization %q", a)
		}
	}

	// No retries: a 429 is answered at once, after one call.
	h.fault(faults.Fault{Path: serversPath + "/**", Status: 429, Count: 5, RetryAfterSeconds: 1})
	since = h.mark()
	if _, err := c.GetAuthServer(ctx(t), "default"); !IsRateLimited(err) {
		t.Errorf("429: %v", err)
	}
	if n := h.hits(since, http.MethodGet, serversPath); n != 1 {
		t.Errorf("429 reached the server %d times", n)
	}
	// And the environment did not lift the https check for a real host.
	if _, err := New(Config{OrgURL: "http://acme.okta.com", Token: "t"}); err == nil {
		t.Error("plain http to a non-loopback host accepted")
	}
}
