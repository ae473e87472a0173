package konnect

import (
	"net/http"
	"strings"
	"testing"
)

func TestPortals_ListAndGet(t *testing.T) {
	t.Parallel()
	h := start(t)
	seed := DefaultSeed()
	names := func(q string) []string {
		t.Helper()
		a := h.call("GET", "/v3/portals?"+q, nil)
		want(t, a, http.StatusOK)
		var body listBody[Portal]
		a.decode(t, &body)
		var out []string
		for _, p := range body.Data {
			out = append(out, p.Name)
		}
		return out
	}
	tests := []struct{ query, want string }{
		{"", "payments,partners,internal,public,sandbox,europe"},
		{"filter[name]=partners", "partners"},
		{"filter[name][eq]=part", ""},
		{"filter[name][contains]=pa", "payments,partners"},
		{"filter[name][oeq]=public,europe", "public,europe"},
		{"filter[id][eq]=" + seed.Portals[2].ID, "internal"},
		{"filter[rbac_enabled]=true", "partners,internal"},
		{"filter[default_api_visibility]=public", "public"},
		{"page[size]=2&page[number]=2", "internal,public"},
		{"sort=name&page[size]=3", "europe,internal,partners"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if got := strings.Join(names(tt.query), ","); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	a := h.call("GET", "/v3/portals/"+seed.Portals[0].ID, nil)
	want(t, a, http.StatusOK)
	var p Portal
	a.decode(t, &p)
	if p.Name != "payments" || !p.AuthenticationEnabled || p.DefaultAPIVisibility != "private" ||
		p.CanonicalDomain != p.DefaultDomain || p.DefaultApplicationAuthStrategyID != nil {
		t.Fatalf("portal %+v", p)
	}
	// The bare filter[id] form is accepted too, though the v3 spec only has operators.
	a = h.callRaw("GET", "/v3/portals?filter[id]="+seed.Portals[2].ID, nil)
	var byID listBody[Portal]
	a.decode(t, &byID)
	if len(byID.Data) != 1 || byID.Data[0].Name != "internal" {
		t.Fatalf("filter[id]: %s", a.body)
	}
	want(t, h.call("GET", "/v3/portals/"+newUUID(), nil), http.StatusNotFound)
	want(t, h.callRaw("GET", "/v3/portals?filter[rbac_enabled]=maybe", nil), http.StatusBadRequest)
}
