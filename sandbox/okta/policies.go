package okta

import (
	"net/http"
	"slices"
	"time"
)

const (
	policyType = "OAUTH_AUTHORIZATION_POLICY"
	allClients = "ALL_CLIENTS"
)

type policyJSON struct {
	Type        string           `json:"type"`
	ID          string           `json:"id"`
	Status      string           `json:"status"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Priority    int              `json:"priority"`
	System      bool             `json:"system"`
	Conditions  policyConditions `json:"conditions"`
	Created     string           `json:"created"`
	LastUpdated string           `json:"lastUpdated"`
	Links       lifecycleLinks   `json:"_links"`
}

type policyConditions struct {
	Clients includeOnly `json:"clients"`
}

type includeOnly struct {
	Include []string `json:"include"`
}

// policyInput is a create body.
type policyInput struct {
	Type        string           `json:"type"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Status      string           `json:"status"`
	Priority    *int             `json:"priority"`
	Conditions  policyConditions `json:"conditions"`
}

func (e *Emulator) policyView(s *authServer, p *policy) policyJSON {
	base := e.serverURL(s.id) + "/policies/" + p.id
	act, deact := lifecycle(base, p.status)
	allow := []string{"GET", "PUT", "DELETE"}
	if p.system {
		allow = allow[:2]
	}
	return policyJSON{Type: policyType, ID: p.id, Status: p.status, Name: p.name, Description: p.description,
		Priority: p.priority, System: p.system, Conditions: policyConditions{Clients: includeOnly{Include: p.clients}},
		Created: timestamp(p.created), LastUpdated: timestamp(p.updated),
		Links: lifecycleLinks{Self: linkTo(base, allow...), Activate: act, Deactivate: deact,
			Rules: linkTo(base+"/rules", "GET")}}
}

// checkPolicy validates a create or replace body against s; self is the policy a
// replace targets, whose own name is no duplicate.
func checkPolicy(s *authServer, in policyInput, self *policy) *apiProblem {
	blank := "The field cannot be left blank."
	switch {
	case in.Type != "" && in.Type != policyType:
		return validation("type", "The policy type must be "+policyType+".")
	case in.Name == "":
		return validation("name", blank)
	case len(in.Name) > 100:
		return validation("name", "The name must be at most 100 characters.")
	case in.Description == "":
		return validation("description", blank)
	case len(in.Conditions.Clients.Include) == 0:
		return validation("conditions.clients.include", blank)
	case in.Status != "" && in.Status != statusActive && in.Status != statusInactive:
		return malformed()
	}
	for _, other := range s.policies {
		if other.name == in.Name && other != self {
			return validation("name", "A policy with the name '"+in.Name+"' already exists.")
		}
	}
	return nil
}

// newPolicy validates a create body against s. Without a priority the policy
// comes last; the caller places it with rerank once it has an id.
func newPolicy(s *authServer, in policyInput, now time.Time) (*policy, *apiProblem) {
	if p := checkPolicy(s, in, nil); p != nil {
		return nil, p
	}
	p := &policy{name: in.Name, description: in.Description, status: orDefault(in.Status, statusActive),
		priority: len(s.policies) + 1, clients: slices.Clone(in.Conditions.Clients.Include), created: now, updated: now}
	if in.Priority != nil && *in.Priority > 0 {
		p.priority = *in.Priority
	}
	return p, nil
}

// inPolicy is inServer for calls under .../policies/{pid}: f runs with the path's
// server and policy, and an unknown policy is Okta's 404.
func (e *Emulator) inPolicy(w http.ResponseWriter, r *http.Request, f func(s *authServer, pol *policy) (status int, body any, p *apiProblem)) {
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		i, p := find(s.policies, r.PathValue("pid"), "Policy")
		if p != nil {
			return 0, nil, p
		}
		return f(s, s.policies[i])
	})
}

func (e *Emulator) listPolicies(w http.ResponseWriter, r *http.Request) {
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		ordered := byPriority(s.policies, func(p *policy) (int, int64) { return p.priority, p.seq })
		return http.StatusOK, viewsOf(ordered, func(pol *policy) policyJSON { return e.policyView(s, pol) }), nil
	})
}

func (e *Emulator) createPolicy(w http.ResponseWriter, r *http.Request) {
	var in policyInput
	bad := !decodeBody(w, r, &in)
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		if bad {
			return 0, nil, malformed()
		}
		pol, p := newPolicy(s, in, e.opts.Now())
		if p != nil {
			return 0, nil, p
		}
		pol.id = randomID(prefixPolicy)
		pol.seq = e.org.seq(pol.id)
		s.policies = append(s.policies, pol)
		rerank(s.policies, pol.id, pol.priority)
		return http.StatusCreated, e.policyView(s, pol), nil
	})
}

func (e *Emulator) getPolicy(w http.ResponseWriter, r *http.Request) {
	e.inPolicy(w, r, func(s *authServer, pol *policy) (int, any, *apiProblem) {
		return http.StatusOK, e.policyView(s, pol), nil
	})
}

// replacePolicy serves PUT .../policies/{pid}: a full replace of name,
// description, clients and, when given, status and priority.
func (e *Emulator) replacePolicy(w http.ResponseWriter, r *http.Request) {
	var in policyInput
	bad := !decodeBody(w, r, &in)
	e.inPolicy(w, r, func(s *authServer, pol *policy) (int, any, *apiProblem) {
		if bad {
			return 0, nil, malformed()
		}
		if p := checkPolicy(s, in, pol); p != nil {
			return 0, nil, p
		}
		pol.name, pol.description = in.Name, in.Description
		pol.clients = slices.Clone(in.Conditions.Clients.Include)
		pol.status = orDefault(in.Status, pol.status)
		pol.updated = e.opts.Now()
		if in.Priority != nil && *in.Priority > 0 {
			rerank(s.policies, pol.id, *in.Priority)
		}
		return http.StatusOK, e.policyView(s, pol), nil
	})
}

// deletePolicy serves DELETE .../policies/{pid}; the policy's rules go with it.
// sandbox: a policy Okta created (system) is refused with 403, as Okta refuses
// deleting system rules (spec AuthorizationServerPolicyRule.system).
func (e *Emulator) deletePolicy(w http.ResponseWriter, r *http.Request) {
	e.inPolicy(w, r, func(s *authServer, pol *policy) (int, any, *apiProblem) {
		if pol.system {
			return 0, nil, forbidden()
		}
		s.policies = slices.DeleteFunc(s.policies, func(p *policy) bool { return p == pol })
		rerank(s.policies, "", 0)
		return http.StatusNoContent, nil, nil
	})
}

// policyLifecycle serves POST .../policies/{pid}/lifecycle/{activate,deactivate}.
func (e *Emulator) policyLifecycle(status string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e.inPolicy(w, r, func(s *authServer, pol *policy) (int, any, *apiProblem) {
			if pol.status != status {
				pol.status, pol.updated = status, e.opts.Now()
			}
			return http.StatusNoContent, nil, nil
		})
	}
}

// ranked is a policy or rule: what rerank orders.
type ranked interface {
	identified
	rank() (priority *int, seq int64)
}

func (p *policy) rank() (*int, int64) { return &p.priority, p.seq }
func (r *rule) rank() (*int, int64)   { return &r.priority, r.seq }

// rerank keeps priorities as Okta does, contiguous from 1: items are ordered by
// priority (then creation), the one with id moved (if any) is put at position
// want, pushing those at and after it down, and all are renumbered 1..n.
func rerank[T ranked](items []T, moved string, want int) {
	ordered := byPriority(items, func(t T) (int, int64) { p, seq := t.rank(); return *p, seq })
	if i := slices.IndexFunc(ordered, func(t T) bool { return moved != "" && t.ident() == moved }); i >= 0 {
		it := ordered[i]
		ordered = slices.Delete(ordered, i, i+1)
		ordered = slices.Insert(ordered, min(max(want-1, 0), len(ordered)), it)
	}
	for i, t := range ordered {
		p, _ := t.rank()
		*p = i + 1
	}
}

// byPriority orders by priority, then creation.
func byPriority[T any](items []T, key func(T) (int, int64)) []T {
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b T) int {
		pa, sa := key(a)
		pb, sb := key(b)
		if pa != pb {
			return pa - pb
		}
		return int(sa - sb)
	})
	return out
}

// authorize finds the first active policy covering the client whose first
// matching active rule allows grant for every requested scope, in priority order.
func authorize(s *authServer, clientID, grant string, scopes []string) *rule {
	for _, p := range byPriority(s.policies, func(p *policy) (int, int64) { return p.priority, p.seq }) {
		if p.status != statusActive || !(slices.Contains(p.clients, allClients) || slices.Contains(p.clients, clientID)) {
			continue
		}
		for _, r := range byPriority(p.rules, func(r *rule) (int, int64) { return r.priority, r.seq }) {
			// A client_credentials request has no user: a rule restricted to listed
			// users or groups (not EVERYONE) cannot match it.
			if grant == "client_credentials" && !slices.Contains(r.groups, "EVERYONE") && (len(r.groups) > 0 || len(r.users) > 0) {
				continue
			}
			if r.status == statusActive && slices.Contains(r.grantTypes, grant) && coversScopes(r.scopes, scopes) {
				return r
			}
		}
	}
	return nil
}

func coversScopes(allowed, requested []string) bool {
	if slices.Contains(allowed, "*") {
		return true
	}
	for _, s := range requested {
		if !slices.Contains(allowed, s) {
			return false
		}
	}
	return true
}
