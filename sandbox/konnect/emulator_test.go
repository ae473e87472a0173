package konnect

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/internal/contract"
	"github.com/dcrflow/dcrflow/sandbox/ratelimit"
)

// harness serves an emulator over HTTP. checked validates every exchange against
// the specs; raw is for what the specs do not cover (invalid input, 409s the spec
// omits, 429).
type harness struct {
	t       *testing.T
	e       *Emulator
	url     string
	checked *http.Client
	raw     *http.Client
}

func start(t *testing.T, adjust ...func(*Seed, *Options)) *harness {
	t.Helper()
	seed, opts := DefaultSeed(), Options{}
	for _, a := range adjust {
		a(&seed, &opts)
	}
	e, err := New(seed, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &harness{
		t: t, e: e, url: srv.URL,
		checked: &http.Client{Transport: contract.Transport(t, http.DefaultTransport)},
		raw:     http.DefaultClient,
	}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

func (a answer) problem(t *testing.T) problem {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json (body %s)", ct, a.body)
	}
	var p problem
	a.decode(t, &p)
	if p.Status != a.status || p.Title == "" || p.Detail == "" || !strings.HasPrefix(p.Instance, "kong:trace:") {
		t.Fatalf("malformed problem %s for status %d", a.body, a.status)
	}
	return p
}

func (h *harness) send(c *http.Client, method, path string, body any, token string) answer {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

// call sends a request the specs describe, with the default token.
func (h *harness) call(method, path string, body any) answer {
	h.t.Helper()
	return h.send(h.checked, method, path, body, DefaultToken)
}

// callRaw sends without contract checks.
func (h *harness) callRaw(method, path string, body any) answer {
	h.t.Helper()
	return h.send(h.raw, method, path, body, DefaultToken)
}

func want(t *testing.T, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body %s", a.status, status, a.body)
	}
}

func fields(ps []InvalidParameter) map[string]string {
	out := map[string]string{}
	for _, p := range ps {
		out[p.Field] = p.Rule
	}
	return out
}

func TestDefaultSeed_IsValidAndRich(t *testing.T) {
	t.Parallel()
	s := DefaultSeed()
	if len(s.Portals) < 6 || len(s.APIs) < 10 {
		t.Fatalf("default seed has %d portals and %d APIs, want at least 6 and 10", len(s.Portals), len(s.APIs))
	}
	if _, err := New(s, Options{}); err != nil {
		t.Fatalf("default seed rejected: %v", err)
	}
	found := false
	for _, tok := range s.Tokens {
		found = found || tok == DefaultToken
	}
	if !found {
		t.Fatal("DefaultToken is not in the default seed")
	}
}

func TestNew_RejectsBadSeed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Seed)
		want   string
	}{
		{"no tokens", func(s *Seed) { s.Tokens = nil }, "at least one token"},
		{"token prefix", func(s *Seed) { s.Tokens = []string{"abc"} }, "kpat_ or spat_"},
		{"portal id", func(s *Seed) { s.Portals[0].ID = "nope" }, "must be a UUID"},
		{"duplicate portal name", func(s *Seed) { s.Portals[1].Name = s.Portals[0].Name }, "unique"},
		{"duplicate id", func(s *Seed) { s.APIs[0].ID = s.Portals[0].ID }, "already used"},
		{"bad provider issuer", func(s *Seed) {
			s.DCRProviders = []SeedDCRProvider{{ID: "11111111-1111-4111-8111-111111111111", Name: "p", ProviderType: "okta", Issuer: "not a url"}}
		}, "issuer"},
		{"strategy references missing provider", func(s *Seed) {
			s.AuthStrategies = []SeedAuthStrategy{oidcSeed("22222222-2222-4222-8222-222222222222", "s", "33333333-3333-4333-8333-333333333333")}
		}, "dcr_provider_id"},
		{"developer id used twice", func(s *Seed) { s.Portals[1].Developers[0].ID = s.Portals[0].Developers[0].ID }, "already used"},
		{"developer status", func(s *Seed) { s.Portals[0].Developers[0].Status = "sleeping" }, "valid status"},
		{"team without description", func(s *Seed) { s.Portals[0].Teams[0].Description = "" }, "description"},
		{"publication of unknown api", func(s *Seed) {
			s.Publications = []SeedPublication{{APIID: "44444444-4444-4444-8444-444444444444", PortalID: s.Portals[0].ID}}
		}, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := DefaultSeed()
			tt.change(&s)
			_, err := New(s, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func oidcSeed(id, name, providerID string) SeedAuthStrategy {
	return SeedAuthStrategy{
		ID: id, Name: name, DisplayName: name, StrategyType: "openid_connect", DCRProviderID: providerID,
		Configs: map[string]any{"openid-connect": map[string]any{
			"issuer": "https://example.okta.com/oauth2/default", "credential_claim": []string{"client_id"},
			"scopes": []string{"read"}, "auth_methods": []string{"client_credentials"},
		}},
	}
}

func TestEmulator_Unauthorized(t *testing.T) {
	t.Parallel()
	h := start(t)
	tests := []struct{ name, header string }{
		{"no header", ""},
		{"unknown token", "Bearer kpat_unknown"},
		{"wrong scheme", "Basic " + DefaultToken},
		{"bare token", DefaultToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", h.url+"/v3/portals", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := h.checked.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			a := answer{resp.StatusCode, resp.Header, b}
			want(t, a, http.StatusUnauthorized)
			if p := a.problem(t); p.Title != "Unauthorized" || p.Detail != "Unauthorized" {
				t.Fatalf("problem %+v", p)
			}
		})
	}
}

func TestEmulator_SecondTokenAccepted(t *testing.T) {
	t.Parallel()
	h := start(t)
	a := h.send(h.checked, "GET", "/v3/portals", nil, DefaultSeed().Tokens[1])
	want(t, a, http.StatusOK)
}

func TestEmulator_RateLimited(t *testing.T) {
	t.Parallel()
	limiter := ratelimit.New(ratelimit.Settings{PerMinute: 2})
	h := start(t, func(s *Seed, o *Options) { o.Limiter = limiter; s.RateLimitHeaders = true })
	for i := range 2 {
		a := h.call("GET", "/v3/portals", nil)
		want(t, a, http.StatusOK)
		if got := a.header.Get(headerRemaining); got != strconv.Itoa(1-i) {
			t.Fatalf("call %d: %s = %q, want %d", i, headerRemaining, got, 1-i)
		}
		if a.header.Get(headerLimit) != "2" || a.header.Get(headerReset) == "" {
			t.Fatalf("call %d: rate-limit headers %v", i, a.header)
		}
	}
	a := h.callRaw("GET", "/v3/portals", nil) // 429 is undocumented for this operation
	want(t, a, http.StatusTooManyRequests)
	p := a.problem(t)
	if p.Title != "Rate Limited" || p.Detail != "Too many requests" {
		t.Fatalf("problem %+v", p)
	}
	secs, err := strconv.Atoi(a.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Fatalf("Retry-After %q, want 1..60 seconds", a.header.Get("Retry-After"))
	}
	if a.header.Get(headerRemaining) != "0" {
		t.Fatalf("%s = %q on a 429", headerRemaining, a.header.Get(headerRemaining))
	}
	// Unauthenticated calls count too: the budget is taken before auth.
	a = h.send(h.raw, "GET", "/v3/portals", nil, "")
	want(t, a, http.StatusTooManyRequests)
}

// By default the sandbox answers as Konnect documents: no RateLimit-* headers,
// only Retry-After on a 429.
func TestEmulator_RateLimitedWithoutRateLimitHeadersByDefault(t *testing.T) {
	t.Parallel()
	limiter := ratelimit.New(ratelimit.Settings{PerMinute: 1})
	h := start(t, func(_ *Seed, o *Options) { o.Limiter = limiter })
	a := h.call("GET", "/v3/portals", nil)
	want(t, a, http.StatusOK)
	a2 := h.callRaw("GET", "/v3/portals", nil)
	want(t, a2, http.StatusTooManyRequests)
	for _, ans := range []answer{a, a2} {
		for k := range ans.header {
			if strings.HasPrefix(strings.ToLower(k), "ratelimit") || strings.HasPrefix(strings.ToLower(k), "x-ratelimit") {
				t.Errorf("header %s sent", k)
			}
		}
	}
	if secs, err := strconv.Atoi(a2.header.Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("Retry-After %q", a2.header.Get("Retry-After"))
	}
}

func TestWriteError_Statuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status     int
		retryAfter time.Duration
		title      string
		wantRetry  string
	}{
		{http.StatusTooManyRequests, 1500 * time.Millisecond, "Rate Limited", "2"},
		{http.StatusTooManyRequests, 0, "Rate Limited", "1"},
		{http.StatusInternalServerError, 0, "Internal Server Error", ""},
		{http.StatusServiceUnavailable, 0, "Service Unavailable", ""},
		{http.StatusNotFound, 0, "Not Found", ""},
		{http.StatusBadRequest, 0, "Invalid Request", ""},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			WriteError(rec, httptest.NewRequest("GET", "/v3/portals", nil), tt.status, tt.retryAfter)
			a := answer{rec.Code, rec.Header(), rec.Body.Bytes()}
			want(t, a, tt.status)
			if p := a.problem(t); p.Title != tt.title {
				t.Fatalf("title %q, want %q", p.Title, tt.title)
			}
			if got := a.header.Get("Retry-After"); got != tt.wantRetry {
				t.Fatalf("Retry-After %q, want %q", got, tt.wantRetry)
			}
		})
	}
}

func TestEmulator_UnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	h := start(t)
	a := h.callRaw("GET", "/v2/nothing-here", nil)
	want(t, a, http.StatusNotFound)
	a.problem(t)
	a = h.callRaw("PATCH", "/v3/portals", nil)
	want(t, a, http.StatusMethodNotAllowed)
	a.problem(t)
	if a.header.Get("Allow") != "GET" {
		t.Fatalf("Allow %q", a.header.Get("Allow"))
	}
}

func TestEmulator_StateAndResetNeverShowTokens(t *testing.T) {
	t.Parallel()
	h := start(t)
	const secret = "00aSecretDCRToken_never_shown"
	a := h.call("POST", "/v2/dcr-providers", oktaProvider("okta-main", secret))
	want(t, a, http.StatusCreated)
	if bytes.Contains(a.body, []byte(secret)) {
		t.Fatal("create answer shows the DCR token")
	}
	raw, err := json.Marshal(h.e.State())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append([]string{secret}, DefaultSeed().Tokens...) {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("State shows a secret %q", s)
		}
	}
	st := h.e.State().(State)
	if len(st.DCRProviders) != 1 || len(st.Portals) != 6 || len(st.APIs) != 10 {
		t.Fatalf("state counts %d providers %d portals %d apis", len(st.DCRProviders), len(st.Portals), len(st.APIs))
	}
	h.e.Reset()
	if st := h.e.State().(State); len(st.DCRProviders) != 0 {
		t.Fatalf("after Reset: %d providers", len(st.DCRProviders))
	}
}

func TestEmulator_ConcurrentUse(t *testing.T) {
	t.Parallel()
	h := start(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := "p" + strconv.Itoa(i)
			a := h.send(h.raw, "POST", "/v2/dcr-providers", oktaProvider(name, "tok"), DefaultToken)
			if a.status != http.StatusCreated {
				t.Errorf("create %s: %d", name, a.status)
			}
			h.send(h.raw, "GET", "/v2/dcr-providers?filter[name]="+name, nil, DefaultToken)
			_ = h.e.State()
		})
	}
	wg.Wait()
	if n := len(h.e.State().(State).DCRProviders); n != 8 {
		t.Fatalf("%d providers, want 8", n)
	}
}

func TestEmulator_ResetIgnoresLaterSeedChanges(t *testing.T) {
	t.Parallel()
	seed := DefaultSeed()
	e, err := New(seed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	seed.Portals[0].Name = "changed"
	seed.Portals = seed.Portals[:1]
	e.Reset()
	st := e.State().(State)
	if len(st.Portals) != 6 || st.Portals[0].Name != "payments" {
		t.Fatalf("after Reset: %d portals, first %q", len(st.Portals), st.Portals[0].Name)
	}
}
