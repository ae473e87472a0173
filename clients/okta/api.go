package okta

import (
	"context"

	jose "github.com/go-jose/go-jose/v3"
)

// API is what dcrflow needs from Okta; activities depend on it, tests fake it.
type API interface {
	GetAuthServer(ctx context.Context, id string) (*AuthServer, error)
	FindAuthServerByName(ctx context.Context, name string) (*AuthServer, error)

	ListScopes(ctx context.Context, asID string) ([]Scope, error)
	FindScope(ctx context.Context, asID, name string) (*Scope, error)
	CreateScope(ctx context.Context, asID string, s Scope) (*Scope, error)
	DeleteScope(ctx context.Context, asID, scopeID string) error

	ListClaims(ctx context.Context, asID string) ([]Claim, error)
	FindClaim(ctx context.Context, asID, name, claimType string) (*Claim, error)
	CreateClaim(ctx context.Context, asID string, c Claim) (*Claim, error)
	DeleteClaim(ctx context.Context, asID, claimID string) error

	ListPolicies(ctx context.Context, asID string) ([]Policy, error)
	ListPolicyRules(ctx context.Context, asID, policyID string) ([]PolicyRule, error)
	CreatePolicy(ctx context.Context, asID string, p Policy) (*Policy, error)
	CreatePolicyRule(ctx context.Context, asID, policyID string, r PolicyRule) (*PolicyRule, error)
	DeletePolicy(ctx context.Context, asID, policyID string) error

	RegisterClient(ctx context.Context, dcrToken string, reg ClientRegistration) (*RegisteredClient, error)
	GetClient(ctx context.Context, dcrToken, clientID string) (*RegisteredClient, error)
	DeleteClient(ctx context.Context, dcrToken, clientID string) error
	ListClients(ctx context.Context, dcrToken, namePrefix string) ([]RegisteredClient, error)

	ClientCredentialsToken(ctx context.Context, issuer, clientID, clientSecret string, scopes []string) (*Token, error)
	GetMetadata(ctx context.Context, issuer string) (*Metadata, error)
	GetJWKS(ctx context.Context, jwksURI string) (*jose.JSONWebKeySet, error)
}

var _ API = (*Client)(nil)
