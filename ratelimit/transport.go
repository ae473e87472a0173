package ratelimit

import (
	"net/http"
	"net/url"
	"strings"
)

// Router names the budgets a request takes a slot from; the first is the one whose
// rate-limit headers come back on its answer. None: the request is not limited.
type Router func(*http.Request) []System

// Transport returns base (http.DefaultTransport when nil) with the budgets in
// front: each request waits for its slots, or fails with *BudgetError, and its answer
// adapts the rate. Without any budget it returns base itself.
func (b *Budget) Transport(base http.RoundTripper, route Router) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if !b.Active() || route == nil {
		return base
	}
	return &transport{b: b, base: base, route: route}
}

type transport struct {
	b     *Budget
	base  http.RoundTripper
	route Router
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	systems := t.route(req)
	if len(systems) == 0 {
		return t.base.RoundTrip(req)
	}
	if err := t.b.wait(req.Context(), systems); err != nil {
		if req.Body != nil {
			_ = req.Body.Close() // a RoundTripper closes the body, also on failure
		}
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	if err == nil {
		t.b.observe(systems[0], resp.StatusCode, resp.Header)
	}
	return resp, err
}

// Routes are shared, never modified.
var (
	toOktaManagement = []System{OktaManagement}
	toOktaDCR        = []System{OktaDCR}
	toKonnect        = []System{Konnect}
	// Konnect verifies an Okta DCR provider by registering a client at the org's DCR
	// endpoint and deleting it: two calls from the Okta DCR budget.
	toKonnectVerify = []System{Konnect, OktaDCR, OktaDCR}
	// Creating or deleting a portal application whose strategy has a DCR provider
	// makes Konnect register or delete the client at Okta's DCR endpoint: one call
	// from the Okta DCR budget each (assumed one; Konnect does not document it).
	toKonnectAppDCR = []System{Konnect, OktaDCR}
)

// endpoint is a client's base URL: its host and path prefix.
type endpoint struct{ host, prefix string }

func parseBase(raw string) (endpoint, bool) {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(raw), "/"))
	if err != nil || u.Host == "" {
		return endpoint{}, false
	}
	return endpoint{host: u.Host, prefix: u.Path}, true
}

// path is req's path below the base; false for another host or prefix.
func (b endpoint) path(req *http.Request) (string, bool) {
	if !strings.EqualFold(req.URL.Host, b.host) || !strings.HasPrefix(req.URL.Path, b.prefix) {
		return "", false
	}
	return strings.TrimPrefix(req.URL.Path, b.prefix), true
}

// OktaRoutes routes the requests to the Okta org at orgURL: the management API
// (/api/v1/...) to OktaManagement, the DCR endpoint (/oauth2/v1/clients...) to
// OktaDCR. The token, key and metadata endpoints, which Okta does not limit for
// client credentials, and other hosts (an issuer's custom domain) take nothing.
func OktaRoutes(orgURL string) Router {
	org, ok := parseBase(orgURL)
	return func(req *http.Request) []System {
		p, mine := org.path(req)
		switch {
		case !ok || !mine:
			return nil
		case strings.HasPrefix(p, "/api/v1/"):
			return toOktaManagement
		case p == "/oauth2/v1/token":
			// The org authorization server's token endpoint, which the OAuth 2.0 for
			// Okta mode calls for its access token. Okta limits it in a bucket of its
			// own, which dcrflow does not model; it is charged to the management budget
			// because every token serves management calls, and the SDK caches it (one
			// call an hour), so the charge is negligible yet bounds a token storm.
			return toOktaManagement
		case p == "/oauth2/v1/clients" || strings.HasPrefix(p, "/oauth2/v1/clients/"):
			return toOktaDCR
		}
		return nil
	}
}

// isPortalApplication reports the create (POST /v3/portals/{id}/applications) or
// delete (DELETE /v3/portals/{id}/applications/{app}) of a portal application. Only
// applications of a DCR strategy reach Okta; dcrflow makes only those.
func isPortalApplication(method, p string) bool {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) < 4 || parts[0] != "v3" || parts[1] != "portals" || parts[3] != "applications" {
		return false
	}
	return (method == http.MethodPost && len(parts) == 4) || (method == http.MethodDelete && len(parts) == 5)
}

// KonnectRoutes routes every request to Konnect at baseURL to Konnect; verifying a
// DCR provider also takes the two Okta DCR calls Konnect makes for it.
func KonnectRoutes(baseURL string) Router {
	kon, ok := parseBase(baseURL)
	return func(req *http.Request) []System {
		p, mine := kon.path(req)
		switch {
		case !ok || !mine:
			return nil
		case req.Method == http.MethodPost && strings.Contains(p, "/dcr-providers/") && strings.HasSuffix(p, "/verify"):
			return toKonnectVerify
		case isPortalApplication(req.Method, p):
			return toKonnectAppDCR
		}
		return toKonnect
	}
}
