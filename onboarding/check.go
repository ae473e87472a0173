package onboarding

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/textsafe"
)

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
	switch i := slices.IndexFunc(reservedClaims, func(c string) bool { return strings.EqualFold(c, t.val) }); {
	case i < 0:
	case reservedClaims[i] == t.val:
		p.add(t.line, who, field, "%s is a claim Okta sets itself; choose another name such as client_id", quote(t.val))
	default:
		p.add(t.line, who, field, "%s differs only in case from %q, a claim Okta sets itself; choose another name such as client_id", quote(t.val), reservedClaims[i])
	}
}

func (p *parser) checkTokenName(t text, who, field string) {
	if !p.checkText(t, who, field, 0, "", "name one of the worker's DCR tokens, e.g. default, or leave the field out (default: default)") {
		return
	}
	// A token itself was refused as it was read (harmless).
	if !tokenNamePattern.MatchString(t.val) {
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
		s.ValidateVia = firstNonZero(r.validateVia.val, dcrflow.ValidateViaOkta)
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
		line := firstNonZero(r.validateVia.line, r.validate.line, r.line)
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
		p.add(firstNonZero(r.scopesLine, r.line), who, "scopes", "list at least one custom scope (Konnect falls back to `openid`, which Okta refuses for client_credentials)")
		return
	}
	if len(r.scopes) > maxScopes {
		p.add(r.scopesLine, who, "scopes", "%d scopes; a Konnect auth strategy holds at most %d, so drop some or split the portal", len(r.scopes), maxScopes)
	}
	example := quote(firstNonZero(suggestKey(who), "payments") + ":read")
	seen := map[string]int{}
	for _, sc := range r.scopes {
		t, field := sc.name, "scopes"
		if t.bad {
			continue
		}
		n := utf8.RuneCountInString(t.val)
		lower := strings.ToLower(t.val)
		switch {
		case t.val == "":
			p.add(t.line, who, field, "a scope has an empty name; give it one such as %s", example)
		case lower == "openid":
			p.add(t.line, who, field, "`openid`%s cannot be requested with client_credentials; use a custom scope such as %s", caseOf(t.val, lower), example)
		case slices.Contains(oidcScopes, lower):
			p.add(t.line, who, field, "`%s`%s is an OpenID Connect scope about a user, which client_credentials cannot request; use a custom scope such as %s", lower, caseOf(t.val, lower), example)
		case !scopePattern.MatchString(t.val) || strings.HasPrefix(lower, "okta.") || strings.HasPrefix(lower, "okta:") || lower == "okta" || t.val == "*":
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

// checkLabels checks one `labels:` mapping; keys differing only by case or Unicode
// form are refused as one key given twice.
func (p *parser) checkLabels(l labelMap, who, field string) {
	keys := map[string]label{}
	for _, lb := range l.items {
		f := join(field, lb.key)
		switch n := utf8.RuneCountInString(lb.key); {
		case lb.key == "":
			p.add(lb.line, who, field, "a label key is empty; keys are 1 to %d characters", maxLabelLen)
			continue
		case n > maxLabelLen:
			p.add(lb.line, who, join(field, clip(lb.key)), "the key is %d characters long; Konnect allows 1 to %d, shorten it", n, maxLabelLen)
			continue
		case slices.ContainsFunc(dcrflowLabels, func(k string) bool { return strings.EqualFold(k, lb.key) }):
			p.add(lb.line, who, f, "dcrflow sets this label itself on what it creates (managed-by, dcrflow-portal, dcrflow-run)%s; choose another key", caseOf(lb.key, strings.ToLower(lb.key)))
			continue
		}
		if i := slices.IndexFunc(labelPrefixes, func(pre string) bool { return strings.HasPrefix(lb.key, pre) }); i >= 0 {
			p.add(lb.line, who, f, "starts with %q: Konnect reserves keys starting with kong, konnect, mesh, kic or _; choose another key", labelPrefixes[i])
			continue
		}
		if !labelValuePattern.MatchString(lb.key) {
			p.add(lb.line, who, field, "the key %s is not a valid label key; use letters and digits, with '-', '_' or '.' inside (starting and ending with a letter or digit)%s",
				quote(lb.key), eg(suggestLabelValue(lb.key)))
			continue
		}
		if at, dup := keys[textsafe.Fold(lb.key)]; dup {
			p.add(lb.line, who, f, "is the label %s (line %d) written differently; Konnect may take them for one key: keep one spelling", quote(at.key), at.line)
			continue
		}
		keys[textsafe.Fold(lb.key)] = lb
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

// checkLabelSpelling refuses a portal's label key that is a key of the defaults'
// written differently: merged, they would be two keys that Konnect may take for one.
func (p *parser) checkLabelSpelling(d, l labelMap, who string) {
	if len(l.items) == 0 {
		return
	}
	if p.defaultKeys == nil { // the same defaults for every portal: folded once
		p.defaultKeys = map[string]string{}
		for _, lb := range d.items {
			p.defaultKeys[textsafe.Fold(lb.key)] = lb.key
		}
	}
	keys := p.defaultKeys
	for _, lb := range l.items {
		if had, ok := keys[textsafe.Fold(lb.key)]; ok && had != lb.key {
			p.add(lb.line, who, join("labels", lb.key), "is the defaults' label %s written differently; Konnect may take them for one key: write it as in the defaults", quote(had))
		}
	}
}

// mergeLabels is the defaults' labels with the portal's over them. A portal without
// labels of its own shares the defaults' map with the others (nothing writes to a
// spec's labels: activities copy them), so that a fleet does not hold one copy of the
// defaults' labels a portal.
func (pr *parser) mergeLabels(d, p labelMap) map[string]string {
	if len(d.items) == 0 && len(p.items) == 0 {
		return nil
	}
	if len(p.items) == 0 {
		if pr.defaultLabels == nil {
			pr.defaultLabels = labelsOf(d, p)
		}
		return pr.defaultLabels
	}
	if pr.copied += len(d.items); pr.copied > copyBudget(pr.size) {
		return nil // refused: see tooManyCopies
	}
	return labelsOf(d, p)
}

func labelsOf(d, p labelMap) map[string]string {
	m := map[string]string{}
	for _, l := range d.items {
		m[l.key] = l.val
	}
	for _, l := range p.items { // the portal wins
		m[l.key] = l.val
	}
	return m
}

// caseOf says, in a message about the reserved name want, that got is it in other
// letters: "" when they are the same.
func caseOf(got, want string) string {
	if got == want {
		return ""
	}
	return fmt.Sprintf(" (as %s: a name differing only in case may be taken for it)", quote(got))
}
