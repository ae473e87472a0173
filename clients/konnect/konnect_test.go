package konnect

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
)

const testToken = "kpat_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"

func TestNew_RegionMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		region, base, want string
	}{
		{"us", "", "https://us.api.konghq.com"},
		{"eu", "", "https://eu.api.konghq.com"},
		{"au", "", "https://au.api.konghq.com"},
		{"me", "", "https://me.api.konghq.com"},
		{"in", "", "https://in.api.konghq.com"},
		{"sg", "", "https://sg.api.konghq.com"},
		{" EU ", "", "https://eu.api.konghq.com"},
		{"us", "https://proxy.example.com/konnect/", "https://proxy.example.com/konnect"},
		{"", "http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"", "http://127.1.2.3:8080", "http://127.1.2.3:8080"},
		{"", "http://localhost:9", "http://localhost:9"},
		{"", "http://[::1]:9", "http://[::1]:9"},
	}
	for _, tt := range tests {
		t.Run(tt.region+"|"+tt.base, func(t *testing.T) {
			t.Parallel()
			c, err := New(Config{Region: tt.region, BaseURL: tt.base, Token: testToken})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if c.BaseURL() != tt.want {
				t.Fatalf("base %q, want %q", c.BaseURL(), tt.want)
			}
		})
	}
}

func TestNew_Validation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no base", Config{Token: testToken}, "set Region"},
		{"unknown region", Config{Region: "mars", Token: testToken}, "valid: us, eu, au, me, in, sg"},
		{"global is not regional", Config{Region: "global", Token: testToken}, "unknown region"},
		{"plain http remote", Config{BaseURL: "http://konnect.example.com", Token: testToken}, "loopback"},
		{"relative base", Config{BaseURL: "/v2", Token: testToken}, "absolute"},
		{"other scheme", Config{BaseURL: "ftp://127.0.0.1", Token: testToken}, "absolute"},
		{"query in base", Config{BaseURL: "https://x.example.com?a=b", Token: testToken}, "query"},
		{"no token", Config{Region: "us"}, "token is required"},
		{"okta-style token", Config{Region: "us", Token: "00abcdefghijklmnop"}, "kpat_"},
		{"prefix only", Config{Region: "us", Token: "spat_"}, "malformed"},
		{"token with space", Config{Region: "us", Token: "kpat_abc def"}, "malformed"},
		{"negative timeout", Config{Region: "us", Token: testToken, Timeout: -time.Second}, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			mustNotContain(t, "New error", err.Error(), tt.cfg.Token)
		})
	}
	if _, err := New(Config{Region: "us", Token: "spat_system-account-token"}); err != nil {
		t.Fatalf("spat_ token refused: %v", err)
	}
}

func TestClient_ObserverSeesEachCall(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	_, env := setup(t, withKonnect(func(s *sbkonnect.Seed) { s.RateLimitHeaders = true })) // the observer passes them on
	c, err := New(Config{BaseURL: env.KonnectURL, Token: testToken, HTTPClient: env.HTTPClient, Observer: rec.observe})
	if err != nil {
		t.Fatal(err)
	}
	// testToken is not in the seed: a 401 is still observed, with its headers.
	_, err = c.Portals.FindByName(ctx(t), "payments")
	if !IsUnauthorized(err) {
		t.Fatalf("error %v, want 401", err)
	}
	if rec.ops() != "list-portals" {
		t.Fatalf("observed %q", rec.ops())
	}
	got := rec.calls[0]
	if got.Method != http.MethodGet || got.StatusCode != http.StatusUnauthorized || got.Header.Get("RateLimit-Limit") == "" || got.Duration <= 0 {
		t.Fatalf("observed %+v", got)
	}
}

// The observer is handed the wait a 429 asked for, read by the one parser the
// client's errors use (here RateLimit-Reset, as Kong sends without Retry-After).
func TestClient_ObserverSeesTheWaitA429AskedFor(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("RateLimit-Reset", "4")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"status":429,"title":"Rate Limited"}`))
	}))
	defer srv.Close()
	rec := &recorder{}
	c, err := New(Config{BaseURL: srv.URL, Token: testToken, Observer: rec.observe})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Portals.FindByName(ctx(t), "payments")
	if !IsRateLimited(err) || RetryAfter(err) != 4*time.Second {
		t.Fatalf("error %v (retry after %v), want a 429 asking for 4s", err, RetryAfter(err))
	}
	if len(rec.calls) != 1 || rec.calls[0].Wait != 4*time.Second {
		t.Fatalf("observed %+v, want one call with Wait 4s", rec.calls)
	}
}
