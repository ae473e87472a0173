package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/usage"
)

// PolicyInput checks (or ensures) that an access policy of the authorization server
// lets client_credentials clients get the portal's scopes (step 4).
type PolicyInput struct {
	AuthServerID string   `json:"auth_server_id"`
	AuthServer   string   `json:"auth_server"` // as the spec names it, for messages
	Scopes       []string `json:"scopes"`
	PortalKey    string   `json:"portal_key"`
	Ensure       bool     `json:"ensure"` // create a dcrflow-owned policy and rule when none covers
}

// grantClientCred is the grant type step 4 is about.
const grantClientCred = "client_credentials"

// PolicyName is the name of the access policy dcrflow creates for a portal.
func PolicyName(portalKey string) string { return "dcrflow-" + portalKey }

// policyView is what the server's access policies mean for the portal's clients.
type policyView struct {
	covering *okta.Policy // the first policy that grants the scopes to client_credentials clients
	own      *okta.Policy // dcrflow's policy for this portal, if any
	why      []string     // why the others do not cover, for the message
}

// inspectPolicies reads the policies as Okta evaluates them for a DCR client, whose
// id nobody knows in advance: ACTIVE policies for ALL_CLIENTS in priority order, the
// first with an ACTIVE rule granting client_credentials every scope decides. A policy
// that dcrflow made for another portal does not count: offboarding that portal would
// delete it. Read-only, so the plan uses it too.
func (a *Activities) inspectPolicies(ctx context.Context, asID string, scopes []string, portalKey string) (policyView, error) {
	var v policyView
	policies, err := a.Okta.ListPolicies(ctx, asID)
	if err != nil {
		return v, apiError("list access policies", err)
	}
	slices.SortStableFunc(policies, func(x, y okta.Policy) int { return int(x.Priority - y.Priority) })
	for i := range policies {
		p := &policies[i]
		if ownedBy(p.Description, portalKey) && v.own == nil {
			v.own = p
		}
		switch {
		case p.Status != okta.StatusActive:
			v.why = append(v.why, fmt.Sprintf("policy %q is %s", p.Name, p.Status))
			continue
		case !slices.Contains(p.Clients, okta.AllClients):
			v.why = append(v.why, fmt.Sprintf("policy %q applies only to listed clients, not to DCR clients (ALL_CLIENTS)", p.Name))
			continue
		case ownedByAnother(p.Description, portalKey):
			v.why = append(v.why, fmt.Sprintf("policy %q belongs to another portal's onboarding", p.Name))
			continue
		}
		rules, err := a.Okta.ListPolicyRules(ctx, asID, p.ID)
		if err != nil {
			return v, apiError("list rules of access policy "+p.Name, err)
		}
		if why := ruleGap(p.Name, rules, scopes); why != "" {
			v.why = append(v.why, why)
			continue
		}
		// It decides: the rest (their rules, the reasons, the own policy) only matter
		// when nothing covers, so no more calls.
		v.covering = p
		return v, nil
	}
	return v, nil
}

// ruleGap is empty when an ACTIVE rule grants client_credentials every scope, else
// says what the closest rule lacks.
func ruleGap(policy string, rules []okta.PolicyRule, scopes []string) string {
	gap := fmt.Sprintf("policy %q has no ACTIVE rule granting client_credentials", policy)
	for _, r := range rules {
		if r.Status != okta.StatusActive || !slices.Contains(r.GrantTypes, grantClientCred) {
			continue
		}
		if who := peopleOnly(r); who != "" {
			gap = fmt.Sprintf("policy %q: rule %q applies only to %s; a client_credentials request has no user, so Okta does not apply it to DCR clients (assign the rule to Everyone)", policy, r.Name, who)
			continue
		}
		var missing []string
		for _, s := range scopes {
			if !slices.Contains(r.Scopes, s) && !slices.Contains(r.Scopes, "*") {
				missing = append(missing, s)
			}
		}
		if len(missing) == 0 {
			return ""
		}
		gap = fmt.Sprintf("policy %q: rule %q grants client_credentials %v, not %v", policy, r.Name, r.Scopes, missing)
	}
	return gap
}

// peopleOnly says whom a rule is restricted to when its people condition names
// users, or groups other than Everyone; "" when it applies to everyone. Okta
// matches the people condition against the request's user; a client_credentials
// request has none, so only an unrestricted rule (no people condition, or the
// Everyone group, what the Admin Console and Okta's API default to) can match it.
func peopleOnly(r okta.PolicyRule) string {
	if slices.Contains(r.Groups, okta.GroupEveryone) || (len(r.Groups) == 0 && len(r.Users) == 0) {
		return ""
	}
	var parts []string
	if len(r.Users) > 0 {
		parts = append(parts, fmt.Sprintf("users %v", r.Users))
	}
	if len(r.Groups) > 0 {
		parts = append(parts, fmt.Sprintf("groups %v", r.Groups))
	}
	return strings.Join(parts, " and ")
}

// PolicyResult is the policy step 4 found or made. NeedsRule: the policy is this
// run's and lacks the rule, which EnsureAccessPolicyRule adds — a separate activity,
// so that the workflow records the policy for undo before the rule can fail.
type PolicyResult struct {
	Resource  dcrflow.Resource `json:"resource"`
	NeedsRule bool             `json:"needs_rule,omitempty"`
}

// EnsureAccessPolicy is step 4. By default it only checks, and fails naming what is
// missing: DCR then "works", but every token request would end in no_matching_policy.
// With Ensure it creates a dcrflow-owned policy for ALL_CLIENTS (last in priority, so
// it changes nothing for other clients). The policy it finds or makes is the
// resource; only a created one is undone.
func (a *Activities) EnsureAccessPolicy(ctx context.Context, in PolicyInput) (PolicyResult, error) {
	out := PolicyResult{Resource: dcrflow.Resource{Kind: dcrflow.KindAccessPolicy}}
	res := &out.Resource
	if in.Ensure {
		key := usage.Key{Kind: dcrflow.KindAccessPolicy, Name: PolicyName(in.PortalKey)}
		if err := a.join(ctx, usage.OktaDomain(in.AuthServerID), key, in.PortalKey); err != nil {
			return out, err
		}
	}
	v, err := a.inspectPolicies(ctx, in.AuthServerID, in.Scopes, in.PortalKey)
	if err != nil {
		return out, err
	}
	marker := scopeMarker(in.PortalKey, runID(ctx))
	if v.covering != nil {
		res.Name, res.ID, res.Action = v.covering.Name, v.covering.ID, dcrflow.ActionAdopted
		if strings.Contains(v.covering.Description, marker) {
			res.Action = dcrflow.ActionCreated // an earlier attempt of this run made it
		}
		return out, nil
	}
	if !in.Ensure {
		return out, policyMissing(in, v.why)
	}
	pol := v.own
	switch {
	case pol != nil && !strings.Contains(pol.Description, marker):
		return out, conflict("access policy %q, made by an earlier onboarding of portal %s, does not grant client_credentials the scopes %v (%s); offboard the portal or delete the policy in Okta",
			pol.Name, in.PortalKey, in.Scopes, strings.Join(v.why, "; "))
	case pol == nil:
		pol, err = a.Okta.CreatePolicy(ctx, in.AuthServerID, okta.Policy{
			Name: PolicyName(in.PortalKey), Description: "Lets DCR clients of portal " + in.PortalKey + " get its scopes " + marker,
			Status: okta.StatusActive, Type: okta.PolicyTypeOAuth, Clients: []string{okta.AllClients},
		})
		if err != nil {
			return out, apiError("create access policy "+PolicyName(in.PortalKey), err)
		}
	}
	res.Name, res.ID, res.Action = pol.Name, pol.ID, dcrflow.ActionCreated
	out.NeedsRule = true
	return out, nil
}

// PolicyRuleInput adds the client_credentials rule to the policy this run created.
type PolicyRuleInput struct {
	AuthServerID string   `json:"auth_server_id"`
	PolicyID     string   `json:"policy_id"`
	PolicyName   string   `json:"policy_name"`
	Scopes       []string `json:"scopes"`
	PortalKey    string   `json:"portal_key"`
}

// EnsureAccessPolicyRule gives the policy a rule granting client_credentials the
// scopes, unless an earlier attempt already did.
func (a *Activities) EnsureAccessPolicyRule(ctx context.Context, in PolicyRuleInput) error {
	rules, err := a.Okta.ListPolicyRules(ctx, in.AuthServerID, in.PolicyID)
	if err != nil {
		return freshRefError(ctx, "list rules of access policy "+in.PolicyName, err)
	}
	if ruleGap(in.PolicyName, rules, in.Scopes) == "" {
		return nil
	}
	_, err = a.Okta.CreatePolicyRule(ctx, in.AuthServerID, in.PolicyID, okta.PolicyRule{
		Name: "client_credentials for " + in.PortalKey, Status: okta.StatusActive, Type: okta.RuleTypeResource,
		GrantTypes: []string{grantClientCred}, Scopes: slices.Clone(in.Scopes), Groups: []string{okta.GroupEveryone},
	})
	if err != nil {
		return freshRefError(ctx, "create rule of access policy "+in.PolicyName, err)
	}
	return nil
}

func policyMissing(in PolicyInput, why []string) error {
	return policyError("%s", policyMissingMessage(in, why))
}

func policyMissingMessage(in PolicyInput, why []string) string {
	detail := "it has no access policy"
	if len(why) > 0 {
		detail = strings.Join(why, "; ")
	}
	return fmt.Sprintf("no access policy of authorization server %q lets client_credentials clients get the scopes %v, so every token request would fail with no_matching_policy (%s). In Okta, add to a policy for All clients a rule granting Client Credentials these scopes, or set `access_policy: ensure` to let dcrflow create one",
		in.AuthServer, in.Scopes, detail)
}

// DeleteAccessPolicy undoes EnsureAccessPolicy (its rules go with it); already gone
// counts as done.
func (a *Activities) DeleteAccessPolicy(ctx context.Context, in OktaResourceInput) error {
	if err := a.Okta.DeletePolicy(ctx, in.AuthServerID, in.ID); err != nil && !okta.IsNotFound(err) {
		return apiError("delete access policy "+in.Name, err)
	}
	return nil
}

// planPolicy is step 4 as the plan sees it: what EnsureAccessPolicy would find, make
// or refuse, without a write.
func (a *Activities) planPolicy(ctx context.Context, spec dcrflow.PortalSpec, asID string, scopes []string) ([]dcrflow.PlanItem, []string, error) {
	v, err := a.inspectPolicies(ctx, asID, scopes, spec.Key)
	if err != nil {
		return nil, nil, err
	}
	in := PolicyInput{AuthServerID: asID, AuthServer: spec.AuthServer, Scopes: scopes, PortalKey: spec.Key, Ensure: spec.AccessPolicy == dcrflow.AccessPolicyEnsure}
	item := dcrflow.PlanItem{Kind: dcrflow.KindAccessPolicy}
	switch {
	case v.covering != nil:
		item.Name, item.ID, item.Action = v.covering.Name, v.covering.ID, dcrflow.PlanAdopt
		return []dcrflow.PlanItem{item}, nil, nil
	case !in.Ensure:
		item.Name, item.Action, item.Diffs = "(none)", dcrflow.PlanMissing, v.why
		return []dcrflow.PlanItem{item}, []string{"access_policy: " + policyMissingMessage(in, v.why)}, nil
	case v.own != nil:
		item.Name, item.ID, item.Action, item.Diffs = v.own.Name, v.own.ID, dcrflow.PlanConflict, v.why
		return []dcrflow.PlanItem{item}, []string{fmt.Sprintf("access_policy: dcrflow's policy %q from an earlier onboarding does not grant client_credentials the scopes %v", v.own.Name, scopes)}, nil
	}
	item.Name, item.Action = PolicyName(spec.Key), dcrflow.PlanCreate
	return []dcrflow.PlanItem{item}, nil, nil
}

// OffboardAccessPolicy deletes the access policy (and so its rule) that step 4
// created for the portal: its description carries dcrflow's marker for this portal,
// or an onboarding record says a run created it. A policy step 4 only found is
// never touched; no other portal leans on a portal's own policy (step 4 does not let
// it count as cover), so nothing else can still use it.
func (a *Activities) OffboardAccessPolicy(ctx context.Context, in OffboardItemInput) (dcrflow.Resource, error) {
	return a.offboardItem(ctx, in, dcrflow.KindAccessPolicy, func(usage.Left) (dcrflow.Resource, error) { return a.removeAccessPolicy(ctx, in) })
}

func (a *Activities) removeAccessPolicy(ctx context.Context, in OffboardItemInput) (dcrflow.Resource, error) {
	res := dcrflow.Resource{Kind: dcrflow.KindAccessPolicy, Name: in.Name}
	policies, err := a.Okta.ListPolicies(ctx, in.AuthServerID)
	if err != nil {
		return res, apiError("list access policies", err)
	}
	i := slices.IndexFunc(policies, func(p okta.Policy) bool { return p.Name == in.Name })
	if i < 0 {
		return absent(ctx, res, dcrflow.ActionDeleted), nil
	}
	p := policies[i]
	res.ID = p.ID
	switch {
	case slices.Contains(in.Known.Adopted, p.ID) && !slices.Contains(in.Known.Created, p.ID):
		return kept(res, "onboarding found it and adopted it: not dcrflow's"), nil
	case !ownedBy(p.Description, in.PortalKey) && !slices.Contains(in.Known.Created, p.ID):
		return kept(res, "not created by dcrflow for portal %s", in.PortalKey), nil
	}
	activity.RecordHeartbeat(ctx, offboardProgress{Doing: dcrflow.ActionDeleted})
	if err := a.Okta.DeletePolicy(ctx, in.AuthServerID, p.ID); err != nil && !okta.IsNotFound(err) {
		return res, apiError("delete access policy "+in.Name, err)
	}
	res.Action = dcrflow.ActionDeleted
	return res, nil
}
