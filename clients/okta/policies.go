package okta

import (
	"context"
	"slices"
	"time"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// Policy is an access policy of an authorization server.
type Policy struct {
	ID          string
	Name        string
	Description string
	Status      string
	Type        string
	Priority    int64
	System      bool
	// Clients is the clients condition: client ids, or ALL_CLIENTS.
	Clients []string
}

// PolicyRule is a rule of an access policy.
type PolicyRule struct {
	ID         string
	Name       string
	Status     string
	Type       string
	Priority   int64
	System     bool
	GrantTypes []string // e.g. client_credentials
	Scopes     []string // scope names, or "*" for any
	Groups     []string
	Users      []string
	// AccessTokenLifetime is zero when the rule does not say.
	AccessTokenLifetime time.Duration
}

func policyFrom(p *oktasdk.AuthorizationServerPolicy) Policy {
	out := Policy{ID: p.Id, Name: p.Name, Description: p.Description, Status: p.Status, Type: p.Type,
		Priority: p.Priority}
	if p.System != nil {
		out.System = *p.System
	}
	if p.Conditions != nil && p.Conditions.Clients != nil {
		out.Clients = slices.Clone(p.Conditions.Clients.Include)
	}
	return out
}

func ruleFrom(r *oktasdk.AuthorizationServerPolicyRule) PolicyRule {
	out := PolicyRule{ID: r.Id, Name: r.Name, Status: r.Status, Type: r.Type, Priority: r.Priority}
	if r.System != nil {
		out.System = *r.System
	}
	if cond := r.Conditions; cond != nil {
		if cond.GrantTypes != nil {
			out.GrantTypes = slices.Clone(cond.GrantTypes.Include)
		}
		if cond.Scopes != nil {
			out.Scopes = slices.Clone(cond.Scopes.Include)
		}
		if cond.People != nil && cond.People.Groups != nil {
			out.Groups = slices.Clone(cond.People.Groups.Include)
		}
		if cond.People != nil && cond.People.Users != nil {
			out.Users = slices.Clone(cond.People.Users.Include)
		}
	}
	if r.Actions != nil && r.Actions.Token != nil && r.Actions.Token.AccessTokenLifetimeMinutesPtr != nil {
		out.AccessTokenLifetime = time.Duration(*r.Actions.Token.AccessTokenLifetimeMinutesPtr) * time.Minute
	}
	return out
}

// ListPolicies returns the server's access policies.
func (c *Client) ListPolicies(ctx context.Context, asID string) ([]Policy, error) {
	const op = "ListPolicies"
	if asID == "" {
		return nil, invalidArgument(op, "authorization server id is empty")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	policies, resp, err := c.sdk.AuthorizationServer.ListAuthorizationServerPolicies(ctx, segment(asID))
	policies, resp, err = allPages(ctx, policies, resp, err)
	if err != nil {
		return nil, failure(op, ex, resp, err, c.token)
	}
	out := make([]Policy, 0, len(policies))
	for _, p := range policies {
		if p != nil {
			out = append(out, policyFrom(p))
		}
	}
	return out, nil
}

// ListPolicyRules returns the rules of one policy.
func (c *Client) ListPolicyRules(ctx context.Context, asID, policyID string) ([]PolicyRule, error) {
	const op = "ListPolicyRules"
	if asID == "" || policyID == "" {
		return nil, invalidArgument(op, "authorization server id and policy id are required")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	rules, resp, err := c.sdk.AuthorizationServer.ListAuthorizationServerPolicyRules(ctx, segment(asID), segment(policyID))
	rules, resp, err = allPages(ctx, rules, resp, err)
	if err != nil {
		return nil, failure(op, ex, resp, err, c.token)
	}
	out := make([]PolicyRule, 0, len(rules))
	for _, r := range rules {
		if r != nil {
			out = append(out, ruleFrom(r))
		}
	}
	return out, nil
}

// Policy and rule enums.
const (
	PolicyTypeOAuth  = "OAUTH_AUTHORIZATION_POLICY"
	RuleTypeResource = "RESOURCE_ACCESS"
	AllClients       = "ALL_CLIENTS" // a policy's clients condition for every client
	GroupEveryone    = "EVERYONE"    // a rule's people condition without a user (client_credentials)
)

// DefaultAccessTokenLifetime is a created rule's token lifetime when it names none
// (Okta's own default).
const DefaultAccessTokenLifetime = time.Hour

// CreatePolicy creates an access policy of type OAUTH_AUTHORIZATION_POLICY with
// p's name, description, clients (client ids or ALL_CLIENTS, required) and
// priority (0: last); Status defaults to ACTIVE. A taken name fails with IsDuplicate.
func (c *Client) CreatePolicy(ctx context.Context, asID string, p Policy) (*Policy, error) {
	const op = "CreatePolicy"
	if asID == "" || p.Name == "" || len(p.Clients) == 0 {
		return nil, invalidArgument(op, "authorization server id, policy name and clients are required")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	body := oktasdk.AuthorizationServerPolicy{Type: PolicyTypeOAuth, Name: p.Name, Description: p.Description,
		Status: orDefault(p.Status, StatusActive), Priority: p.Priority,
		Conditions: &oktasdk.PolicyRuleConditions{Clients: &oktasdk.ClientPolicyCondition{Include: slices.Clone(p.Clients)}}}
	created, resp, err := c.sdk.AuthorizationServer.CreateAuthorizationServerPolicy(ctx, segment(asID), body)
	if err == nil && created == nil {
		err = errEmptyBody
	}
	if err != nil {
		return nil, failure(op, ex, resp, err, c.token)
	}
	out := policyFrom(created)
	return &out, nil
}

// CreatePolicyRule creates a RESOURCE_ACCESS rule in a policy: r's name, grant
// types and scopes (names, or "*") are required; Groups and Users empty mean
// EVERYONE (the "no user" a client_credentials rule needs), AccessTokenLifetime
// zero means an hour, Priority zero last, Status empty ACTIVE. Refresh tokens keep
// Okta's defaults (unlimited, 7-day window).
func (c *Client) CreatePolicyRule(ctx context.Context, asID, policyID string, r PolicyRule) (*PolicyRule, error) {
	const op = "CreatePolicyRule"
	if asID == "" || policyID == "" || r.Name == "" || len(r.GrantTypes) == 0 || len(r.Scopes) == 0 {
		return nil, invalidArgument(op, "authorization server id, policy id, rule name, grant types and scopes are required")
	}
	lifetime := r.AccessTokenLifetime
	if lifetime == 0 {
		lifetime = DefaultAccessTokenLifetime
	}
	if lifetime < time.Minute || lifetime%time.Minute != 0 {
		return nil, invalidArgument(op, "access token lifetime must be whole minutes")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	groups := slices.Clone(r.Groups)
	if len(groups) == 0 && len(r.Users) == 0 {
		groups = []string{GroupEveryone}
	}
	people := &oktasdk.PolicyPeopleCondition{}
	if len(groups) > 0 {
		people.Groups = &oktasdk.GroupCondition{Include: groups}
	}
	if len(r.Users) > 0 {
		people.Users = &oktasdk.UserCondition{Include: slices.Clone(r.Users)}
	}
	// The token action's fields are sent even when zero: the SDK would write null,
	// which the spec's integers do not allow.
	minutes, refresh, window := int64(lifetime/time.Minute), int64(0), int64(10080)
	body := oktasdk.AuthorizationServerPolicyRule{Type: RuleTypeResource, Name: r.Name,
		Status: orDefault(r.Status, StatusActive), Priority: r.Priority,
		Conditions: &oktasdk.AuthorizationServerPolicyRuleConditions{
			GrantTypes: &oktasdk.GrantTypePolicyRuleCondition{Include: slices.Clone(r.GrantTypes)},
			Scopes:     &oktasdk.OAuth2ScopesMediationPolicyRuleCondition{Include: slices.Clone(r.Scopes)},
			People:     people},
		Actions: &oktasdk.AuthorizationServerPolicyRuleActions{Token: &oktasdk.TokenAuthorizationServerPolicyRuleAction{
			AccessTokenLifetimeMinutesPtr: &minutes, RefreshTokenLifetimeMinutesPtr: &refresh,
			RefreshTokenWindowMinutesPtr: &window}}}
	created, resp, err := c.sdk.AuthorizationServer.CreateAuthorizationServerPolicyRule(ctx, segment(asID), segment(policyID), body)
	if err == nil && created == nil {
		err = errEmptyBody
	}
	if err != nil {
		return nil, failure(op, ex, resp, err, c.token)
	}
	out := ruleFrom(created)
	return &out, nil
}

// DeletePolicy deletes an access policy and, with it, its rules; a 404 means it
// is already gone.
func (c *Client) DeletePolicy(ctx context.Context, asID, policyID string) error {
	const op = "DeletePolicy"
	if asID == "" || policyID == "" {
		return invalidArgument(op, "authorization server id and policy id are required")
	}
	ctx, cancel, ex := c.start(ctx, op)
	defer cancel()
	resp, err := c.sdk.AuthorizationServer.DeleteAuthorizationServerPolicy(ctx, segment(asID), segment(policyID))
	if err != nil {
		return failure(op, ex, resp, err, c.token)
	}
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
