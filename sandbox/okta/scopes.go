package okta

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Scope enums (spec OAuth2ScopeConsentType, OAuth2ScopeMetadataPublish).
const (
	consentImplicit = "IMPLICIT"
	consentRequired = "REQUIRED"
	consentFlexible = "FLEXIBLE"
	publishAll      = "ALL_CLIENTS"
	publishNone     = "NO_CLIENTS"
)

type scopeJSON struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	DisplayName     string    `json:"displayName,omitempty"`
	Description     string    `json:"description,omitempty"`
	System          bool      `json:"system"`
	Default         bool      `json:"default"`
	Optional        bool      `json:"optional"`
	Consent         string    `json:"consent"`
	MetadataPublish string    `json:"metadataPublish"`
	Links           selfLinks `json:"_links"`
}

// scopeInput is a create body; read-only fields (id, system, _links) are ignored.
type scopeInput struct {
	Name            *string `json:"name"`
	DisplayName     *string `json:"displayName"`
	Description     *string `json:"description"`
	Consent         *string `json:"consent"`
	MetadataPublish *string `json:"metadataPublish"`
	Default         *bool   `json:"default"`
}

func (e *Emulator) scopeView(s *authServer, sc *scope) scopeJSON {
	return scopeJSON{ID: sc.id, Name: sc.name, DisplayName: sc.displayName, Description: sc.description,
		System: sc.system, Default: sc.isDefault, Consent: sc.consent, MetadataPublish: sc.publish,
		Links: selfLinks{Self: linkTo(e.serverURL(s.id)+"/scopes/"+sc.id, "GET", "PUT", "DELETE")}}
}

// newScope validates a create body against s and applies the API defaults.
func newScope(s *authServer, in scopeInput) (*scope, *apiProblem) {
	name := ""
	if in.Name != nil {
		name = *in.Name
	}
	if p := checkScopeName(name); p != nil {
		return nil, p
	}
	sc := &scope{name: name, consent: consentImplicit, publish: publishNone}
	if in.DisplayName != nil {
		sc.displayName = *in.DisplayName
	}
	if in.Description != nil {
		sc.description = *in.Description
	}
	if in.Default != nil {
		sc.isDefault = *in.Default
	}
	if in.Consent != nil {
		if !slices.Contains([]string{consentImplicit, consentRequired, consentFlexible}, *in.Consent) {
			return nil, malformed() // an unknown enum value fails JSON binding at Okta
		}
		sc.consent = *in.Consent
	}
	if in.MetadataPublish != nil {
		if *in.MetadataPublish != publishAll && *in.MetadataPublish != publishNone {
			return nil, malformed()
		}
		sc.publish = *in.MetadataPublish
	}
	for _, other := range s.scopes {
		if other.name == name {
			return nil, validation("name", "A scope with the name '"+name+"' already exists in this authorization server.")
		}
	}
	return sc, nil
}

// checkScopeName applies Okta's scope name rules.
func checkScopeName(name string) *apiProblem {
	switch {
	case name == "":
		return validation("name", "The field cannot be left blank.")
	case name == "okta" || name == "*":
		return validation("name", "The scope name cannot be 'okta' or '*'.")
	case strings.HasPrefix(name, "okta.") || strings.HasPrefix(name, "okta:"):
		return validation("name", "The scope name cannot start with 'okta.' or 'okta:'.")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return validation("name", "Scope names may only contain printable ASCII characters, except spaces, double quotes and backslashes.")
		}
	}
	return nil
}

// listScopes serves GET .../scopes: system and custom scopes, q on the name
// (case-insensitive substring), a filter expression, limit/after paging.
func (e *Emulator) listScopes(w http.ResponseWriter, r *http.Request) {
	q := strings.ToLower(r.URL.Query().Get("q"))
	keep, ok := parseScopeFilter(r.URL.Query().Get("filter"))
	limit := listLimit(r)
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		if !ok {
			return 0, nil, badFilter()
		}
		var matched []*scope
		for _, sc := range s.scopes {
			if (q == "" || strings.Contains(strings.ToLower(sc.name), q)) && keep(sc) {
				matched = append(matched, sc)
			}
		}
		page, more := paginate(e.org, matched, func(sc *scope) int64 { return sc.seq }, r.URL.Query().Get("after"), limit)
		e.setLinks(w, r, limit, lastID(page, func(sc *scope) string { return sc.id }), more)
		return http.StatusOK, viewsOf(page, func(sc *scope) scopeJSON { return e.scopeView(s, sc) }), nil
	})
}

func (e *Emulator) createScope(w http.ResponseWriter, r *http.Request) {
	var in scopeInput
	bad := !decodeBody(w, r, &in)
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		if bad {
			return 0, nil, malformed()
		}
		sc, p := newScope(s, in)
		if p != nil {
			return 0, nil, p
		}
		sc.id = randomID(prefixScope)
		sc.seq = e.org.seq(sc.id)
		s.scopes = append(s.scopes, sc)
		return http.StatusCreated, e.scopeView(s, sc), nil
	})
}

func (e *Emulator) getScope(w http.ResponseWriter, r *http.Request) {
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		i, p := find(s.scopes, r.PathValue("id"), "OAuth2Scope")
		if p != nil {
			return 0, nil, p
		}
		return http.StatusOK, e.scopeView(s, s.scopes[i]), nil
	})
}

func (e *Emulator) deleteScope(w http.ResponseWriter, r *http.Request) {
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		return removeCustom(&s.scopes, r.PathValue("id"), "OAuth2Scope")
	})
}

// parseScopeFilter understands `field eq "value"` clauses joined by " and ", on
// name, displayName, consent, metadataPublish (strings) and system, default
// (true/false). ok is false for anything else.
func parseScopeFilter(expr string) (keep func(*scope) bool, ok bool) {
	all := func(*scope) bool { return true }
	if strings.TrimSpace(expr) == "" {
		return all, true
	}
	var tests []func(*scope) bool
	for _, clause := range strings.Split(expr, " and ") {
		field, value, found := strings.Cut(strings.TrimSpace(clause), " eq ")
		if !found {
			return nil, false
		}
		value = strings.TrimSpace(value)
		test, ok := scopeTest(strings.TrimSpace(field), value)
		if !ok {
			return nil, false
		}
		tests = append(tests, test)
	}
	return func(sc *scope) bool {
		for _, t := range tests {
			if !t(sc) {
				return false
			}
		}
		return true
	}, true
}

func scopeTest(field, value string) (func(*scope) bool, bool) {
	switch field {
	case "system", "default":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return nil, false
		}
		if field == "system" {
			return func(sc *scope) bool { return sc.system == b }, true
		}
		return func(sc *scope) bool { return sc.isDefault == b }, true
	}
	s, err := strconv.Unquote(value)
	if err != nil || !strings.HasPrefix(value, `"`) {
		return nil, false
	}
	get := map[string]func(*scope) string{
		"name":            func(sc *scope) string { return sc.name },
		"displayName":     func(sc *scope) string { return sc.displayName },
		"consent":         func(sc *scope) string { return sc.consent },
		"metadataPublish": func(sc *scope) string { return sc.publish },
	}[field]
	if get == nil {
		return nil, false
	}
	return func(sc *scope) bool { return get(sc) == s }, true
}
