package activities

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v3/jwt"
	"go.temporal.io/sdk/activity"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/okta"
)

// cleanupTimeout bounds the deletion of the throw-away client, which runs even when
// the activity's own context is done.
const cleanupTimeout = 30 * time.Second

// ValidateDCR proves that the portal's setup issues usable credentials: it registers a
// throw-away client through Okta DCR with the portal's DCR token, gets a
// client_credentials token with the portal's scopes, verifies its signature against
// the issuer's JWKS, checks that the claim carries the client id and that the scopes
// were granted, and deletes the client — also when a check fails. A refused token is
// a failed validation (with Okta's reason), not an error to retry.
func (a *Activities) ValidateDCR(ctx context.Context, in ValidateInput) (dcrflow.Validation, error) {
	var v dcrflow.Validation
	ctx = patient(ctx)
	token, ok := a.DCRTokens[in.TokenName]
	if !ok {
		return v, configError("the worker has no DCR token named %q", in.TokenName)
	}
	// The client's name carries the run, so a retry finds what an earlier attempt
	// registered even when that attempt never saw Okta's answer (a timeout after the
	// side effect), and deletes it first.
	name := fmt.Sprintf("dcrflow-validate-%s-%s", in.PortalKey, runID(ctx))
	retry := activity.GetInfo(ctx).Attempt > 1
	if retry {
		if err := a.deleteValidationClients(ctx, token, name); err != nil {
			return v, err
		}
	}
	client, err := a.Okta.RegisterClient(ctx, token, okta.ClientRegistration{
		ClientName:      name,
		ApplicationType: "service", GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{"token"},
		TokenEndpointAuthMethod: "client_secret_basic",
	})
	if err != nil {
		return v, apiError("register validation client", err)
	}
	activity.RecordHeartbeat(ctx, client.ClientID)
	v.ClientID = client.ClientID

	problems, granted, checkErr := a.checkToken(ctx, in, client)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := a.Okta.DeleteClient(dctx, token, client.ClientID); err != nil && !okta.IsNotFound(err) {
		return v, apiError("delete validation client "+client.ClientID, err) // the retry deletes it by name
	}
	if retry { // an earlier attempt's registration may have landed late
		if err := a.deleteValidationClients(dctx, token, name); err != nil {
			return v, err
		}
	}
	if checkErr != nil {
		return v, checkErr
	}
	v.Scopes, v.Problems, v.Passed = granted, problems, len(problems) == 0
	return v, nil
}

// deleteValidationClients deletes every client named name (this run's leftovers).
func (a *Activities) deleteValidationClients(ctx context.Context, token, name string) error {
	left, err := a.Okta.ListClients(ctx, token, name)
	if err != nil {
		return apiError("list earlier validation clients", err)
	}
	for _, c := range left {
		if err := a.Okta.DeleteClient(ctx, token, c.ClientID); err != nil && !okta.IsNotFound(err) {
			return apiError("delete earlier validation client "+c.ClientID, err)
		}
	}
	return nil
}

// checkToken gets and checks a token for the client. Problems are failed checks;
// the error is a transient fault worth retrying.
func (a *Activities) checkToken(ctx context.Context, in ValidateInput, c *okta.RegisteredClient) (problems, granted []string, err error) {
	md, err := a.Okta.GetMetadata(ctx, in.Issuer)
	if err != nil {
		return nil, nil, apiError("read issuer metadata", err)
	}
	activity.RecordHeartbeat(ctx, c.ClientID)
	keys, err := a.Okta.GetJWKS(ctx, md.JWKSURI)
	if err != nil {
		return nil, nil, apiError("read issuer JWKS", err)
	}
	activity.RecordHeartbeat(ctx, c.ClientID)
	tok, err := a.Okta.ClientCredentialsToken(ctx, in.Issuer, c.ClientID, c.ClientSecret, in.Scopes)
	if err != nil {
		if _, temporary, _ := classify(err); temporary {
			return nil, nil, apiError("get client_credentials token", err)
		}
		return []string{fmt.Sprintf("Okta refused a client_credentials token: %v", err)}, nil, nil
	}
	parsed, err := jwt.ParseSigned(tok.AccessToken)
	if err != nil {
		return []string{"the access token is not a signed JWT: " + err.Error()}, nil, nil
	}
	var std jwt.Claims
	claims := map[string]any{}
	if err := parsed.Claims(keys, &std, &claims); err != nil {
		return []string{"the access token's signature does not verify against the issuer's JWKS: " + err.Error()}, nil, nil
	}
	if len(parsed.Headers) == 0 || parsed.Headers[0].Algorithm != "RS256" {
		problems = append(problems, "the access token is not signed with RS256")
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: in.Issuer, Time: time.Now()}, time.Minute); err != nil {
		problems = append(problems, "the access token's issuer or lifetime is wrong: "+err.Error())
	}
	if got, _ := claims[in.ClaimName].(string); got != c.ClientID {
		problems = append(problems, fmt.Sprintf("claim %q is %v, want the client id %s", in.ClaimName, claims[in.ClaimName], c.ClientID))
	}
	granted = stringList(claims["scp"])
	for _, s := range in.Scopes {
		if !slices.Contains(granted, s) {
			problems = append(problems, fmt.Sprintf("scope %q was not granted (got %v)", s, granted))
		}
	}
	return problems, granted, nil
}

func stringList(v any) []string {
	items, _ := v.([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
