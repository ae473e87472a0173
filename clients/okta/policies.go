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
