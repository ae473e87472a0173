package okta

import (
	"net/http"
	"strings"
	"testing"
)

// PUT replaces a custom scope (fields left out take their defaults), keeps its id,
// refuses a name another scope has, a system scope, and an unknown id.
func TestScopes_PutReplaces(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.createScope("default", map[string]any{"name": "orders:read", "description": "Read orders", "metadataPublish": "ALL_CLIENTS"})
	h.createScope("default", map[string]any{"name": "taken"})
	r := h.mgmtCall(http.MethodPut, scopesPath+"/"+s.ID, map[string]any{"name": "orders:read", "description": "Read orders", "consent": "REQUIRED"})
	var got scopeJSON
	r.decode(t, &got)
	if r.status != http.StatusOK || got.ID != s.ID || got.Consent != "REQUIRED" || got.MetadataPublish != "NO_CLIENTS" || got.Description != "Read orders" {
		t.Fatalf("put: %d %+v", r.status, got)
	}
	r = h.mgmtCall(http.MethodGet, scopesPath+"/"+s.ID, nil)
	r.decode(t, &got)
	if got.Consent != "REQUIRED" {
		t.Errorf("get after put: %+v", got)
	}
	if r := h.mgmtCall(http.MethodPut, scopesPath+"/"+s.ID, map[string]any{"name": "taken"}); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "already exists") {
		t.Errorf("rename onto another scope: %d %s", r.status, r.body)
	}
	var openid string
	r = h.mgmtCall(http.MethodGet, scopesPath+"?q=openid", nil)
	var list []scopeJSON
	r.decode(t, &list)
	for _, sc := range list {
		if sc.Name == "openid" {
			openid = sc.ID
		}
	}
	if r := h.mgmtCall(http.MethodPut, scopesPath+"/"+openid, map[string]any{"name": "openid", "consent": "REQUIRED"}); openid == "" || r.status != http.StatusBadRequest {
		t.Errorf("system scope %q: %d %s", openid, r.status, r.body)
	}
	if r := h.mgmtCall(http.MethodPut, scopesPath+"/scpNope", map[string]any{"name": "x"}); r.status != http.StatusNotFound {
		t.Errorf("unknown id: %d %s", r.status, r.body)
	}
}
