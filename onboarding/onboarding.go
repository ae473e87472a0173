// Package onboarding reads the onboarding file: the portals to onboard, with defaults
// applied and every problem found before anything starts. Each problem names the
// file, the line, the portal and the field, and says how to fix it.
package onboarding

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/readfile"
	"github.com/dcrflow/dcrflow/internal/textsafe"
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
	raw, err := readfile.Read(path, readfile.Onboarding)
	if err != nil {
		return nil, fmt.Errorf("onboarding file %w", err)
	}
	return Parse(path, raw)
}

// Parse is Load on bytes already read; name is used in messages. Its error is an
// *Error.
func Parse(name string, raw []byte) ([]dcrflow.PortalSpec, error) {
	return parse(name, raw, true)
}

// parse is Parse, reading a file of the usual shape in pieces when split is set (see
// split.go), else whole.
func parse(name string, raw []byte, split bool) ([]dcrflow.PortalSpec, error) {
	p := &parser{fname: name, size: len(raw)}
	var specs []dcrflow.PortalSpec
	if p.affordable(raw) {
		var done bool
		if split {
			specs, done = p.parseSplit(raw)
		}
		if !done {
			specs = p.parseWhole(raw)
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
	at := make([]lines, 0, len(f.portals))
	for _, r := range f.portals {
		out = append(out, p.portalSpec(r, d))
		at = append(at, linesOf(r))
	}
	p.across(at, out)
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

// tokenName is dcrflow.DCRTokenName, the defaults' name normalised once for every
// portal that takes it (a long name in other letters would otherwise be copied once a
// portal).
func (p *parser) tokenName(name string) string {
	if name != p.tokenIn || p.tokenOut == "" {
		p.tokenIn, p.tokenOut = name, dcrflow.DCRTokenName(name)
	}
	return p.tokenOut
}

const labelCountFix = "Konnect allows 50 labels per resource and dcrflow adds 3 of its own (managed-by, dcrflow-portal, dcrflow-run), so at most 47 with the defaults' and the portal's together; remove some"

func (p *parser) portalSpec(r rawPortal, d rawDefaults) dcrflow.PortalSpec {
	who := firstNonZero(r.name.val, r.portal.val)
	key := who
	s := dcrflow.PortalSpec{
		Key:          key,
		Portal:       firstNonZero(r.portal.val, r.name.val),
		AuthServer:   firstNonZero(r.authServer.val, d.authServer.val, DefaultAuthServer),
		ClaimName:    firstNonZero(r.claim.val, d.claim.val, DefaultClaim),
		DCRTokenName: firstNonZero(d.dcrToken.val, DefaultDCRToken),
		Validate:     firstBool(r.validate, d.validate, true),
		OnFailure:    firstNonZero(r.onFailure.val, d.onFailure.val, dcrflow.OnFailureCompensate),
		AccessPolicy: firstNonZero(r.accessPolicy.val, d.accessPolicy.val, dcrflow.AccessPolicyCheck),
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
		s.DCRProvider = firstNonZero(pv.name.val, s.DCRProvider)
		s.DCRTokenName = firstNonZero(pv.dcrToken.val, s.DCRTokenName)
	}
	// One normal form for token names, as the worker keys its tokens: Partners_EU,
	// partners-eu and DCRFLOW_DCR_TOKEN_PARTNERS_EU all name partners-eu.
	s.DCRTokenName = p.tokenName(s.DCRTokenName)

	s.Strategy = dcrflow.StrategySpec{Name: "dcrflow-" + key, DisplayName: "Okta DCR (" + key + ")", AuthMethods: DefaultAuthMethods}
	if len(d.authMethods.items) > 0 {
		if p.defaultMethods == nil { // one list for every portal: nothing writes to it
			p.defaultMethods = texts(d.authMethods.items)
		}
		s.Strategy.AuthMethods = p.defaultMethods
	}
	if st := r.strategy; st != nil {
		p.checkText(st.name, who, "auth_strategy.name", maxStrategyNameLen, "a Konnect auth strategy name",
			"give the auth strategy a name, or leave `name` out (default: dcrflow-<name>)")
		p.checkText(st.displayName, who, "auth_strategy.display_name", maxDisplayNameLen, "an auth strategy's display name",
			"developers see it in the portal: give one such as \"Okta DCR ("+key+")\", or leave the field out")
		p.checkAuthMethods(st.authMethods, who, "auth_strategy.auth_methods")
		s.Strategy.Name = firstNonZero(st.name.val, s.Strategy.Name)
		s.Strategy.DisplayName = firstNonZero(st.displayName.val, s.Strategy.DisplayName)
		if len(st.authMethods.items) > 0 {
			s.Strategy.AuthMethods = texts(st.authMethods.items)
		}
	}

	for _, sc := range r.scopes {
		s.Scopes = append(s.Scopes, dcrflow.ScopeSpec{Name: sc.name.val, Description: sc.description.val})
	}

	seen := map[string]text{}
	for _, a := range r.apis {
		api := dcrflow.APISpec{
			API:         a.api.val,
			Visibility:  firstNonZero(a.visibility.val, d.visibility.val, DefaultVisibility),
			AutoApprove: firstBool(a.autoApprove, d.autoApprove, false),
		}
		field := "apis"
		if p.checkText(a.api, who, field, maxAPILen, "a Konnect API name", "give the Konnect API's name or id") {
			if at, dup := seen[textsafe.Fold(a.api.val)]; !dup {
				seen[textsafe.Fold(a.api.val)] = a.api
			} else if at.val == a.api.val {
				p.add(a.api.line, who, field, "%s is listed twice (first at line %d); list each API once per portal", quote(a.api.val), at.line)
			} else {
				p.add(a.api.line, who, field, "%s is %s (line %d) written differently; Konnect may take them for one API: list each API once per portal", quote(a.api.val), quote(at.val), at.line)
			}
		}
		p.checkVisibility(a.visibility, who, "apis.visibility")
		s.APIs = append(s.APIs, api)
	}

	p.checkLabels(r.labels, who, "labels")
	p.checkLabelSpelling(d.labels, r.labels, who)
	s.Labels = p.mergeLabels(d.labels, r.labels)
	p.tooManyCopies(d.labels, r, who)
	if n := len(s.Labels); n > maxUserLabels && len(d.labels.items) <= maxUserLabels {
		p.add(firstNonZero(r.labels.line, r.line), who, "labels", "%d labels with the defaults'; %s", n, labelCountFix)
	}
	return s
}
