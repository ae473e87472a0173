// Package onboarding reads the onboarding file: the portals to onboard, with defaults
// applied and every error found before anything starts.
package onboarding

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dcrflow/dcrflow"
)

// File is the onboarding file as written.
type File struct {
	Defaults Defaults     `yaml:"defaults"`
	Portals  []PortalYAML `yaml:"portals"`
}

// Defaults apply to every portal that leaves the field out.
type Defaults struct {
	AuthServer  string   `yaml:"auth_server"`
	Claim       string   `yaml:"claim"`
	DCRToken    string   `yaml:"dcr_token"`
	AuthMethods []string `yaml:"auth_methods"`
	Validate    *bool    `yaml:"validate"`
	OnFailure   string   `yaml:"on_failure"`
	Visibility  string   `yaml:"visibility"`
	AutoApprove *bool    `yaml:"auto_approve"`
}

// PortalYAML is one portal as written.
type PortalYAML struct {
	Name         string        `yaml:"name"`
	Portal       string        `yaml:"portal"`
	AuthServer   string        `yaml:"auth_server"`
	Scopes       []ScopeYAML   `yaml:"scopes"`
	Claim        string        `yaml:"claim"`
	DCRProvider  *ProviderYAML `yaml:"dcr_provider"`
	AuthStrategy *StrategyYAML `yaml:"auth_strategy"`
	APIs         []APIYAML     `yaml:"apis"`
	Validate     *bool         `yaml:"validate"`
	OnFailure    string        `yaml:"on_failure"`

	line int // where the portal starts, for messages
}

// ScopeYAML is a scope: a bare name or {name, description}.
type ScopeYAML struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
}

// UnmarshalYAML accepts a bare string as the scope's name.
func (s *ScopeYAML) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s.Name = n.Value
		return nil
	}
	if err := checkKeys(n, "scope", "name", "description"); err != nil {
		return err
	}
	type plain ScopeYAML
	return n.Decode((*plain)(s))
}

// ProviderYAML names the DCR provider and the DCR token's secret name.
type ProviderYAML struct {
	Name     string `yaml:"name"`
	DCRToken string `yaml:"dcr_token"`
}

// StrategyYAML describes the auth strategy.
type StrategyYAML struct {
	Name        string   `yaml:"name"`
	DisplayName string   `yaml:"display_name"`
	AuthMethods []string `yaml:"auth_methods"`
}

// APIYAML is an API to publish: a bare name or {api, visibility, auto_approve}.
type APIYAML struct {
	API         string `yaml:"api"`
	Visibility  string `yaml:"visibility"`
	AutoApprove *bool  `yaml:"auto_approve"`
}

// UnmarshalYAML accepts a bare string as the API's name or id.
func (a *APIYAML) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		a.API = n.Value
		return nil
	}
	if err := checkKeys(n, "api", "api", "visibility", "auto_approve"); err != nil {
		return err
	}
	type plain APIYAML
	return n.Decode((*plain)(a))
}

// checkKeys refuses fields a mapping does not know; yaml.v3 enforces KnownFields only
// outside custom unmarshalers, and these accept a bare scalar too.
func checkKeys(n *yaml.Node, what string, allowed ...string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(allowed, k.Value) {
			return fmt.Errorf("line %d: field %s not found in %s (known: %s)", k.Line, k.Value, what, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// Built-in defaults, for fields that neither the portal nor `defaults:` set.
const (
	DefaultAuthServer = "default"
	DefaultClaim      = "client_id"
	DefaultDCRToken   = "default"
	DefaultVisibility = "private"
)

// DefaultAuthMethods is what a strategy offers when nothing else is said.
var DefaultAuthMethods = []string{"client_credentials", "bearer"}

// Load reads path and returns every portal with defaults applied, or an error listing
// every problem found, each naming the file, line, portal and field.
func Load(path string) ([]dcrflow.PortalSpec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onboarding file: %w", err)
	}
	return Parse(path, raw)
}

// Parse is Load on bytes already read; name is used in messages.
func Parse(name string, raw []byte) ([]dcrflow.PortalSpec, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %v", name, cleanYAMLError(err))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err == nil {
		setPortalLines(&doc, f.Portals)
	}
	v := validator{file: name}
	specs := v.portals(f)
	if len(v.errs) > 0 {
		return nil, &Error{File: name, Problems: v.errs}
	}
	return specs, nil
}

// setPortalLines copies each portal's line from the parsed node tree.
func setPortalLines(doc *yaml.Node, portals []PortalYAML) {
	if len(doc.Content) == 0 {
		return
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "portals" {
			continue
		}
		for j, item := range root.Content[i+1].Content {
			if j < len(portals) {
				portals[j].line = item.Line
			}
		}
	}
}

// Error lists every problem in an onboarding file.
type Error struct {
	File     string
	Problems []string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %d problem(s):\n  %s", e.File, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

type validator struct {
	file string
	errs []string
}

func (v *validator) addf(line int, portal, field, format string, args ...any) {
	where := fmt.Sprintf("%s:%d", v.file, line)
	if portal != "" {
		where += fmt.Sprintf(": portal %q", portal)
	}
	v.errs = append(v.errs, fmt.Sprintf("%s: %s: %s", where, field, fmt.Sprintf(format, args...)))
}

var (
	keyPattern   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	scopePattern = regexp.MustCompile(`^[!#-\[\]-~]+$`) // printable ASCII but space, '"' and '\'
)

func (v *validator) portals(f File) []dcrflow.PortalSpec {
	d := f.Defaults
	if len(f.Portals) == 0 {
		v.errs = append(v.errs, fmt.Sprintf("%s: portals: the file lists no portal; add at least one under `portals:`", v.file))
		return nil
	}
	seen := map[string]int{}
	var out []dcrflow.PortalSpec
	for _, p := range f.Portals {
		s := v.portal(p, d)
		if first, dup := seen[s.Key]; dup && s.Key != "" {
			v.addf(p.line, s.Key, "name", "duplicate portal (first at line %d); give each portal its own name", first)
		}
		seen[s.Key] = p.line
		out = append(out, s)
	}
	return out
}

func (v *validator) portal(p PortalYAML, d Defaults) dcrflow.PortalSpec {
	key := first(p.Name, p.Portal)
	s := dcrflow.PortalSpec{
		Key:          key,
		Portal:       first(p.Portal, p.Name),
		AuthServer:   first(p.AuthServer, d.AuthServer, DefaultAuthServer),
		ClaimName:    first(p.Claim, d.Claim, DefaultClaim),
		DCRTokenName: first(d.DCRToken, DefaultDCRToken),
		Validate:     firstBool(p.Validate, d.Validate, true),
		OnFailure:    first(p.OnFailure, d.OnFailure, dcrflow.OnFailureCompensate),
	}
	if s.OnFailure != dcrflow.OnFailureCompensate && s.OnFailure != dcrflow.OnFailureHold {
		v.addf(p.line, key, "on_failure", "%q: use compensate (undo at once) or hold (wait for an operator's retry or abandon)", s.OnFailure)
	}
	if key == "" {
		v.addf(p.line, "", "name", "a portal needs `name` or `portal` (the Konnect portal's name or id)")
	} else if !keyPattern.MatchString(key) {
		v.addf(p.line, key, "name", "use lowercase letters, digits and '-' (at most 63), e.g. %q", suggestKey(key))
	}
	s.DCRProvider = "dcrflow-" + key
	if p.DCRProvider != nil {
		s.DCRProvider = first(p.DCRProvider.Name, s.DCRProvider)
		s.DCRTokenName = first(p.DCRProvider.DCRToken, s.DCRTokenName)
	}
	s.Strategy = dcrflow.StrategySpec{Name: "dcrflow-" + key, DisplayName: "Okta DCR (" + key + ")", AuthMethods: DefaultAuthMethods}
	if len(d.AuthMethods) > 0 {
		s.Strategy.AuthMethods = d.AuthMethods
	}
	if st := p.AuthStrategy; st != nil {
		s.Strategy.Name = first(st.Name, s.Strategy.Name)
		s.Strategy.DisplayName = first(st.DisplayName, s.Strategy.DisplayName)
		if len(st.AuthMethods) > 0 {
			s.Strategy.AuthMethods = st.AuthMethods
		}
	}
	for _, m := range s.Strategy.AuthMethods {
		if !slices.Contains(dcrflow.DCRAuthMethods, m) {
			v.addf(p.line, key, "auth_strategy.auth_methods", "%q is not a DCR auth method; use %s", m, strings.Join(dcrflow.DCRAuthMethods, ", "))
		}
	}
	if len(p.Scopes) == 0 {
		v.addf(p.line, key, "scopes", "list at least one custom scope (Konnect falls back to `openid`, which Okta refuses for client_credentials)")
	}
	for _, sc := range p.Scopes {
		switch {
		case sc.Name == "":
			v.addf(p.line, key, "scopes", "a scope has no name")
		case sc.Name == "openid":
			v.addf(p.line, key, "scopes", "`openid` cannot be requested with client_credentials; use a custom scope such as %q", key+":read")
		case !scopePattern.MatchString(sc.Name) || strings.HasPrefix(sc.Name, "okta.") || strings.HasPrefix(sc.Name, "okta:") || sc.Name == "okta" || sc.Name == "*":
			v.addf(p.line, key, "scopes", "%q is not a valid Okta scope name (printable ASCII without spaces, quotes or backslashes; not okta.*, okta:* or *)", sc.Name)
		}
		s.Scopes = append(s.Scopes, dcrflow.ScopeSpec{Name: sc.Name, Description: sc.Description})
	}
	for _, a := range p.APIs {
		api := dcrflow.APISpec{
			API:         a.API,
			Visibility:  first(a.Visibility, d.Visibility, DefaultVisibility),
			AutoApprove: firstBool(a.AutoApprove, d.AutoApprove, false),
		}
		if api.API == "" {
			v.addf(p.line, key, "apis", "an API entry has no `api` (the Konnect API's name or id)")
		}
		if api.Visibility != "public" && api.Visibility != "private" {
			v.addf(p.line, key, "apis.visibility", "%q: use public or private", api.Visibility)
		}
		s.APIs = append(s.APIs, api)
	}
	return s
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstBool(p, d *bool, def bool) bool {
	if p != nil {
		return *p
	}
	if d != nil {
		return *d
	}
	return def
}

func suggestKey(s string) string {
	s = strings.ToLower(s)
	s = regexp.MustCompile(`[^a-z0-9-]+`).ReplaceAllString(s, "-")
	return strings.Trim(s, "-")
}

// cleanYAMLError keeps yaml.v3's line numbers and drops its Go type names.
func cleanYAMLError(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
	msg = regexp.MustCompile(` in type [\w.]+`).ReplaceAllString(msg, "")
	msg = regexp.MustCompile(`into [\w.\[\]*]+`).ReplaceAllString(msg, "into the expected type")
	return msg
}
