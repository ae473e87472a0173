package activities

import (
	"context"

	"github.com/dcrflow/dcrflow/clients/okta"
)

// AccessPolicyCover is step 4's judgment, read-only, for tools outside a workflow
// (doctor): the name of the access policy that would let client_credentials clients
// get the scopes on the server, or "" and what every policy lacks, in step 4's words.
// A policy dcrflow made for another portal than portalKey does not count, as in step 4.
func AccessPolicyCover(ctx context.Context, o *okta.Client, asID, asName string, scopes []string, portalKey string) (covering, missing string, err error) {
	v, err := (&Activities{Okta: o}).inspectPolicies(ctx, asID, scopes, portalKey)
	if err != nil {
		return "", "", err
	}
	if v.covering != nil {
		return v.covering.Name, "", nil
	}
	return "", policyMissingMessage(PolicyInput{AuthServerID: asID, AuthServer: asName, Scopes: scopes, PortalKey: portalKey}, v.why), nil
}
