package okta

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// urls records every request's URL under the sandbox's validating transport.
type urls struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (u *urls) RoundTrip(req *http.Request) (*http.Response, error) {
	u.mu.Lock()
	u.seen = append(u.seen, req.URL.Path+"?"+req.URL.RawQuery)
	u.mu.Unlock()
	return u.base.RoundTrip(req)
}

func (u *urls) since(n int) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen[n:]...)
}

// Lists ask for Okta's largest page (limit=200): 210 scopes take two requests, a
// lookup by name one.
func TestPages_LargestPageSize(t *testing.T) {
	h := start(t)
	rec := &urls{base: h.env.HTTPClient.Transport}
	c := h.client(mgmtToken, &http.Client{Transport: rec})
	scopes, err := c.ListScopes(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	for i := len(scopes); i < 210; i++ {
		if _, err := c.CreateScope(ctx(t), "default", Scope{Name: fmt.Sprintf("bulk:%03d", i), Consent: ConsentImplicit}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name     string
		call     func() error
		requests int
	}{
		{"ListScopes", func() error { _, err := c.ListScopes(ctx(t), "default"); return err }, 2},
		{"FindScope", func() error { _, err := c.FindScope(ctx(t), "default", "bulk:150"); return err }, 1},
		{"FindAuthServerByName", func() error { _, err := c.FindAuthServerByName(ctx(t), "partners"); return err }, 1},
		{"ListClients", func() error { _, err := c.ListClients(ctx(t), dcrToken, "dcrflow-"); return err }, 1},
	} {
		mark := len(rec.since(0))
		if err := tc.call(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := rec.since(mark)
		if len(got) != tc.requests {
			t.Errorf("%s: %d requests, want %d: %v", tc.name, len(got), tc.requests, got)
		}
		if !strings.Contains(got[0], "limit=200") {
			t.Errorf("%s: first request %s, want limit=200", tc.name, got[0])
		}
	}
}

// A portal's scopes are found in one request: q is their common prefix, and only
// exact names count; names sharing no prefix take the whole list.
func TestFindScopes_OneRequestForAPortalsScopes(t *testing.T) {
	h := start(t)
	rec := &urls{base: h.env.HTTPClient.Transport}
	c := h.client(mgmtToken, &http.Client{Transport: rec})
	for _, n := range []string{"pay:read", "pay:write", "pay:readonly", "payroll:read"} {
		if _, err := c.CreateScope(ctx(t), "default", Scope{Name: n, Consent: ConsentImplicit}); err != nil {
			t.Fatal(err)
		}
	}
	mark := len(rec.since(0))
	found, err := c.FindScopes(ctx(t), "default", []string{"pay:read", "pay:write", "pay:admin"})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || found["pay:read"].ID == "" || found["pay:write"].ID == "" {
		t.Errorf("found %+v, want pay:read and pay:write only", found)
	}
	got := rec.since(mark)
	if len(got) != 1 || !strings.Contains(got[0], "q=pay%3A") {
		t.Errorf("requests %v, want one list with q=pay:", got)
	}
	mark = len(rec.since(0))
	found, err = c.FindScopes(ctx(t), "default", []string{"payroll:read", "openid"})
	if err != nil || len(found) != 2 {
		t.Errorf("no common prefix: found %+v %v, want both", found, err)
	}
	if got := rec.since(mark); len(got) != 1 || strings.Contains(got[0], "q=") {
		t.Errorf("no common prefix: requests %v, want one unfiltered list", got)
	}
	if _, err := c.FindScopes(ctx(t), "default", []string{"pay:read", ""}); err == nil {
		t.Error("an empty name was accepted")
	}
}
