package okta

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const scopesPath = "/api/v1/authorizationServers/default/scopes"

func TestScopes_CreateAppliesDefaults(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.createScope("default", map[string]any{"name": "orders:read", "description": "Read orders"})
	if !strings.HasPrefix(s.ID, "scp") || len(s.ID) != 20 {
		t.Errorf("id %q is not Okta-shaped", s.ID)
	}
	if s.Consent != "IMPLICIT" || s.MetadataPublish != "NO_CLIENTS" || s.Default || s.System || s.Description != "Read orders" {
		t.Errorf("defaults not applied: %+v", s)
	}
	if s.Links.Self.Href != h.url+scopesPath+"/"+s.ID {
		t.Errorf("self link %q", s.Links.Self.Href)
	}
	r := h.mgmtCall(http.MethodGet, scopesPath+"/"+s.ID, nil)
	var got scopeJSON
	r.decode(t, &got)
	if r.status != http.StatusOK || got.Name != "orders:read" {
		t.Errorf("get: %d %+v", r.status, got)
	}
}

func TestScopes_CreateRejectsInvalid(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.createScope("default", map[string]any{"name": "taken"})
	for _, tc := range []struct {
		name      string
		body      any
		code      string
		causeHint string
	}{
		{"missing name", map[string]any{"description": "x"}, "E0000001", "name: "},
		{"space", map[string]any{"name": "a b"}, "E0000001", "printable ASCII"},
		{"quote", map[string]any{"name": `a"b`}, "E0000001", "printable ASCII"},
		{"backslash", map[string]any{"name": `a\b`}, "E0000001", "printable ASCII"},
		{"non-ascii", map[string]any{"name": "café"}, "E0000001", "printable ASCII"},
		{"okta prefix dot", map[string]any{"name": "okta.users.read"}, "E0000001", "okta."},
		{"okta prefix colon", map[string]any{"name": "okta:x"}, "E0000001", "okta:"},
		{"okta", map[string]any{"name": "okta"}, "E0000001", "'okta'"},
		{"star", map[string]any{"name": "*"}, "E0000001", "'*'"},
		{"duplicate", map[string]any{"name": "taken"}, "E0000001", "already exists"},
		{"duplicate system", map[string]any{"name": "openid"}, "E0000001", "already exists"},
		{"bad consent", map[string]any{"name": "c1", "consent": "SOMETIMES"}, "E0000003", ""},
		{"bad publish", map[string]any{"name": "c2", "metadataPublish": "SOME"}, "E0000003", ""},
		{"not json", "just a string", "E0000003", ""},
	} {
		// Invalid bodies break the request schema on purpose: skip the contract check.
		r := h.offSpec().mgmtCall(http.MethodPost, scopesPath, tc.body)
		if r.status != http.StatusBadRequest {
			t.Fatalf("%s: status %d %s", tc.name, r.status, r.body)
		}
		e := r.oktaErr(t)
		if e.ErrorCode != tc.code {
			t.Errorf("%s: code %s, want %s", tc.name, e.ErrorCode, tc.code)
		}
		if tc.code == "E0000001" {
			if e.ErrorSummary != "Api validation failed: name" || len(e.ErrorCauses) != 1 ||
				!strings.HasPrefix(e.ErrorCauses[0].ErrorSummary, "name: ") || !strings.Contains(e.ErrorCauses[0].ErrorSummary, tc.causeHint) {
				t.Errorf("%s: %+v", tc.name, e)
			}
		}
	}
}

func TestScopes_ListHasSystemScopesAndPagesBy200(t *testing.T) {
	t.Parallel()
	h := start(t)
	for i := range 250 {
		h.createScope("default", map[string]any{"name": fmt.Sprintf("bulk:%03d", i)})
	}
	var all []scopeJSON
	next, pages := scopesPath, 0
	for next != "" {
		r := h.mgmtCall(http.MethodGet, next, nil)
		var page []scopeJSON
		r.decode(t, &page)
		if len(page) > 200 {
			t.Fatalf("page of %d", len(page))
		}
		all = append(all, page...)
		next, pages = nextLink(r.header), pages+1
	}
	if pages != 2 || len(all) != 256 {
		t.Fatalf("%d pages, %d scopes; want 2 and 256", pages, len(all))
	}
	seen := map[string]bool{}
	for _, s := range all {
		if seen[s.ID] {
			t.Fatalf("scope %s served twice", s.ID)
		}
		seen[s.ID] = true
	}
	for i, name := range []string{"openid", "profile", "email", "address", "phone", "offline_access"} {
		if all[i].Name != name || !all[i].System || all[i].MetadataPublish != "ALL_CLIENTS" {
			t.Errorf("system scope %d: %+v", i, all[i])
		}
	}
}

func TestScopes_QueryAndFilter(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.createScope("default", map[string]any{"name": "pay:read"})
	h.createScope("default", map[string]any{"name": "pay:write", "metadataPublish": "ALL_CLIENTS"})
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"q=PAY", []string{"pay:read", "pay:write"}},
		{"q=write", []string{"pay:write"}},
		{"filter=" + url.QueryEscape(`name eq "pay:read"`), []string{"pay:read"}},
		{"filter=" + url.QueryEscape(`system eq false and metadataPublish eq "ALL_CLIENTS"`), []string{"pay:write"}},
	} {
		r := h.mgmtCall(http.MethodGet, scopesPath+"?"+tc.query, nil)
		var got []scopeJSON
		r.decode(t, &got)
		var names []string
		for _, s := range got {
			names = append(names, s.Name)
		}
		if strings.Join(names, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: got %v, want %v", tc.query, names, tc.want)
		}
	}
	// The spec lists no 400 for this list; Okta answers a bad filter with E0000031.
	r := h.offSpec().mgmtCall(http.MethodGet, scopesPath+"?filter="+url.QueryEscape("name sw \"pay\""), nil)
	if r.status != http.StatusBadRequest || r.oktaErr(t).ErrorCode != "E0000031" {
		t.Errorf("bad filter: %d %s", r.status, r.body)
	}
}

func TestScopes_DeleteAndNotFound(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.createScope("default", map[string]any{"name": "gone:soon"})
	if r := h.mgmtCall(http.MethodDelete, scopesPath+"/"+s.ID, nil); r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		r := h.mgmtCall(method, scopesPath+"/"+s.ID, nil)
		if r.status != http.StatusNotFound {
			t.Fatalf("%s after delete: %d", method, r.status)
		}
		if e := r.oktaErr(t); e.ErrorCode != "E0000007" || !strings.Contains(e.ErrorSummary, s.ID) {
			t.Errorf("%s: %+v", method, e)
		}
	}
	openid := seededID(prefixScope, "default", "scope", "openid")
	if r := h.mgmtCall(http.MethodDelete, scopesPath+"/"+openid, nil); r.status != http.StatusForbidden || r.oktaErr(t).ErrorCode != "E0000006" {
		t.Errorf("deleting a system scope: %d", r.status)
	}
}
