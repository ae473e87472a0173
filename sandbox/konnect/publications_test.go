package konnect

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestPublications_PutGetDelete(t *testing.T) {
	t.Parallel()
	var tick atomic.Int64
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := start(t, func(_ *Seed, o *Options) {
		o.Now = func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Second) }
	})
	seed := DefaultSeed()
	path := "/v3/apis/" + seed.APIs[0].ID + "/publications/" + seed.Portals[0].ID
	s := createStrategy(t, h, "dcr", "")

	want(t, h.call("GET", path, nil), http.StatusNotFound)
	a := h.call("PUT", path, map[string]any{"auth_strategy_ids": []string{s.ID}, "visibility": "public", "auto_approve_registrations": true})
	want(t, a, http.StatusOK)
	var first publicationBody
	a.decode(t, &first)
	if len(first.AuthStrategyIDs) != 1 || first.AuthStrategyIDs[0] != s.ID || first.Visibility != "public" ||
		!first.AutoApproveRegistrations || first.CreatedAt.IsZero() || first.CreatedAt != first.UpdatedAt {
		t.Fatalf("first put %+v", first)
	}

	// A full replace: the omitted visibility falls back to private, null means no auth.
	a = h.call("PUT", path, map[string]any{"auth_strategy_ids": nil, "auto_approve_registrations": false})
	want(t, a, http.StatusOK)
	var second publicationBody
	a.decode(t, &second)
	if second.AuthStrategyIDs != nil || second.Visibility != "private" || second.AutoApproveRegistrations ||
		second.CreatedAt != first.CreatedAt || !second.UpdatedAt.After(first.UpdatedAt) {
		t.Fatalf("replace %+v after %+v", second, first)
	}
	var got publicationBody
	h.call("GET", path, nil).decode(t, &got)
	if got.Visibility != "private" || got.AuthStrategyIDs != nil {
		t.Fatalf("get %+v", got)
	}
	want(t, h.call("DELETE", path, nil), http.StatusNoContent)
	want(t, h.call("GET", path, nil), http.StatusNotFound)
	want(t, h.call("DELETE", path, nil), http.StatusNotFound)
}

func TestPublications_OmittedStrategyUsesPortalDefault(t *testing.T) {
	t.Parallel()
	const sid = "66666666-6666-4666-8666-666666666666"
	h := start(t, func(s *Seed, _ *Options) {
		s.AuthStrategies = []SeedAuthStrategy{oidcSeed(sid, "portal-default", "")}
		s.Portals[0].DefaultApplicationAuthStrategyID = sid
	})
	seed := DefaultSeed()
	a := h.call("PUT", "/v3/apis/"+seed.APIs[0].ID+"/publications/"+seed.Portals[0].ID, map[string]any{"visibility": "private"})
	want(t, a, http.StatusOK)
	var got publicationBody
	a.decode(t, &got)
	if len(got.AuthStrategyIDs) != 1 || got.AuthStrategyIDs[0] != sid {
		t.Fatalf("auth_strategy_ids %v, want the portal default", got.AuthStrategyIDs)
	}
}

func TestPublications_PutErrors(t *testing.T) {
	t.Parallel()
	h := start(t)
	seed := DefaultSeed()
	s1, s2 := createStrategy(t, h, "a", ""), createStrategy(t, h, "b", "")
	api, portal := seed.APIs[0].ID, seed.Portals[0].ID
	tests := []struct {
		name        string
		api, portal string
		body        any
		code        int
		field, rule string
	}{
		{"unknown api", newUUID(), portal, map[string]any{}, http.StatusNotFound, "", ""},
		{"unknown portal", api, newUUID(), map[string]any{}, http.StatusNotFound, "", ""},
		{"unknown strategy", api, portal, map[string]any{"auth_strategy_ids": []string{newUUID()}}, http.StatusBadRequest, "auth_strategy_ids[0]", "missing_reference"},
		{"two strategies", api, portal, map[string]any{"auth_strategy_ids": []string{s1.ID, s2.ID}}, http.StatusBadRequest, "auth_strategy_ids", "max_items"},
		{"empty strategies", api, portal, map[string]any{"auth_strategy_ids": []string{}}, http.StatusBadRequest, "auth_strategy_ids", "min_items"},
		{"not a uuid", api, portal, map[string]any{"auth_strategy_ids": []string{"x"}}, http.StatusBadRequest, "auth_strategy_ids[0]", "is_uuid"},
		{"bad visibility", api, portal, map[string]any{"visibility": "secret"}, http.StatusBadRequest, "visibility", "enum"},
		{"bad auto approve", api, portal, map[string]any{"auto_approve_registrations": "yes"}, http.StatusBadRequest, "auto_approve_registrations", "is_boolean"},
		{"unknown property", api, portal, map[string]any{"portal_id": portal}, http.StatusBadRequest, "portal_id", "unknown_property"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := h.callRaw("PUT", "/v3/apis/"+tt.api+"/publications/"+tt.portal, tt.body)
			want(t, a, tt.code)
			p := a.problem(t)
			if tt.field != "" && fields(p.InvalidParameters)[tt.field] != tt.rule {
				t.Fatalf("invalid_parameters %+v: want %s/%s", p.InvalidParameters, tt.field, tt.rule)
			}
		})
	}
	if n := len(h.e.State().(State).Publications); n != 0 {
		t.Fatalf("%d publications after failed puts", n)
	}
}

func TestPublications_List(t *testing.T) {
	t.Parallel()
	h := start(t)
	seed := DefaultSeed()
	s := createStrategy(t, h, "dcr", "")
	put := func(api, portal int, ids any) {
		t.Helper()
		path := "/v3/apis/" + seed.APIs[api].ID + "/publications/" + seed.Portals[portal].ID
		want(t, h.call("PUT", path, map[string]any{"auth_strategy_ids": ids, "visibility": "private", "auto_approve_registrations": false}), http.StatusOK)
	}
	put(0, 0, []string{s.ID})
	put(1, 0, nil)
	put(0, 1, []string{s.ID})
	tests := []struct {
		query string
		want  int
	}{
		{"", 3},
		{"filter[portal_id][eq]=" + seed.Portals[0].ID, 2},
		{"filter[api_id][eq]=" + seed.APIs[0].ID, 2},
		{"filter[auth_strategy_id][eq]=" + s.ID, 2},
		{"filter[portal_name]=partners", 1},
		{"filter[api_name][contains]=refunds", 1},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			a := h.call("GET", "/v3/api-publications?"+tt.query, nil)
			want(t, a, http.StatusOK)
			var body listBody[Publication]
			a.decode(t, &body)
			if len(body.Data) != tt.want || body.Meta.Page.Total != tt.want {
				t.Fatalf("%d items (total %d), want %d", len(body.Data), body.Meta.Page.Total, tt.want)
			}
			for _, p := range body.Data {
				if p.EntityType != "api" || p.APIID == "" || p.PortalID == "" {
					t.Fatalf("item %+v", p)
				}
			}
		})
	}
}
