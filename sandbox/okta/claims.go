package okta

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Claim enums (spec OAuth2ClaimType, OAuth2ClaimValueType, OAuth2ClaimGroupFilterType).
const (
	claimResource   = "RESOURCE"
	claimIdentity   = "IDENTITY"
	valueExpression = "EXPRESSION"
	valueGroups     = "GROUPS"
	valueSystem     = "SYSTEM"
)

var groupFilterTypes = []string{"STARTS_WITH", "EQUALS", "CONTAINS", "REGEX"}

// reservedClaims are names Okta sets itself in access or ID tokens.
var reservedClaims = []string{"ver", "jti", "iss", "aud", "iat", "exp", "cid", "uid", "scp", "sub",
	"auth_time", "nbf", "amr", "idp", "nonce", "at_hash", "c_hash"}

type claimJSON struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	Status               string          `json:"status"`
	ClaimType            string          `json:"claimType"`
	ValueType            string          `json:"valueType"`
	Value                string          `json:"value"`
	Conditions           claimConditions `json:"conditions"`
	System               bool            `json:"system"`
	AlwaysIncludeInToken bool            `json:"alwaysIncludeInToken"`
	GroupFilterType      string          `json:"group_filter_type,omitempty"`
	Links                selfLinks       `json:"_links"`
}

type claimConditions struct {
	Scopes []string `json:"scopes"`
}

// claimInput is a create body; read-only fields are ignored.
type claimInput struct {
	Name                 string          `json:"name"`
	Status               string          `json:"status"`
	ClaimType            string          `json:"claimType"`
	ValueType            string          `json:"valueType"`
	Value                string          `json:"value"`
	GroupFilterType      string          `json:"group_filter_type"`
	AlwaysIncludeInToken *bool           `json:"alwaysIncludeInToken"`
	Conditions           claimConditions `json:"conditions"`
}

func (e *Emulator) claimView(s *authServer, c *claim) claimJSON {
	scopes := c.scopes
	if scopes == nil {
		scopes = []string{}
	}
	return claimJSON{ID: c.id, Name: c.name, Status: c.status, ClaimType: c.claimType, ValueType: c.valueType,
		Value: c.value, Conditions: claimConditions{Scopes: scopes}, System: c.system,
		AlwaysIncludeInToken: c.alwaysInclude, GroupFilterType: c.groupFilter,
		Links: selfLinks{Self: linkTo(e.serverURL(s.id)+"/claims/"+c.id, "GET", "PUT", "DELETE")}}
}

// newClaim validates a create body against s.
func newClaim(s *authServer, in claimInput) (*claim, *apiProblem) {
	blank := "The field cannot be left blank."
	switch {
	case in.Name == "":
		return nil, validation("name", blank)
	case slices.Contains(reservedClaims, in.Name):
		return nil, validation("name", "The claim name '"+in.Name+"' is reserved and cannot be used.")
	case in.Status == "":
		return nil, validation("status", blank)
	case in.Status != statusActive && in.Status != statusInactive:
		return nil, malformed()
	case in.ClaimType == "":
		return nil, validation("claimType", blank)
	case in.ClaimType != claimResource && in.ClaimType != claimIdentity:
		return nil, malformed()
	case in.ValueType == "":
		return nil, validation("valueType", blank)
	case in.ValueType == valueSystem:
		return nil, validation("valueType", "Only Okta can create claims of value type SYSTEM.")
	case in.ValueType != valueExpression && in.ValueType != valueGroups:
		return nil, malformed()
	case strings.TrimSpace(in.Value) == "":
		return nil, validation("value", blank)
	case in.ValueType == valueGroups && !slices.Contains(groupFilterTypes, in.GroupFilterType):
		return nil, validation("group_filter_type", "A group filter type is required for value type GROUPS.")
	}
	for _, name := range in.Conditions.Scopes {
		if !slices.ContainsFunc(s.scopes, func(sc *scope) bool { return sc.name == name }) {
			return nil, validation("conditions.scopes", "The scope '"+name+"' does not exist in this authorization server.")
		}
	}
	for _, other := range s.claims {
		if other.name == in.Name && other.claimType == in.ClaimType {
			return nil, validation("name", "A claim with the name '"+in.Name+"' and claim type "+in.ClaimType+" already exists.")
		}
	}
	c := &claim{name: in.Name, status: in.Status, claimType: in.ClaimType, valueType: in.ValueType,
		value: in.Value, scopes: slices.Clone(in.Conditions.Scopes)}
	if in.ValueType == valueGroups {
		c.groupFilter = in.GroupFilterType
	}
	// Access-token claims are always included; ID-token claims follow the request.
	c.alwaysInclude = in.ClaimType == claimResource || (in.AlwaysIncludeInToken != nil && *in.AlwaysIncludeInToken)
	return c, nil
}

func (e *Emulator) listClaims(w http.ResponseWriter, r *http.Request) {
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		return http.StatusOK, viewsOf(s.claims, func(c *claim) claimJSON { return e.claimView(s, c) }), nil
	})
}

func (e *Emulator) createClaim(w http.ResponseWriter, r *http.Request) {
	var in claimInput
	bad := !decodeBody(w, r, &in)
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		if bad {
			return 0, nil, malformed()
		}
		c, p := newClaim(s, in)
		if p != nil {
			return 0, nil, p
		}
		c.id = randomID(prefixClaim)
		c.seq = e.org.seq(c.id)
		s.claims = append(s.claims, c)
		return http.StatusCreated, e.claimView(s, c), nil
	})
}

func (e *Emulator) getClaim(w http.ResponseWriter, r *http.Request) {
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		i, p := find(s.claims, r.PathValue("id"), "OAuth2Claim")
		if p != nil {
			return 0, nil, p
		}
		return http.StatusOK, e.claimView(s, s.claims[i]), nil
	})
}

func (e *Emulator) deleteClaim(w http.ResponseWriter, r *http.Request) {
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		return removeCustom(&s.claims, r.PathValue("id"), "OAuth2Claim")
	})
}

// tokenClaims evaluates the server's active access-token claims for a client
// granted scopes. Only a few Okta EL forms are understood: app.clientId and
// app.id (the client id) and a double-quoted string literal; anything else, and
// GROUPS claims (there is no user), is left out of the token as Okta does with a
// claim that evaluates to null.
func tokenClaims(s *authServer, clientID string, granted []string) map[string]any {
	out := map[string]any{}
	for _, c := range s.claims {
		if c.system || c.status != statusActive || c.claimType != claimResource || c.valueType != valueExpression {
			continue
		}
		if len(c.scopes) > 0 && !slices.ContainsFunc(c.scopes, func(sc string) bool { return slices.Contains(granted, sc) }) {
			continue
		}
		if v, ok := evalExpression(c.value, clientID); ok {
			out[c.name] = v
		}
	}
	return out
}

func evalExpression(expr, clientID string) (string, bool) {
	expr = strings.TrimSpace(expr)
	switch expr {
	case "app.clientId", "app.id":
		return clientID, true
	}
	if len(expr) >= 2 && strings.HasPrefix(expr, `"`) && strings.HasSuffix(expr, `"`) {
		if s, err := strconv.Unquote(expr); err == nil {
			return s, true
		}
	}
	return "", false
}
