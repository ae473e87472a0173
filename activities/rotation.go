package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
)

// TokenInput names a DCR token of the worker: the token of Name, or with Next its
// rotation's new token (Name + "-next"). The token never leaves the worker.
type TokenInput struct {
	Name string `json:"name"`
	Next bool   `json:"next,omitempty"`
}

// SetTokenInput puts a provider on one of the worker's tokens.
type SetTokenInput struct {
	ProviderID string     `json:"provider_id,omitempty"` // "" looks the provider up by name
	Provider   string     `json:"provider"`
	Token      TokenInput `json:"token"`
}

// SetTokenResult is the provider the token was set on (Gone: no such provider).
type SetTokenResult struct {
	ID   string `json:"id,omitempty"`
	Gone bool   `json:"gone,omitempty"`
}

// tokenOf resolves a TokenInput in the worker's configuration.
func (a *Activities) tokenOf(in TokenInput) (string, string, error) {
	name := dcrflow.DCRTokenName(in.Name)
	if in.Next {
		name = dcrflow.NextDCRTokenName(in.Name)
	}
	t, ok := a.DCRTokens[name]
	if !ok || t == "" {
		return "", name, configError("the worker has no DCR token named %q; add it to dcr_tokens (or %s) on every worker and restart them", name, dcrflow.DCRTokenEnv(name))
	}
	return t, name, nil
}

// RotationPreflight refuses a rotation of name before anything changes when the
// worker lacks the token or its new one, or holds the same token under both names.
func (a *Activities) RotationPreflight(_ context.Context, name string) error {
	cur, _, err := a.tokenOf(TokenInput{Name: name})
	if err != nil {
		return err
	}
	next, nextName, err := a.tokenOf(TokenInput{Name: name, Next: true})
	if err != nil {
		return err
	}
	if cur == next {
		return configError("dcr_tokens.%s and %s hold the same token: put the new Okta API token in %s", dcrflow.DCRTokenName(name), nextName, dcrflow.DCRTokenEnv(nextName))
	}
	return nil
}

// SetProviderToken PATCHes the provider's dcr_config with the named token. Setting
// the token a provider already holds changes nothing, so a retry (or a run resumed
// after a crash) may do it again. A provider that no longer exists is reported Gone.
func (a *Activities) SetProviderToken(ctx context.Context, in SetTokenInput) (SetTokenResult, error) {
	token, _, err := a.tokenOf(in.Token)
	if err != nil {
		return SetTokenResult{}, err
	}
	id := in.ProviderID
	if id == "" {
		p, err := a.Konnect.DCRProviders.FindByName(ctx, in.Provider)
		if err != nil {
			return SetTokenResult{}, apiError("find DCR provider "+in.Provider, err)
		}
		if p == nil {
			return SetTokenResult{Gone: true}, nil
		}
		id = p.ID
	}
	p, err := a.Konnect.DCRProviders.UpdateToken(ctx, id, token)
	if konnect.IsNotFound(err) && in.ProviderID != "" {
		// The recorded id is gone; the name may have been recreated.
		return a.SetProviderToken(ctx, SetTokenInput{Provider: in.Provider, Token: in.Token})
	}
	if err != nil {
		return SetTokenResult{}, apiError("set the DCR token of provider "+in.Provider, err)
	}
	return SetTokenResult{ID: p.ID}, nil
}

// livenessPrefix is a client name no client has: listing it is one cheap page.
const livenessPrefix = "dcrflow-liveness-probe-"

// ProveDCRTokens reads /oauth2/v1/clients with every DCR token the worker holds,
// which proves each still works and, as a use, keeps it from expiring (Okta expires
// an API token unused for 30 days). A token Okta refuses (401/403: revoked, expired,
// its admin deactivated) is reported dead with Okta's answer, never the token;
// throttling and server errors fail the activity so that Temporal retries it.
func (a *Activities) ProveDCRTokens(ctx context.Context, in dcrflow.ProveDCRTokensInput) (dcrflow.ProveDCRTokensResult, error) {
	out := dcrflow.ProveDCRTokensResult{Tokens: []dcrflow.DCRTokenProof{}}
	uses := map[string]dcrflow.DCRTokenUse{}
	for _, u := range in.Uses {
		uses[dcrflow.DCRTokenName(u.Name)] = u
	}
	for _, name := range sortedKeys(a.DCRTokens) {
		p := dcrflow.DCRTokenProof{Name: name, OK: true}
		base, next := dcrflow.IsNextDCRTokenName(name)
		if next && a.DCRTokens[base] != "" {
			p.Next = true
		} else {
			base = name
		}
		if !p.Next {
			u := uses[base]
			p.Providers, p.Portals = slices.Clone(u.Providers), slices.Clone(u.Portals)
		}
		_, err := a.Okta.ListClients(ctx, a.DCRTokens[name], livenessPrefix)
		var oe *okta.Error
		switch {
		case err == nil:
		case errors.As(err, &oe) && (oe.StatusCode == http.StatusUnauthorized || oe.StatusCode == http.StatusForbidden):
			p.OK = false
			p.Reason = fmt.Sprintf("Okta refuses it: HTTP %d %s %s (revoked, expired after 30 days unused, or its admin deactivated); create a new API token and rotate: dcrflow rotate-dcr-token --name %s",
				oe.StatusCode, oe.Code, oe.Summary, base)
		default:
			return out, apiError("prove DCR token "+name, err)
		}
		out.Tokens = append(out.Tokens, p)
	}
	return out, nil
}
