package konnect

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
)

// urls records every request's URL under the sandbox's validating transport.
type urls struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (u *urls) RoundTrip(req *http.Request) (*http.Response, error) {
	u.mu.Lock()
	u.seen = append(u.seen, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
	u.mu.Unlock()
	return u.base.RoundTrip(req)
}

func (u *urls) since(n int) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen[n:]...)
}

// Lists ask for the largest page (100) and stop at the total: 110 strategies take
// two requests, a lookup by name one.
func TestListAll_LargestPagesAndNoRequestPastTheTotal(t *testing.T) {
	_, env := setup(t)
	rec := &urls{base: env.HTTPClient.Transport}
	c, err := New(Config{BaseURL: env.KonnectURL, Token: sbkonnect.DefaultToken, HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	before, err := c.AuthStrategies.ListOIDC(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := len(before); i < 110; i++ {
		if _, err := c.AuthStrategies.CreateOIDC(ctx(t), CreateOIDCStrategy{Name: fmt.Sprintf("s%03d", i), DisplayName: "S",
			Issuer: "https://acme.okta.com/oauth2/default", CredentialClaim: []string{"client_id"}, Scopes: []string{"x"}, AuthMethods: []string{"bearer"}}); err != nil {
			t.Fatal(err)
		}
	}
	mark := len(rec.since(0))
	all, err := c.AuthStrategies.ListOIDC(ctx(t))
	if err != nil || len(all) < 110 {
		t.Fatalf("ListOIDC: %d strategies, %v", len(all), err)
	}
	got := rec.since(mark)
	if len(got) != 2 {
		t.Fatalf("110 strategies took %d requests, want 2: %v", len(got), got)
	}
	for i, want := range []string{"page%5Bnumber%5D=1&page%5Bsize%5D=100", "page%5Bnumber%5D=2&page%5Bsize%5D=100"} {
		if !strings.Contains(got[i], want) {
			t.Errorf("request %d = %s, want %s", i+1, got[i], want)
		}
	}
	mark = len(rec.since(0))
	if s, err := c.AuthStrategies.FindByName(ctx(t), "s100"); err != nil || s == nil {
		t.Fatalf("FindByName: %v, %v", s, err)
	}
	if got := rec.since(mark); len(got) != 1 {
		t.Errorf("a lookup by name took %d requests: %v", len(got), got)
	}
}
