// Package onboarding reads the onboarding file: the portals to onboard, with defaults
// applied and every problem found before anything starts. Each problem names the
// file, the line, the portal and the field, and says how to fix it.
package onboarding

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dcrflow/dcrflow"
)

// Built-in defaults, for fields that neither the portal nor `defaults:` set.
const (
	DefaultAuthServer = "default"
	DefaultClaim      = "client_id"
	DefaultDCRToken   = "default"
	DefaultVisibility = "private"
)

// DefaultAuthMethods is what a strategy offers when nothing else is said.
var DefaultAuthMethods = []string{"client_credentials", "bearer"}

// Limits of the APIs the file's values end up in.
const (
	maxKeyLen          = 63  // the key is the dcrflow-portal label's value (Konnect Labels: 1..63)
	maxPortalLen       = 255 // Konnect portal name (portal-management v3 CreatePortal: name maxLength 255)
	maxAPILen          = 255 // Konnect API name (api-builder v3 create-api: name 1..255)
	maxProviderNameLen = 256 // Konnect DcrProviderName 1..256
	maxStrategyNameLen = 256 // Konnect AuthStrategyName 1..256
	maxDisplayNameLen  = 256 // Konnect AuthStrategyDisplayName maxLength 256
	// Okta's OAuth2Scope and OAuth2Claim document no length limit; both names also go
	// into the Konnect strategy (configs.openid-connect.scopes and credential_claim:
	// items maxLength 128, scopes maxItems 50), whose limits are the binding ones.
	maxScopeLen = 128
	maxScopes   = 50
	maxClaimLen = 128
	// Konnect labels: keys and values 1..63, at most 50 per resource, of which dcrflow
	// takes 3 (ownerLabels in activities).
	maxLabelLen   = 63
	maxUserLabels = 50 - 3 // len(dcrflowLabels)
)

// dcrflowLabels are the ownership labels dcrflow puts on what it creates in Konnect
// (activities.LabelManagedBy, LabelPortal, LabelRun); a user label may not take them.
var dcrflowLabels = []string{"managed-by", "dcrflow-portal", "dcrflow-run"}

var (
	keyPattern        = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	scopePattern      = regexp.MustCompile(`^[!#-\[\]-~]+$`) // printable ASCII but space, '"' and '\'
	tokenNamePattern  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	labelValuePattern = regexp.MustCompile(`^[a-z0-9A-Z]{1}([a-z0-9A-Z-._]*[a-z0-9A-Z]+)?$`) // Konnect Labels schema
	labelPrefixes     = []string{"kong", "konnect", "mesh", "kic", "_"}                      // reserved by Konnect (case-sensitive)
	// oidcScopes are Okta's OpenID Connect scopes: they describe a user, and a
	// client_credentials token has none (Okta answers invalid_scope).
	oidcScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access", "device_sso"}
	// reservedClaims are the claims Okta sets itself (sandbox/okta reservedClaims).
	reservedClaims = []string{"sub", "iss", "aud", "exp", "iat", "jti", "cid", "uid", "scp", "ver",
		"auth_time", "nbf", "amr", "idp", "nonce", "at_hash", "c_hash"}
)

// Load reads path and returns every portal with defaults applied, or an error listing
// every problem found, each naming the file, line, portal and field.
func Load(path string) ([]dcrflow.PortalSpec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onboarding file: %w", err)
	}
	return Parse(path, raw)
}

// Parse is Load on bytes already read; name is used in messages. Its error is an
// *Error.
func Parse(name string, raw []byte) ([]dcrflow.PortalSpec, error) {
	p := &parser{fname: name}
	var specs []dcrflow.PortalSpec
	if root, ok := p.readDoc(raw); ok {
		if f, ok := p.file(root); ok {
			specs = p.check(f)
		}
	}
	if len(p.probs) > 0 {
		return nil, &Error{File: name, Problems: p.messages()}
	}
	return specs, nil
}

// Error lists every problem in an onboarding file, one line each.
type Error struct {
	File     string
	Problems []string
}

func (e *Error) Error() string {
	n := "1 problem"
	if len(e.Problems) != 1 {
		n = fmt.Sprintf("%d problems", len(e.Problems))
	}
	return fmt.Sprintf("%s: %s:\n  %s", e.File, n, strings.Join(e.Problems, "\n  "))
}

// check validates the file as read and applies the defaults.
func (p *parser) check(f rawFile) []dcrflow.PortalSpec {
	d := f.defaults
	p.checkDefaults(d)
	out := make([]dcrflow.PortalSpec, 0, len(f.portals))
	for _, r := range f.portals {
		out = append(out, p.portalSpec(r, d))
	}
	p.across(f.portals, out)
	return out
}

func (p *parser) checkDefaults(d rawDefaults) {
	p.checkText(d.authServer, "", "defaults.auth_server", 0, "", "give the Okta authorization server's id or name, or leave the field out (default: default)")
	p.checkClaim(d.claim, "", "defaults.claim")
	p.checkTokenName(d.dcrToken, "", "defaults.dcr_token")
	p.checkAuthMethods(d.authMethods, "", "defaults.auth_methods")
	p.checkVisibility(d.visibility, "", "defaults.visibility")
	p.checkOnFailure(d.onFailure, "", "defaults.on_failure")
	p.checkAccessPolicy(d.accessPolicy, "", "defaults.access_policy")
	p.checkLabels(d.labels, "", "defaults.labels")
	if n := len(d.labels.items); n > maxUserLabels {
		p.add(d.labels.line, "", "defaults.labels", "%d labels; %s", n, labelCountFix)
	}
}

const labelCountFix = "Konnect allows 50 labels per resource and dcrflow adds 3 of its own (managed-by, dcrflow-portal, dcrflow-run), so at most 47 with the defaults' and the portal's together; remove some"

func (p *parser) portalSpec(r rawPortal, d rawDefaults) dcrflow.PortalSpec {
	who := first(r.name.val, r.portal.val)
	key := who
	s := dcrflow.PortalSpec{
		Key:          key,
		Portal:       first(r.portal.val, r.name.val),
		AuthServer:   first(r.authServer.val, d.authServer.val, DefaultAuthServer),
		ClaimName:    first(r.claim.val, d.claim.val, DefaultClaim),
		DCRTokenName: first(d.dcrToken.val, DefaultDCRToken),
		Validate:     firstBool(r.validate, d.validate, true),
		OnFailure:    first(r.onFailure.val, d.onFailure.val, dcrflow.OnFailureCompensate),
		AccessPolicy: first(r.accessPolicy.val, d.accessPolicy.val, dcrflow.AccessPolicyCheck),
	}
	p.checkAccessPolicy(r.accessPolicy, who, "access_policy")
	p.checkValidation(r, d, &s, who)
	p.checkKey(r, who)
	p.checkText(r.portal, who, "portal", maxPortalLen, "a Konnect portal name", "give the Konnect portal's name or id, or leave the field out to use `name`")
	p.checkText(r.authServer, who, "auth_server", 0, "", "give the Okta authorization server's id or name, or leave the field out (default: default)")
	p.checkClaim(r.claim, who, "claim")
	p.checkOnFailure(r.onFailure, who, "on_failure")
	p.checkScopes(r, who)

	s.DCRProvider = "dcrflow-" + key
	if pv := r.provider; pv != nil {
		p.checkText(pv.name, who, "dcr_provider.name", maxProviderNameLen, "a Konnect DCR provider name",
			"give the DCR provider a name, or leave `name` out (default: dcrflow-<name>)")
		p.checkTokenName(pv.dcrToken, who, "dcr_provider.dcr_token")
		s.DCRProvider = first(pv.name.val, s.DCRProvider)
		s.DCRTokenName = first(pv.dcrToken.val, s.DCRTokenName)
	}
	// One normal form for token names, as the worker keys its tokens: Partners_EU,
	// partners-eu and DCRFLOW_DCR_TOKEN_PARTNERS_EU all name partners-eu.
	s.DCRTokenName = dcrflow.DCRTokenName(s.DCRTokenName)

	s.Strategy = dcrflow.StrategySpec{Name: "dcrflow-" + key, DisplayName: "Okta DCR (" + key + ")", AuthMethods: DefaultAuthMethods}
	if len(d.authMethods.items) > 0 {
		s.Strategy.AuthMethods = texts(d.authMethods.items)
	}
	if st := r.strategy; st != nil {
		p.checkText(st.name, who, "auth_strategy.name", maxStrategyNameLen, "a Konnect auth strategy name",
			"give the auth strategy a name, or leave `name` out (default: dcrflow-<name>)")
		p.checkText(st.displayName, who, "auth_strategy.display_name", maxDisplayNameLen, "an auth strategy's display name",
			"developers see it in the portal: give one such as \"Okta DCR ("+key+")\", or leave the field out")
		p.checkAuthMethods(st.authMethods, who, "auth_strategy.auth_methods")
		s.Strategy.Name = first(st.name.val, s.Strategy.Name)
		s.Strategy.DisplayName = first(st.displayName.val, s.Strategy.DisplayName)
		if len(st.authMethods.items) > 0 {
			s.Strategy.AuthMethods = texts(st.authMethods.items)
		}
	}

	for _, sc := range r.scopes {
		s.Scopes = append(s.Scopes, dcrflow.ScopeSpec{Name: sc.name.val, Description: sc.description.val})
	}

	seen := map[string]int{}
	for _, a := range r.apis {
		api := dcrflow.APISpec{
			API:         a.api.val,
			Visibility:  first(a.visibility.val, d.visibility.val, DefaultVisibility),
			AutoApprove: firstBool(a.autoApprove, d.autoApprove, false),
		}
		field := "apis"
		if p.checkText(a.api, who, field, maxAPILen, "a Konnect API name", "give the Konnect API's name or id") {
			if at, dup := seen[a.api.val]; dup {
				p.add(a.api.line, who, field, "%s is listed twice (first at line %d); list each API once per portal", quote(a.api.val), at)
			} else {
				seen[a.api.val] = a.api.line
			}
		}
		p.checkVisibility(a.visibility, who, "apis.visibility")
		s.APIs = append(s.APIs, api)
	}

	p.checkLabels(r.labels, who, "labels")
	s.Labels = mergeLabels(d.labels, r.labels)
	if n := len(s.Labels); n > maxUserLabels && len(d.labels.items) <= maxUserLabels {
		p.add(first(r.labels.line, r.line), who, "labels", "%d labels with the defaults'; %s", n, labelCountFix)
	}
	return s
}

// checkKey checks the portal's key: its name, else its Konnect portal.
func (p *parser) checkKey(r rawPortal, who string) {
	switch {
	case r.name.set:
		if r.name.bad {
			return
		}
		if r.name.val == "" {
			p.add(r.name.line, who, "name", "is empty; give the portal a key such as \"payments\", or leave `name` out to use `portal`")
		} else if !keyPattern.MatchString(r.name.val) {
			p.add(r.name.line, who, "name", "%s: use lowercase letters, digits and '-' (at most 63, starting and ending with a letter or digit)%s",
				quote(r.name.val), eg(suggestKey(r.name.val)))
		}
	case r.portal.set && !r.portal.bad && r.portal.val != "":
		if !keyPattern.MatchString(r.portal.val) {
			fix := "add `name:` with lowercase letters, digits and '-' (at most 63)"
			if k := suggestKey(r.portal.val); k != "" {
				fix = "add `name: " + k + "`"
			}
			p.add(r.portal.line, who, "portal", "%s is also the portal's key when `name` is absent, and a key is lowercase letters, digits and '-' (at most 63); %s",
				quote(r.portal.val), fix)
		}
	case !r.portal.set:
		p.add(r.line, "", "name", "a portal needs `name` or `portal` (the Konnect portal's name or id); add `name: payments`")
	}
}

// checkText refuses a value that is empty, holds control characters, has spaces
// around it, or is longer than max characters (0: no limit). It reports whether there
// is a value that passed, to check further (absent or wrongly typed: nothing to check).
func (p *parser) checkText(t text, who, field string, max int, what, emptyFix string) bool {
	if !t.set || t.bad {
		return false
	}
	n := utf8.RuneCountInString(t.val)
	switch {
	case t.val == "":
		p.add(t.line, who, field, "is empty; %s", emptyFix)
	case strings.ContainsFunc(t.val, unicode.IsControl):
		p.add(t.line, who, field, "%s holds a control character (a tab or line break); write it on one line without them", quote(t.val))
	case strings.TrimSpace(t.val) != t.val:
		p.add(t.line, who, field, "%s starts or ends with a space; remove it", quote(t.val))
	case max > 0 && n > max:
		p.add(t.line, who, field, "%s is %d characters long; %s has at most %d, shorten it", quote(t.val), n, what, max)
	default:
		return true
	}
	return false
}

func (p *parser) checkClaim(t text, who, field string) {
	if !p.checkText(t, who, field, maxClaimLen, "a Konnect credential claim", "give the claim's name, e.g. client_id, or leave the field out (default: client_id)") {
		return
	}
	if slices.Contains(reservedClaims, t.val) {
		p.add(t.line, who, field, "%s is a claim Okta sets itself; choose another name such as client_id", quote(t.val))
	}
}

func (p *parser) checkTokenName(t text, who, field string) {
	if !p.checkText(t, who, field, 0, "", "name one of the worker's DCR tokens, e.g. default, or leave the field out (default: default)") {
		return
	}
	switch {
	case strings.HasPrefix(t.val, "00") && len(t.val) >= 40 && tokenNamePattern.MatchString(t.val):
		// An Okta API token is 42 characters starting with 00: never put one here.
		p.add(t.line, who, field, "looks like an Okta token itself; the file names the token (e.g. default) and only the worker holds its value (dcr_tokens.<name> or DCRFLOW_DCR_TOKEN_<NAME>): remove the token from this file and revoke it")
	case !tokenNamePattern.MatchString(t.val):
		p.add(t.line, who, field, "%s is not a DCR token name; use letters, digits, '-' and '_' (the worker holds it as dcr_tokens.<name> or DCRFLOW_DCR_TOKEN_<NAME>)%s",
			quote(t.val), eg(suggestTokenName(t.val)))
	}
}

func (p *parser) checkAuthMethods(l textList, who, field string) {
	if !l.set {
		return
	}
	if len(l.items) == 0 {
		p.add(l.line, who, field, "is empty; list at least one of %s, or leave the field out (default: %s)",
			strings.Join(dcrflow.DCRAuthMethods, ", "), strings.Join(DefaultAuthMethods, ", "))
		return
	}
	seen := map[string]int{}
	for _, m := range l.items {
		if m.bad {
			continue
		}
		if !slices.Contains(dcrflow.DCRAuthMethods, m.val) {
			p.add(m.line, who, field, "%s is not a DCR auth method; use %s", quote(m.val), strings.Join(dcrflow.DCRAuthMethods, ", "))
			continue
		}
		if at, dup := seen[m.val]; dup {
			p.add(m.line, who, field, "%s is listed twice (first at line %d); keep one", quote(m.val), at)
		}
		seen[m.val] = m.line
	}
}

func (p *parser) checkVisibility(t text, who, field string) {
	if t.set && !t.bad && t.val != "public" && t.val != "private" {
		p.add(t.line, who, field, "%s: use public or private", quote(t.val))
	}
}

func (p *parser) checkAccessPolicy(t text, who, field string) {
	if t.set && !t.bad && t.val != dcrflow.AccessPolicyCheck && t.val != dcrflow.AccessPolicyEnsure {
		p.add(t.line, who, field, "%s: use check (fail early when no access policy lets client_credentials get the scopes) or ensure (dcrflow creates one it owns)", quote(t.val))
	}
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// checkValidation sets how the portal is validated; `validate: konnect` needs an
// owner for the throw-away Konnect application.
func (p *parser) checkValidation(r rawPortal, d rawDefaults, s *dcrflow.PortalSpec, who string) {
	if !s.Validate {
		return
	}
	s.ValidateVia = dcrflow.ValidateViaOkta
	switch {
	case r.validate.set && !r.validate.bad:
		s.ValidateVia = first(r.validateVia.val, dcrflow.ValidateViaOkta)
	case d.validateVia.set:
		s.ValidateVia = d.validateVia.val
	}
	ow := r.owner
	if s.ValidateVia != dcrflow.ValidateViaKonnect {
		if ow != nil {
			p.add(ow.line, who, "validation_owner", "is set, but the portal is not validated through Konnect; add `validate: konnect` or remove validation_owner")
		}
		return
	}
	if ow == nil {
		line := first(r.validateVia.line, r.validate.line, r.line)
		p.add(line, who, "validate", "konnect needs an application owner: add `validation_owner: {type: developer, id: <uuid>}` (or type: team), a developer or team of the portal that may own applications")
		return
	}
	typ, id := ow.typ, ow.id
	switch {
	case !typ.set:
		p.add(ow.line, who, "validation_owner.type", "is missing; write `type: developer` or `type: team`")
	case !typ.bad && typ.val != "developer" && typ.val != "team":
		p.add(typ.line, who, "validation_owner.type", "%s: use developer or team", quote(typ.val))
	}
	switch {
	case !id.set:
		p.add(ow.line, who, "validation_owner.id", "is missing; give the developer's or team's id (a UUID, shown in Konnect under the portal's Access)")
	case !id.bad && !uuidPattern.MatchString(id.val):
		p.add(id.line, who, "validation_owner.id", "%s is not a UUID; give the developer's or team's id as Konnect shows it", quote(id.val))
	}
	s.ValidationOwner = &dcrflow.AppOwner{Type: typ.val, ID: strings.ToLower(id.val)}
}

func (p *parser) checkOnFailure(t text, who, field string) {
	if t.set && !t.bad && t.val != dcrflow.OnFailureCompensate && t.val != dcrflow.OnFailureHold {
		p.add(t.line, who, field, "%s: use compensate (undo at once) or hold (wait for an operator's retry or abandon)", quote(t.val))
	}
}

func (p *parser) checkScopes(r rawPortal, who string) {
	if len(r.scopes) == 0 {
		if r.scopesBad {
			return
		}
		p.add(first(r.scopesLine, r.line), who, "scopes", "list at least one custom scope (Konnect falls back to `openid`, which Okta refuses for client_credentials)")
		return
	}
	if len(r.scopes) > maxScopes {
		p.add(r.scopesLine, who, "scopes", "%d scopes; a Konnect auth strategy holds at most %d, so drop some or split the portal", len(r.scopes), maxScopes)
	}
	example := quote(first(suggestKey(who), "payments") + ":read")
	seen := map[string]int{}
	for _, sc := range r.scopes {
		t, field := sc.name, "scopes"
		if t.bad {
			continue
		}
		n := utf8.RuneCountInString(t.val)
		switch {
		case t.val == "":
			p.add(t.line, who, field, "a scope has an empty name; give it one such as %s", example)
		case t.val == "openid":
			p.add(t.line, who, field, "`openid` cannot be requested with client_credentials; use a custom scope such as %s", example)
		case slices.Contains(oidcScopes, t.val):
			p.add(t.line, who, field, "`%s` is an OpenID Connect scope about a user, which client_credentials cannot request; use a custom scope such as %s", t.val, example)
		case !scopePattern.MatchString(t.val) || strings.HasPrefix(t.val, "okta.") || strings.HasPrefix(t.val, "okta:") || t.val == "okta" || t.val == "*":
			p.add(t.line, who, field, "%s is not a valid Okta scope name (printable ASCII without spaces, quotes or backslashes; not okta.*, okta:* or *)", quote(t.val))
		case n > maxScopeLen:
			p.add(t.line, who, field, "%s is %d characters long; a Konnect auth strategy's scopes have at most %d, shorten it", quote(t.val), n, maxScopeLen)
		default:
			if at, dup := seen[t.val]; dup {
				p.add(t.line, who, field, "%s is listed twice (first at line %d); keep one", quote(t.val), at)
			} else {
				seen[t.val] = t.line
			}
		}
	}
}

func (p *parser) checkLabels(l labelMap, who, field string) {
	for _, lb := range l.items {
		f := join(field, lb.key)
		switch n := utf8.RuneCountInString(lb.key); {
		case lb.key == "":
			p.add(lb.line, who, field, "a label key is empty; keys are 1 to %d characters", maxLabelLen)
			continue
		case n > maxLabelLen:
			p.add(lb.line, who, join(field, clip(lb.key)), "the key is %d characters long; Konnect allows 1 to %d, shorten it", n, maxLabelLen)
			continue
		case slices.Contains(dcrflowLabels, lb.key):
			p.add(lb.line, who, f, "dcrflow sets this label itself on what it creates (managed-by, dcrflow-portal, dcrflow-run); choose another key")
			continue
		}
		if i := slices.IndexFunc(labelPrefixes, func(pre string) bool { return strings.HasPrefix(lb.key, pre) }); i >= 0 {
			p.add(lb.line, who, f, "starts with %q: Konnect reserves keys starting with kong, konnect, mesh, kic or _; choose another key", labelPrefixes[i])
			continue
		}
		v := lb.val
		switch {
		case lb.bad:
		case v == "":
			p.add(lb.line, who, f, "the value is empty; Konnect label values are 1 to %d characters: give one, or leave the label out", maxLabelLen)
		case len(v) > maxLabelLen:
			p.add(lb.line, who, f, "the value is %d characters long; Konnect allows at most %d, shorten it", utf8.RuneCountInString(v), maxLabelLen)
		case !labelValuePattern.MatchString(v):
			p.add(lb.line, who, f, "%s is not a valid label value; use letters and digits, with '-', '_' or '.' inside (starting and ending with a letter or digit)%s",
				quote(v), eg(suggestLabelValue(v)))
		}
	}
}

func mergeLabels(d, p labelMap) map[string]string {
	if len(d.items) == 0 && len(p.items) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, l := range d.items {
		m[l.key] = l.val
	}
	for _, l := range p.items { // the portal wins
		m[l.key] = l.val
	}
	return m
}

// across checks what portals share: their keys, and Konnect resources that more than
// one portal names, which must then be asked for with the same settings, or two
// runs would fight over one resource.
func (p *parser) across(raws []rawPortal, specs []dcrflow.PortalSpec) {
	type use struct {
		idx  int
		line int
	}
	keys := map[string]int{}
	providers := map[string]use{}
	strategies := map[string]use{}
	pubs := map[[2]string]use{}
	for i, s := range specs {
		r := raws[i]
		if s.Key == "" {
			continue
		}
		if at, dup := keys[s.Key]; dup {
			p.add(first(r.name.line, r.portal.line, r.line), s.Key, "name", "duplicate portal (first at line %d); give each portal its own name", at)
			continue
		}
		keys[s.Key] = r.line

		if u, ok := providers[s.DCRProvider]; !ok {
			providers[s.DCRProvider] = use{i, r.line}
		} else if diff := providerDiffs(s, specs[u.idx]); len(diff) > 0 {
			p.add(providerLine(r), s.Key, "dcr_provider.name", "%s is also the DCR provider of portal %q (line %d), with a different %s; a Konnect DCR provider has one issuer, one DCR token and one set of labels, so give this portal its own dcr_provider name or make those settings the same",
				quote(s.DCRProvider), specs[u.idx].Key, u.line, strings.Join(diff, ", "))
		}

		if u, ok := strategies[s.Strategy.Name]; !ok {
			strategies[s.Strategy.Name] = use{i, r.line}
		} else if diff := strategyDiffs(s, specs[u.idx]); len(diff) > 0 {
			p.add(strategyLine(r), s.Key, "auth_strategy.name", "%s is also the auth strategy of portal %q (line %d), with a different %s; a Konnect auth strategy has one issuer, one set of scopes, one claim, one DCR provider and one set of labels, so give this portal its own auth_strategy name or make those settings the same",
				quote(s.Strategy.Name), specs[u.idx].Key, u.line, strings.Join(diff, ", "))
		}

		for j, a := range s.APIs {
			k := [2]string{s.Portal, a.API}
			if a.API == "" {
				continue
			}
			u, ok := pubs[k]
			if !ok {
				pubs[k] = use{i, r.apis[j].line}
				continue
			}
			if u.idx == i {
				continue // listed twice in one portal: reported already
			}
			if diff := publicationDiffs(s, a, specs[u.idx], k[1]); len(diff) > 0 {
				p.add(r.apis[j].line, s.Key, "apis", "%s is also published on Konnect portal %s by portal %q (line %d), with a different %s; an API has one publication per Konnect portal, so publish it from one of the two or make those settings the same",
					quote(a.API), quote(s.Portal), specs[u.idx].Key, u.line, strings.Join(diff, ", "))
			}
		}
	}
}

func providerLine(r rawPortal) int {
	if r.provider == nil {
		return r.line
	}
	return first(r.provider.name.line, r.provider.line)
}

func strategyLine(r rawPortal) int {
	if r.strategy == nil {
		return r.line
	}
	return first(r.strategy.name.line, r.strategy.line)
}

func providerDiffs(a, b dcrflow.PortalSpec) []string {
	var d []string
	d = differ(d, "auth_server", a.AuthServer, b.AuthServer)
	d = differ(d, "dcr_token", a.DCRTokenName, b.DCRTokenName)
	if !maps.Equal(a.Labels, b.Labels) {
		d = append(d, "labels")
	}
	return d
}

func strategyDiffs(a, b dcrflow.PortalSpec) []string {
	var d []string
	d = differ(d, "auth_server", a.AuthServer, b.AuthServer)
	if !sameSet(scopeNames(a), scopeNames(b)) {
		d = append(d, "scopes ("+strings.Join(scopeNames(a), " ")+" here, "+strings.Join(scopeNames(b), " ")+" there)")
	}
	d = differ(d, "claim", a.ClaimName, b.ClaimName)
	d = differ(d, "dcr_provider", a.DCRProvider, b.DCRProvider)
	d = differ(d, "display_name", a.Strategy.DisplayName, b.Strategy.DisplayName)
	if !sameSet(a.Strategy.AuthMethods, b.Strategy.AuthMethods) {
		d = append(d, "auth_methods ("+strings.Join(a.Strategy.AuthMethods, " ")+" here, "+strings.Join(b.Strategy.AuthMethods, " ")+" there)")
	}
	if !maps.Equal(a.Labels, b.Labels) {
		d = append(d, "labels")
	}
	return d
}

func publicationDiffs(a dcrflow.PortalSpec, api dcrflow.APISpec, b dcrflow.PortalSpec, name string) []string {
	var d []string
	d = differ(d, "auth_strategy", a.Strategy.Name, b.Strategy.Name)
	for _, o := range b.APIs {
		if o.API == name {
			d = differ(d, "visibility", api.Visibility, o.Visibility)
			d = differ(d, "auto_approve", fmt.Sprint(api.AutoApprove), fmt.Sprint(o.AutoApprove))
			break
		}
	}
	return d
}

func differ(d []string, field, here, there string) []string {
	if here == there {
		return d
	}
	return append(d, fmt.Sprintf("%s (%s here, %s there)", field, quote(here), quote(there)))
}

func scopeNames(s dcrflow.PortalSpec) []string {
	out := make([]string, 0, len(s.Scopes))
	for _, sc := range s.Scopes {
		out = append(out, sc.Name)
	}
	return out
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func texts(ts []text) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.val)
	}
	return out
}

func first[T comparable](vals ...T) T {
	var zero T
	for _, v := range vals {
		if v != zero {
			return v
		}
	}
	return zero
}

func firstBool(p, d flag, def bool) bool {
	if p.set && !p.bad {
		return p.val
	}
	if d.set && !d.bad {
		return d.val
	}
	return def
}

func eg(s string) string {
	if s == "" {
		return ""
	}
	return ", e.g. " + quote(s)
}

var nonKey = regexp.MustCompile(`[^a-z0-9]+`)

// suggestKey turns s into a valid key, or "".
func suggestKey(s string) string {
	k := strings.Trim(nonKey.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(k) > maxKeyLen {
		k = strings.TrimRight(k[:maxKeyLen], "-")
	}
	if !keyPattern.MatchString(k) {
		return ""
	}
	return k
}

var nonTokenName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

func suggestTokenName(s string) string {
	return strings.Trim(nonTokenName.ReplaceAllString(s, "-"), "-")
}

var nonLabel = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func suggestLabelValue(s string) string {
	v := nonLabel.ReplaceAllString(s, "-")
	if len(v) > maxLabelLen {
		v = v[:maxLabelLen]
	}
	v = strings.TrimFunc(v, func(r rune) bool { return !isAlnum(r) })
	if !labelValuePattern.MatchString(v) {
		return ""
	}
	return v
}

func isAlnum(r rune) bool { return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) }
