package e2e

import (
	"testing"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/devserver"
)

// validate: konnect on a real server: Konnect registers the client in Okta through the
// provider (its DCR call reaches the Okta emulator), dcrflow finds it there, and the
// application and the client are gone at the end.
func TestOnboard_ValidateThroughKonnect(t *testing.T) {
	r := startRig(t, devserver.Start(t))
	spec := faultSpec("konnect-check")
	spec.ValidateVia = dcrflow.ValidateViaKonnect
	spec.ValidationOwner = &dcrflow.AppOwner{Type: "team", ID: "86a30d43-84a6-41e2-81c5-4cb3892d981a"} // the payments portal's seeded team
	seq := lastSeq(r.stack)
	o := r.onboard(t, []dcrflow.PortalSpec{spec})[0]
	if !o.Succeeded {
		t.Fatal(o.Err)
	}
	v := o.Result.Validation
	if v == nil || !v.Passed || v.Konnect == nil || !v.Konnect.Passed || v.Konnect.ClientID == "" || v.Konnect.ClientID == v.ClientID {
		t.Fatalf("validation = %+v (konnect %+v)", v, v.Konnect)
	}
	// The sandbox logs a call when it is answered, so Konnect's own DCR call to Okta
	// comes right before the application's creation it belongs to.
	var appCreated, konnectRegistered bool
	reqs := r.sb.Sandbox.Requests(seq)
	for i, q := range reqs {
		if q.System == "konnect" && q.Method == "POST" && q.Path == "/v3/portals/"+portalID(r.state(t), "payments")+"/applications" && q.Status == 201 {
			appCreated = true
			prev := reqs[i-1]
			konnectRegistered = prev.System == "okta" && prev.Method == "POST" && prev.Path == "/oauth2/v1/clients" && prev.Status == 201
		}
	}
	if !appCreated || !konnectRegistered {
		t.Errorf("application created %v, Konnect's DCR call seen %v", appCreated, konnectRegistered)
	}
	st := r.state(t)
	if len(st.Konnect.Applications) != 0 || len(st.Okta.Clients) != 0 {
		t.Fatalf("left behind: applications %+v, clients %+v", st.Konnect.Applications, st.Okta.Clients)
	}
}
