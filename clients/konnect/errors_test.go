package konnect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/internal/contract"
	"github.com/dcrflow/dcrflow/sandbox/faults"
)

func TestCheckResponse_DecodesProblem(t *testing.T) {
	t.Parallel()
	body := `{"status":400,"title":"Invalid Request","instance":"kong:trace:42","detail":"Invalid Parameters",
	"invalid_parameters":[{"field":"name","rule":"min_length","minimum":1,"source":"body","reason":"must have at least 1 characters"},
	{"field":"visibility","rule":"enum","choices":["public","private"],"reason":"must be one of [public private]"}]}`
	resp := &http.Response{StatusCode: 400, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
	err := CheckResponse(resp)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T", err)
	}
	if e.Title != "Invalid Request" || e.Detail != "Invalid Parameters" || e.Instance != "kong:trace:42" || len(e.InvalidParameters) != 2 {
		t.Fatalf("decoded %+v", e)
	}
	if p := e.InvalidParameters[0]; p.Field != "name" || p.Rule != "min_length" || p.Minimum == nil || *p.Minimum != 1 {
		t.Fatalf("parameter %+v", p)
	}
	if len(e.InvalidParameters[1].Choices) != 2 {
		t.Fatalf("choices %+v", e.InvalidParameters[1])
	}
	if CheckResponse(&http.Response{StatusCode: 204, Body: http.NoBody}) != nil {
		t.Fatal("204 is an error")
	}
}

func TestCheckResponse_NonJSONBody(t *testing.T) {
	t.Parallel()
	resp := &http.Response{StatusCode: 502, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("<html>bad gateway</html>"))}
	var e *Error
	if !errors.As(CheckResponse(resp), &e) || e.Title != "Bad Gateway" || !e.Temporary() {
		t.Fatalf("error %+v", e)
	}
}

func TestError_MessageAndPredicates(t *testing.T) {
	t.Parallel()
	one := 1
	e := &Error{Op: "create-dcr-provider", StatusCode: 400, Title: "Invalid Request", Detail: "Invalid Parameters",
		InvalidParameters: []InvalidParameter{{Field: "name", Rule: "min_length", Minimum: &one, Reason: "must have at least 1 characters"}}}
	msg := e.Error()
	for _, part := range []string{"create-dcr-provider", "400", "Invalid Request", "Invalid Parameters", "name [min_length] must have at least 1 characters"} {
		if !strings.Contains(msg, part) {
			t.Fatalf("%q lacks %q", msg, part)
		}
	}
	wrapped := fmt.Errorf("activity: %w", &Error{Op: "x", StatusCode: 429, RetryAfter: 5 * time.Second})
	if !IsRateLimited(wrapped) || RetryAfter(wrapped) != 5*time.Second || !IsTemporary(wrapped) {
		t.Fatal("predicates do not see through wrapping")
	}
	tests := []struct {
		err       error
		temporary bool
	}{
		{&Error{StatusCode: 500}, true},
		{&Error{StatusCode: 503}, true},
		{&Error{StatusCode: 429}, true},
		{&Error{StatusCode: 408}, true},
		{&Error{StatusCode: 400}, false},
		{&Error{StatusCode: 404}, false},
		{&Error{StatusCode: 409}, false},
		{&Error{Err: io.ErrUnexpectedEOF}, true},
		{&Error{Err: context.DeadlineExceeded}, true},
		{&Error{Err: context.Canceled}, false},
		{&Error{StatusCode: 200, Err: errors.New("decode answer")}, false},
		{errors.New("plain"), false},
	}
	for i, tt := range tests {
		if got := IsTemporary(tt.err); got != tt.temporary {
			t.Errorf("case %d (%v): temporary %v, want %v", i, tt.err, got, tt.temporary)
		}
	}
	if !IsNotFound(fmt.Errorf("x: %w", ErrNotFound)) || IsNotFound(errors.New("x")) {
		t.Fatal("IsNotFound and ErrNotFound disagree")
	}
}

// A server that echoes request secrets in its errors must not get them into ours.
func TestError_RedactsSecrets(t *testing.T) {
	t.Parallel()
	const dcrToken = "00echo-me-dcr-token"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"status":400,"title":"Invalid Request","instance":"kong:trace:1","detail":"auth %s",
			"invalid_parameters":[{"field":"dcr_config.dcr_token","reason":"bad value %s"}]}`,
			r.Header.Get("Authorization"), strings.ReplaceAll(string(body), `"`, `'`))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DCRProviders.CreateOkta(ctx(t), CreateOktaProvider{Name: "x", Issuer: "https://o.example.com", DCRToken: dcrToken})
	if err == nil {
		t.Fatal("no error")
	}
	mustNotContain(t, "error", err.Error(), testToken, dcrToken)
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Fatalf("error %q does not show the redaction", err)
	}
}

// A server whose pages run past the total its first page announced gives an answer
// that is not usable: the listing stops a page later, with ErrBadAnswer (not
// Temporary: asking again gets the same answer), never an endless loop.
func TestListAll_PagesPastTheTotalAreABadAnswer(t *testing.T) {
	t.Parallel()
	var pages atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := pages.Add(1)
		total := 150
		if n > 1 {
			total = 1000000
		}
		items := strings.TrimSuffix(strings.Repeat(`{"id":"x","name":"n"},`, 100), ",")
		fmt.Fprintf(w, `{"data":[%s],"meta":{"page":{"number":%d,"size":100,"total":%d}}}`, items, n, total)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	_, err = listAll[Portal](ctx(t), c, "list-portals", portalsPath, nil)
	if !errors.Is(err, ErrBadAnswer) || IsTemporary(err) || pages.Load() != 3 {
		t.Fatalf("error %v (temporary %v) after %d pages; want ErrBadAnswer after 3", err, IsTemporary(err), pages.Load())
	}
}

// An org with more strategies than the old hard cap (100 pages of 100) is listed to
// the end, a page at a time; ListByProvider asks the server to filter.
func TestAuthStrategies_EachOIDCHasNoPageCapAndListByProviderFilters(t *testing.T) {
	t.Parallel()
	const total = 12050
	var mu sync.Mutex
	var queries []url.Values
	sent := func() []url.Values { mu.Lock(); defer mu.Unlock(); return queries }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		queries = append(queries, q)
		mu.Unlock()
		n, _ := strconv.Atoi(q.Get("page[number]"))
		var items []string
		for i := (n - 1) * 100; i < min(n*100, total); i++ {
			items = append(items, fmt.Sprintf(`{"id":"s%d","name":"s%d","strategy_type":"openid_connect","configs":{"openid-connect":{"issuer":"https://o"}}}`, i, i))
		}
		fmt.Fprintf(w, `{"data":[%s],"meta":{"page":{"number":%d,"size":100,"total":%d}}}`, strings.Join(items, ","), n, total)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	pages, seen := 0, 0
	err = c.AuthStrategies.EachOIDC(ctx(t), func(page []AuthStrategy) error {
		pages++
		seen += len(page)
		return nil
	})
	if err != nil || pages != 121 || seen != total {
		t.Fatalf("EachOIDC: %v after %d pages, %d strategies; want all %d in 121 pages", err, pages, seen, total)
	}
	if got := sent()[0].Get("filter[strategy_type][eq]"); got != "openid_connect" {
		t.Errorf("type filter = %q", got)
	}
	before := len(sent())
	if _, err := c.AuthStrategies.ListByProvider(ctx(t), "p-1"); err != nil {
		t.Fatal(err)
	}
	if q := sent(); len(q) <= before || q[before].Get("filter[dcr_provider_id][eq]") != "p-1" {
		t.Errorf("ListByProvider sent %v: want filter[dcr_provider_id][eq]=p-1", q[before:min(before+1, len(q))])
	}
	if _, err := c.AuthStrategies.ListByProvider(ctx(t), ""); !errors.Is(err, ErrInvalidArgument) || IsTemporary(err) {
		t.Errorf("empty provider id: %v, want ErrInvalidArgument, not temporary", err)
	}
}

func TestClient_ServerErrors(t *testing.T) {
	t.Parallel()
	c, env := setup(t)
	seedPortal := "0bc10ef8-9aa8-4f5d-8809-725879776653"

	t.Run("401 bad token", func(t *testing.T) {
		bad, err := New(Config{BaseURL: env.KonnectURL, Token: "kpat_not-a-seeded-token", HTTPClient: env.HTTPClient})
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.Portals.Get(ctx(t), seedPortal)
		var e *Error
		if !IsUnauthorized(err) || !errors.As(err, &e) || e.Title != "Unauthorized" || e.Temporary() {
			t.Fatalf("error %v", err)
		}
		mustNotContain(t, "error", err.Error(), "kpat_not-a-seeded-token")
	})

	t.Run("429 with Retry-After", func(t *testing.T) {
		_, err := env.Sandbox.Faults.Add(faults.Fault{Method: "GET", Path: "/v3/portals/*", Status: 429, Count: 1, RetryAfterSeconds: 7})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Portals.Get(ctx(t), seedPortal)
		var e *Error
		if !IsRateLimited(err) || RetryAfter(err) != 7*time.Second || !errors.As(err, &e) || e.Title != "Rate Limited" || !e.Temporary() {
			t.Fatalf("error %v (retry after %v)", err, RetryAfter(err))
		}
		if _, err := c.Portals.Get(ctx(t), seedPortal); err != nil {
			t.Fatalf("after the fault: %v", err)
		}
	})

	t.Run("5xx is temporary", func(t *testing.T) {
		if _, err := env.Sandbox.Faults.Add(faults.Fault{Method: "GET", Path: "/v3/portals/*", Status: 503, Count: 1}); err != nil {
			t.Fatal(err)
		}
		_, err := c.Portals.Get(ctx(t), seedPortal)
		var e *Error
		if !errors.As(err, &e) || e.StatusCode != 503 || !e.Temporary() {
			t.Fatalf("error %v", err)
		}
	})

	t.Run("dropped connection is temporary", func(t *testing.T) {
		// A fresh connection per call: net/http itself resends an idempotent request
		// once when a reused keep-alive connection closes without an answer.
		fresh, err := New(Config{BaseURL: env.KonnectURL, Token: c.token,
			HTTPClient: &http.Client{Transport: contract.Transport(t, &http.Transport{DisableKeepAlives: true})}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.Sandbox.Faults.Add(faults.Fault{Method: "GET", Path: "/v3/portals/*", Drop: true, Count: 1}); err != nil {
			t.Fatal(err)
		}
		_, err = fresh.Portals.Get(ctx(t), seedPortal)
		var e *Error
		if !errors.As(err, &e) || e.StatusCode != 0 || e.Err == nil || !e.Temporary() || e.Op != "get-portal" {
			t.Fatalf("error %#v", err)
		}
	})

	t.Run("timeout is temporary", func(t *testing.T) {
		slow, err := New(Config{BaseURL: env.KonnectURL, Token: c.token, HTTPClient: env.HTTPClient, Timeout: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.Sandbox.Faults.Add(faults.Fault{Method: "GET", Path: "/v3/portals/*", LatencyMS: 2000, Count: 1}); err != nil {
			t.Fatal(err)
		}
		_, err = slow.Portals.Get(ctx(t), seedPortal)
		if !IsTemporary(err) || status(err) != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v", err)
		}
	})
}
