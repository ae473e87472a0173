package okta

import (
	"net/http"
	"strings"
	"testing"
)

const claimsPath = "/api/v1/authorizationServers/default/claims"

func clientIDClaim(name string) map[string]any {
	return map[string]any{"name": name, "status": "ACTIVE", "claimType": "RESOURCE", "valueType": "EXPRESSION",
		"value": "app.clientId", "alwaysIncludeInToken": true, "conditions": map[string]any{"scopes": []string{}}}
}

func TestClaims_CreateGetDelete(t *testing.T) {
	t.Parallel()
	h := start(t)
	r := h.mgmtCall(http.MethodPost, claimsPath, clientIDClaim("client_id"))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var c claimJSON
	r.decode(t, &c)
	if !strings.HasPrefix(c.ID, "ocl") || c.Value != "app.clientId" || !c.AlwaysIncludeInToken || c.System || len(c.Conditions.Scopes) != 0 {
		t.Errorf("created: %+v", c)
	}
	r = h.mgmtCall(http.MethodGet, claimsPath, nil)
	var list []claimJSON
	r.decode(t, &list)
	if len(list) != 2 || list[0].Name != "sub" || !list[0].System || list[1].ID != c.ID {
		t.Errorf("list: %+v", list)
	}
	if r := h.mgmtCall(http.MethodGet, claimsPath+"/"+c.ID, nil); r.status != http.StatusOK {
		t.Errorf("get: %d", r.status)
	}
	if r := h.mgmtCall(http.MethodDelete, claimsPath+"/"+c.ID, nil); r.status != http.StatusNoContent {
		t.Errorf("delete: %d", r.status)
	}
	r = h.mgmtCall(http.MethodGet, claimsPath+"/"+c.ID, nil)
	if r.status != http.StatusNotFound || r.oktaErr(t).ErrorCode != "E0000007" {
		t.Errorf("get after delete: %d %s", r.status, r.body)
	}
	if r := h.mgmtCall(http.MethodDelete, claimsPath+"/"+list[0].ID, nil); r.status != http.StatusForbidden {
		t.Errorf("deleting the system sub claim: %d", r.status)
	}
}

func TestClaims_SameNameOtherTypeIsAllowed(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.mgmtCall(http.MethodPost, claimsPath, clientIDClaim("client_id"))
	id := clientIDClaim("client_id")
	id["claimType"] = "IDENTITY"
	if r := h.mgmtCall(http.MethodPost, claimsPath, id); r.status != http.StatusCreated {
		t.Fatalf("IDENTITY twin: %d %s", r.status, r.body)
	}
}

func TestClaims_CreateRejectsInvalid(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.mgmtCall(http.MethodPost, claimsPath, clientIDClaim("taken"))
	with := func(k string, v any) map[string]any {
		c := clientIDClaim("fresh")
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	for _, tc := range []struct {
		name, code, summary string
		body                map[string]any
	}{
		{"duplicate", "E0000001", "Api validation failed: name", clientIDClaim("taken")},
		{"reserved sub", "E0000001", "Api validation failed: name", clientIDClaim("sub")},
		{"reserved cid", "E0000001", "Api validation failed: name", clientIDClaim("cid")},
		{"no name", "E0000001", "Api validation failed: name", with("name", nil)},
		{"no status", "E0000001", "Api validation failed: status", with("status", nil)},
		{"no claim type", "E0000001", "Api validation failed: claimType", with("claimType", nil)},
		{"no value type", "E0000001", "Api validation failed: valueType", with("valueType", nil)},
		{"no value", "E0000001", "Api validation failed: value", with("value", nil)},
		{"system value type", "E0000001", "Api validation failed: valueType", with("valueType", "SYSTEM")},
		{"groups without filter", "E0000001", "Api validation failed: group_filter_type", with("valueType", "GROUPS")},
		{"unknown scope", "E0000001", "Api validation failed: conditions.scopes", with("conditions", map[string]any{"scopes": []string{"nope"}})},
		{"bad claim type", "E0000003", "The request body was not well-formed.", with("claimType", "ACCESS")},
	} {
		r := h.offSpec().mgmtCall(http.MethodPost, claimsPath, tc.body) // invalid on purpose
		if r.status != http.StatusBadRequest {
			t.Fatalf("%s: status %d %s", tc.name, r.status, r.body)
		}
		e := r.oktaErr(t)
		if e.ErrorCode != tc.code || e.ErrorSummary != tc.summary {
			t.Errorf("%s: %+v", tc.name, e)
		}
		if tc.code == "E0000001" && (len(e.ErrorCauses) != 1 || !strings.HasPrefix(e.ErrorCauses[0].ErrorSummary, strings.TrimPrefix(tc.summary, "Api validation failed: ")+": ")) {
			t.Errorf("%s: causes %+v", tc.name, e.ErrorCauses)
		}
	}
}
