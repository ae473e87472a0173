package konnect

import (
	"net/http"
	"strings"
	"testing"
)

func TestAPIs_ListAndGet(t *testing.T) {
	t.Parallel()
	h := start(t)
	seed := DefaultSeed()
	a := h.call("GET", "/v3/apis?page[size]=100", nil)
	want(t, a, http.StatusOK)
	var body listBody[API]
	a.decode(t, &body)
	if body.Meta.Page.Total != 10 || len(body.Data) != 10 {
		t.Fatalf("meta %+v, %d items", body.Meta.Page, len(body.Data))
	}
	first := body.Data[0]
	if first.Slug == nil || *first.Slug != "payments-api-v1" || first.Version == nil || *first.Version != "v1" {
		t.Fatalf("first API %+v", first)
	}
	last := body.Data[9]
	if last.Version != nil || *last.Slug != "reporting-api" {
		t.Fatalf("unversioned API %+v", last)
	}
	for _, tt := range []struct{ query, want string }{
		{"filter[name][eq]=orders-api", "orders-api"},
		{"filter[name][contains]=pay", "payments-api"},
		{"filter[version]=v2", "invoices-api,shipping-api"},
		{"filter[id][eq]=" + seed.APIs[3].ID, "customers-api"},
	} {
		a := h.call("GET", "/v3/apis?"+tt.query, nil)
		want(t, a, http.StatusOK)
		var body listBody[API]
		a.decode(t, &body)
		var got []string
		for _, x := range body.Data {
			got = append(got, x.Name)
		}
		if strings.Join(got, ",") != tt.want {
			t.Fatalf("%s: got %v, want %s", tt.query, got, tt.want)
		}
	}

	// portals lists where the API is published.
	pub := "/v3/apis/" + seed.APIs[0].ID + "/publications/" + seed.Portals[1].ID
	want(t, h.call("PUT", pub, map[string]any{"auth_strategy_ids": nil, "visibility": "private", "auto_approve_registrations": false}), http.StatusOK)
	var got API
	h.call("GET", "/v3/apis/"+seed.APIs[0].ID, nil).decode(t, &got)
	if len(got.Portals) != 1 || got.Portals[0].Name != "partners" {
		t.Fatalf("portals %+v", got.Portals)
	}
	want(t, h.call("GET", "/v3/apis/"+newUUID(), nil), http.StatusNotFound)
}
