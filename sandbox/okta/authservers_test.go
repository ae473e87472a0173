package okta

import (
	"net/http"
	"strings"
	"testing"
)

func TestAuthServers_ListSearchesNameAndAudiences(t *testing.T) {
	t.Parallel()
	h := start(t)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{DefaultServerID, PartnersServerID, NoPolicyServerID}},
		{"?q=partn", []string{PartnersServerID}},
		{"?q=API://FREE", []string{NoPolicyServerID}},
		{"?q=nothing-matches", []string{}},
	} {
		r := h.mgmtCall(http.MethodGet, "/api/v1/authorizationServers"+tc.query, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%q: status %d %s", tc.query, r.status, r.body)
		}
		var got []serverJSON
		r.decode(t, &got)
		if len(got) != len(tc.want) {
			t.Fatalf("%q: got %d servers, want %v", tc.query, len(got), tc.want)
		}
		for i, s := range got {
			if s.ID != tc.want[i] {
				t.Errorf("%q: server %d = %s, want %s", tc.query, i, s.ID, tc.want[i])
			}
		}
	}
}

func TestAuthServers_GetHasIssuerAndLinks(t *testing.T) {
	t.Parallel()
	h := start(t)
	r := h.mgmtCall(http.MethodGet, "/api/v1/authorizationServers/default", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	var s serverJSON
	r.decode(t, &s)
	if s.Issuer != h.url+"/oauth2/default" || s.Name != "default" || s.Audiences[0] != "api://default" || s.Status != "ACTIVE" {
		t.Errorf("unexpected server: %+v", s)
	}
	if len(s.Links.Metadata) != 2 || s.Links.Metadata[0].Href != s.Issuer+"/.well-known/oauth-authorization-server" {
		t.Errorf("metadata links: %+v", s.Links.Metadata)
	}
	if s.Credentials.Signing.Kid != h.em.keys["default"].kid {
		t.Errorf("kid %q is not the signing key's", s.Credentials.Signing.Kid)
	}
	if r.header.Get("X-Okta-Request-Id") == "" || r.header.Get("Date") == "" {
		t.Errorf("missing X-Okta-Request-Id or Date: %v", r.header)
	}
}

func TestAuthServers_UnknownIs404(t *testing.T) {
	t.Parallel()
	h := start(t)
	for _, path := range []string{"/api/v1/authorizationServers/ausNope", "/api/v1/authorizationServers/ausNope/scopes",
		"/api/v1/authorizationServers/ausNope/claims", "/api/v1/authorizationServers/ausNope/policies"} {
		r := h.mgmtCall(http.MethodGet, path, nil)
		if r.status != http.StatusNotFound {
			t.Fatalf("%s: status %d", path, r.status)
		}
		e := r.oktaErr(t)
		if e.ErrorCode != "E0000007" || e.ErrorSummary != "Not found: Resource not found: ausNope (AuthorizationServer)" {
			t.Errorf("%s: %+v", path, e)
		}
	}
}

func TestAuthServers_PaginateWithLink(t *testing.T) {
	t.Parallel()
	h := start(t)
	r := h.mgmtCall(http.MethodGet, "/api/v1/authorizationServers?limit=2", nil)
	var first []serverJSON
	r.decode(t, &first)
	next := nextLink(r.header)
	if len(first) != 2 || !strings.Contains(next, "after="+first[1].ID) || !strings.Contains(next, "limit=2") {
		t.Fatalf("first page: %d items, next %q", len(first), next)
	}
	r = h.mgmtCall(http.MethodGet, next, nil)
	var second []serverJSON
	r.decode(t, &second)
	if len(second) != 1 || second[0].ID != NoPolicyServerID || nextLink(r.header) != "" {
		t.Fatalf("second page: %+v, next %q", second, nextLink(r.header))
	}
}

func TestManagement_RejectsMissingAndWrongTokens(t *testing.T) {
	t.Parallel()
	h := start(t)
	for _, tc := range []struct{ name, header string }{
		{"missing", ""},
		{"unknown", "SSWS 00nottherighttoken"},
		{"bearer", "Bearer " + DefaultManagementToken},
		{"dcr token", "SSWS " + DefaultDCRToken},
	} {
		req, _ := http.NewRequest(http.MethodGet, h.url+"/api/v1/authorizationServers", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		r := h.offSpec().send(req)
		if r.status != http.StatusUnauthorized {
			t.Fatalf("%s: status %d", tc.name, r.status)
		}
		if e := r.oktaErr(t); e.ErrorCode != "E0000011" || e.ErrorSummary != "Invalid token provided" {
			t.Errorf("%s: %+v", tc.name, e)
		}
	}
}

func TestManagement_WrongMethodIs405(t *testing.T) {
	t.Parallel()
	h := start(t)
	r := h.offSpec().mgmtCall(http.MethodPut, "/api/v1/authorizationServers/default/scopes", map[string]any{"name": "x"})
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, POST" {
		t.Fatalf("status %d allow %q", r.status, r.header.Get("Allow"))
	}
	if e := r.oktaErr(t); e.ErrorCode != "E0000022" {
		t.Errorf("code %s", e.ErrorCode)
	}
}
