package okta

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

const ruleType = "RESOURCE_ACCESS"

// ruleGrantTypes are the grant types a rule's condition may name.
var ruleGrantTypes = []string{"authorization_code", "client_credentials", "implicit", "interaction_code",
	"password", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer",
	"urn:ietf:params:oauth:grant-type:saml2-bearer", "urn:ietf:params:oauth:grant-type:token-exchange",
	"urn:openid:params:grant-type:ciba", "urn:okta:params:oauth:grant-type:otp", "urn:okta:params:oauth:grant-type:oob"}

// userGrantTypes need a people condition.
var userGrantTypes = []string{"authorization_code", "implicit", "password"}

type ruleJSON struct {
	Type        string         `json:"type"`
	ID          string         `json:"id"`
	Status      string         `json:"status"`
	Name        string         `json:"name"`
	Priority    int            `json:"priority"`
	Created     string         `json:"created"`
	LastUpdated string         `json:"lastUpdated"`
	System      bool           `json:"system"`
	Conditions  ruleConditions `json:"conditions"`
	Actions     ruleActions    `json:"actions"`
	Links       lifecycleLinks `json:"_links"`
}

type ruleConditions struct {
	People     people      `json:"people"`
	GrantTypes includeOnly `json:"grantTypes"`
	Scopes     includeOnly `json:"scopes"`
}

type people struct {
	Users  includeExclude `json:"users"`
	Groups includeExclude `json:"groups"`
}

type includeExclude struct {
	Include []string `json:"include"`
	Exclude []string `json:"exclude"`
}

type ruleActions struct {
	Token tokenAction `json:"token"`
}

type tokenAction struct {
	AccessTokenLifetimeMinutes  int `json:"accessTokenLifetimeMinutes"`
	RefreshTokenLifetimeMinutes int `json:"refreshTokenLifetimeMinutes"`
	RefreshTokenWindowMinutes   int `json:"refreshTokenWindowMinutes"`
}

// ruleInput is a create body (spec AuthorizationServerPolicyRuleRequest).
type ruleInput struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Priority   *int   `json:"priority"`
	Conditions struct {
		People     *peopleInput `json:"people"`
		GrantTypes includeOnly  `json:"grantTypes"`
		Scopes     includeOnly  `json:"scopes"`
	} `json:"conditions"`
	Actions struct {
		Token struct {
			AccessTokenLifetimeMinutes  *int `json:"accessTokenLifetimeMinutes"`
			RefreshTokenLifetimeMinutes *int `json:"refreshTokenLifetimeMinutes"`
			RefreshTokenWindowMinutes   *int `json:"refreshTokenWindowMinutes"`
		} `json:"token"`
	} `json:"actions"`
}

type peopleInput struct {
	Users  *includeExclude `json:"users"`
	Groups *includeExclude `json:"groups"`
}

func (e *Emulator) ruleView(s *authServer, p *policy, r *rule) ruleJSON {
	base := e.serverURL(s.id) + "/policies/" + p.id + "/rules/" + r.id
	act, deact := lifecycle(base, r.status)
	nonNil := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	allow := []string{"GET", "PUT", "DELETE"}
	if r.system {
		allow = allow[:2] // system rules cannot be deleted
	}
	return ruleJSON{Type: ruleType, ID: r.id, Status: r.status, Name: r.name, Priority: r.priority, System: r.system,
		Created: timestamp(r.created), LastUpdated: timestamp(r.updated),
		Conditions: ruleConditions{
			People: people{Users: includeExclude{Include: nonNil(r.users), Exclude: []string{}},
				Groups: includeExclude{Include: nonNil(r.groups), Exclude: []string{}}},
			GrantTypes: includeOnly{Include: r.grantTypes}, Scopes: includeOnly{Include: r.scopes}},
		Actions: ruleActions{Token: tokenAction{AccessTokenLifetimeMinutes: r.lifetimeMinutes,
			RefreshTokenLifetimeMinutes: r.refreshMinutes, RefreshTokenWindowMinutes: r.windowMinutes}},
		Links: lifecycleLinks{Self: linkTo(base, allow...), Activate: act, Deactivate: deact}}
}

// newRule validates a create (or replace) body against the server and policy.
// Without a priority the rule comes last; the caller places it with rerank.
func newRule(s *authServer, p *policy, in ruleInput, now time.Time) (*rule, *apiProblem) {
	blank := "The field cannot be left blank."
	grants, scopes := in.Conditions.GrantTypes.Include, in.Conditions.Scopes.Include
	switch {
	case in.Type == "":
		return nil, validation("type", blank)
	case in.Type != ruleType:
		return nil, validation("type", "The rule type must be "+ruleType+".")
	case in.Name == "":
		return nil, validation("name", blank)
	case in.Status != "" && in.Status != statusActive && in.Status != statusInactive:
		return nil, malformed()
	case len(grants) == 0:
		return nil, validation("conditions.grantTypes", blank)
	case len(scopes) == 0:
		return nil, validation("conditions.scopes", blank)
	}
	for _, g := range grants {
		if !slices.Contains(ruleGrantTypes, g) {
			return nil, validation("conditions.grantTypes", "The grant type '"+g+"' is not supported.")
		}
	}
	for _, name := range scopes {
		if name != "*" && !slices.ContainsFunc(s.scopes, func(sc *scope) bool { return sc.name == name }) {
			return nil, validation("conditions.scopes", "The scope '"+name+"' does not exist in this authorization server.")
		}
	}
	var users, groups []string
	if in.Conditions.People != nil {
		if in.Conditions.People.Users != nil {
			users = in.Conditions.People.Users.Include
		}
		if in.Conditions.People.Groups != nil {
			groups = in.Conditions.People.Groups.Include
		}
	}
	if len(users) == 0 && len(groups) == 0 {
		if slices.ContainsFunc(grants, func(g string) bool { return slices.Contains(userGrantTypes, g) }) {
			// Okta's own wording for this case.
			return nil, validation("conditions.people", "At least one of 'conditions.people.users.include' or "+
				"'conditions.people.groups.include' must contain a valid user or group when 'conditions.grantTypes' "+
				"contains one or more of ["+strings.Join(userGrantTypes, ", ")+"].")
		}
		groups = []string{"EVERYONE"}
	}
	tok := in.Actions.Token
	r := &rule{name: in.Name, status: orDefault(in.Status, statusActive), priority: len(p.rules) + 1,
		grantTypes: slices.Clone(grants), scopes: slices.Clone(scopes), users: slices.Clone(users),
		groups: slices.Clone(groups), lifetimeMinutes: 60, windowMinutes: 10080, created: now, updated: now}
	if in.Priority != nil && *in.Priority > 0 {
		r.priority = *in.Priority
	}
	if tok.AccessTokenLifetimeMinutes != nil {
		if v := *tok.AccessTokenLifetimeMinutes; v < 5 || v > 1440 {
			return nil, validation("actions.token.accessTokenLifetimeMinutes", "The value must be between 5 and 1440.")
		}
		r.lifetimeMinutes = *tok.AccessTokenLifetimeMinutes
	}
	if tok.RefreshTokenLifetimeMinutes != nil {
		r.refreshMinutes = *tok.RefreshTokenLifetimeMinutes
	}
	if tok.RefreshTokenWindowMinutes != nil {
		r.windowMinutes = *tok.RefreshTokenWindowMinutes
	}
	return r, nil
}

func (e *Emulator) listRules(w http.ResponseWriter, r *http.Request) {
	e.inPolicy(w, r, func(s *authServer, pol *policy) (int, any, *apiProblem) {
		ordered := byPriority(pol.rules, func(r *rule) (int, int64) { return r.priority, r.seq })
		return http.StatusOK, viewsOf(ordered, func(ru *rule) ruleJSON { return e.ruleView(s, pol, ru) }), nil
	})
}

func (e *Emulator) createRule(w http.ResponseWriter, r *http.Request) {
	var in ruleInput
	bad := !decodeBody(w, r, &in)
	e.inPolicy(w, r, func(s *authServer, pol *policy) (int, any, *apiProblem) {
		if bad {
			return 0, nil, malformed()
		}
		ru, p := newRule(s, pol, in, e.opts.Now())
		if p != nil {
			return 0, nil, p
		}
		ru.id = randomID(prefixRule)
		ru.seq = e.org.seq(ru.id)
		pol.rules = append(pol.rules, ru)
		rerank(pol.rules, ru.id, ru.priority)
		return http.StatusCreated, e.ruleView(s, pol, ru), nil
	})
}

// inRule is inPolicy for calls under .../rules/{id}; an unknown rule is Okta's 404.
func (e *Emulator) inRule(w http.ResponseWriter, r *http.Request, f func(s *authServer, pol *policy, ru *rule) (int, any, *apiProblem)) {
	e.inPolicy(w, r, func(s *authServer, pol *policy) (int, any, *apiProblem) {
		i, p := find(pol.rules, r.PathValue("id"), "PolicyRule")
		if p != nil {
			return 0, nil, p
		}
		return f(s, pol, pol.rules[i])
	})
}

func (e *Emulator) getRule(w http.ResponseWriter, r *http.Request) {
	e.inRule(w, r, func(s *authServer, pol *policy, ru *rule) (int, any, *apiProblem) {
		return http.StatusOK, e.ruleView(s, pol, ru), nil
	})
}

// replaceRule serves PUT .../rules/{id}: the body is validated as a create body
// and replaces the rule; omitted status and priority keep theirs.
func (e *Emulator) replaceRule(w http.ResponseWriter, r *http.Request) {
	var in ruleInput
	bad := !decodeBody(w, r, &in)
	e.inRule(w, r, func(s *authServer, pol *policy, old *rule) (int, any, *apiProblem) {
		if bad {
			return 0, nil, malformed()
		}
		ru, p := newRule(s, pol, in, old.created)
		if p != nil {
			return 0, nil, p
		}
		ru.id, ru.seq, ru.system, ru.updated = old.id, old.seq, old.system, e.opts.Now()
		ru.status = orDefault(in.Status, old.status)
		ru.priority = old.priority
		*old = *ru // the rule keeps its place in pol.rules
		if in.Priority != nil && *in.Priority > 0 {
			rerank(pol.rules, old.id, *in.Priority)
		}
		return http.StatusOK, e.ruleView(s, pol, old), nil
	})
}

// deleteRule serves DELETE .../rules/{id}; system rules cannot be deleted (spec
// AuthorizationServerPolicyRule.system), which is Okta's 403.
func (e *Emulator) deleteRule(w http.ResponseWriter, r *http.Request) {
	e.inRule(w, r, func(s *authServer, pol *policy, ru *rule) (int, any, *apiProblem) {
		if ru.system {
			return 0, nil, forbidden()
		}
		pol.rules = slices.DeleteFunc(pol.rules, func(x *rule) bool { return x == ru })
		rerank(pol.rules, "", 0)
		return http.StatusNoContent, nil, nil
	})
}

// ruleLifecycle serves POST .../rules/{id}/lifecycle/{activate,deactivate}.
func (e *Emulator) ruleLifecycle(status string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e.inRule(w, r, func(s *authServer, pol *policy, ru *rule) (int, any, *apiProblem) {
			if ru.status != status {
				ru.status, ru.updated = status, e.opts.Now()
			}
			return http.StatusNoContent, nil, nil
		})
	}
}
