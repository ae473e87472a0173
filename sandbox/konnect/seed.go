package konnect

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

//go:embed default_seed.json
var defaultSeedJSON []byte

// DefaultToken is a personal access token the default seed accepts.
const DefaultToken = "kpat_sandbox4xT9mQ2vL8nR5wK1pZ7cJ3hF6dB0gY2sE9uA"

// seedTime stamps every seeded resource, so that State is the same on every run.
var seedTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Seed is the emulator's starting state.
type Seed struct {
	Tokens         []string           `json:"tokens"` // bearer tokens accepted (kpat_/spat_)
	Portals        []SeedPortal       `json:"portals"`
	APIs           []SeedAPI          `json:"apis"`
	DCRProviders   []SeedDCRProvider  `json:"dcr_providers,omitempty"`
	AuthStrategies []SeedAuthStrategy `json:"auth_strategies,omitempty"`
	Publications   []SeedPublication  `json:"publications,omitempty"`
	// VerifyFailureStatus is how verify answers a provider Okta refuses. The spec
	// allows both: 0 (the default) is 200 with status "failed" and the errors; a
	// 4xx (e.g. 400) is that status with a problem whose detail holds the errors
	// ("returns 200 for success, 4xx for failure").
	VerifyFailureStatus int `json:"verify_failure_status,omitempty"`
	// RateLimitHeaders adds RateLimit-Limit/-Remaining/-Reset to every answer. Off
	// by default: Konnect documents only Retry-After on a 429.
	RateLimitHeaders bool `json:"rate_limit_headers,omitempty"`
}

// SeedPortal is a portal; omitted fields take Konnect's defaults (authentication on,
// private visibilities, canonical domain = default domain).
type SeedPortal struct {
	ID                               string            `json:"id"`
	Name                             string            `json:"name"`
	DisplayName                      string            `json:"display_name,omitempty"`
	Description                      *string           `json:"description,omitempty"`
	AuthenticationEnabled            *bool             `json:"authentication_enabled,omitempty"`
	RBACEnabled                      bool              `json:"rbac_enabled,omitempty"`
	SIPREnabled                      bool              `json:"sipr_enabled,omitempty"`
	DefaultAPIVisibility             string            `json:"default_api_visibility,omitempty"`
	DefaultPageVisibility            string            `json:"default_page_visibility,omitempty"`
	DefaultApplicationAuthStrategyID string            `json:"default_application_auth_strategy_id,omitempty"`
	AutoApproveDevelopers            bool              `json:"auto_approve_developers,omitempty"`
	AutoApproveApplications          bool              `json:"auto_approve_applications,omitempty"`
	DefaultDomain                    string            `json:"default_domain"`
	CanonicalDomain                  string            `json:"canonical_domain,omitempty"`
	Labels                           map[string]string `json:"labels,omitempty"`
	Developers                       []SeedDeveloper   `json:"developers,omitempty"`
	Teams                            []SeedTeam        `json:"teams,omitempty"`
}

// SeedDeveloper is a developer of the portal; Status defaults to approved.
type SeedDeveloper struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	FullName string `json:"full_name"`
	Status   string `json:"status,omitempty"`
}

// SeedTeam is a developer team of the portal.
type SeedTeam struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Description        string `json:"description"`
	CanOwnApplications bool   `json:"can_own_applications,omitempty"`
}

// SeedAPI is an API of the catalog; an empty slug defaults to slugify(name+version).
type SeedAPI struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	Version     string              `json:"version,omitempty"`
	Slug        string              `json:"slug,omitempty"`
	Description string              `json:"description,omitempty"`
	Labels      map[string]string   `json:"labels,omitempty"`
	Attributes  map[string][]string `json:"attributes,omitempty"`
}

// SeedDCRProvider is a pre-existing DCR provider, in the create request's shape plus
// its id. Unlike created ones, seeded providers may share a name.
type SeedDCRProvider struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	DisplayName  string            `json:"display_name,omitempty"`
	ProviderType string            `json:"provider_type"`
	Issuer       string            `json:"issuer"`
	DCRConfig    SeedDCRConfig     `json:"dcr_config"`
	Labels       map[string]string `json:"labels,omitempty"`
}

// SeedDCRConfig holds the provider's write-only DCR token.
type SeedDCRConfig struct {
	DCRToken string `json:"dcr_token"`
}

// SeedAuthStrategy is a pre-existing auth strategy in the create request's shape plus
// its id. Seeded strategies may share a name.
type SeedAuthStrategy struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	DisplayName   string            `json:"display_name"`
	StrategyType  string            `json:"strategy_type"`
	Configs       map[string]any    `json:"configs"`
	DCRProviderID string            `json:"dcr_provider_id,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
}

// SeedPublication publishes an API to a portal; a nil AuthStrategyIDs means none.
type SeedPublication struct {
	APIID                    string   `json:"api_id"`
	PortalID                 string   `json:"portal_id"`
	AuthStrategyIDs          []string `json:"auth_strategy_ids"`
	Visibility               string   `json:"visibility,omitempty"`
	AutoApproveRegistrations bool     `json:"auto_approve_registrations,omitempty"`
}

// DefaultSeed is the embedded default_seed.json: six portals, each with one
// approved developer and one team that can own applications, ten APIs, no DCR
// providers, strategies, publications or applications. Each call returns a fresh copy.
func DefaultSeed() Seed {
	var s Seed
	dec := json.NewDecoder(bytes.NewReader(defaultSeedJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Seed{} // New then fails with a clear error; a test keeps the file valid
	}
	return s
}

// build turns a seed into a store, checking it as strictly as the API checks input.
func build(seed Seed) (*store, map[string]bool, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	tokens := map[string]bool{}
	for i, t := range seed.Tokens {
		if !strings.HasPrefix(t, "kpat_") && !strings.HasPrefix(t, "spat_") {
			fail("tokens[%d]: must start with kpat_ or spat_", i)
			continue
		}
		tokens[t] = true
	}
	if len(tokens) == 0 {
		fail("tokens: at least one token is required")
	}

	st := newStore()
	ids := map[string]string{}
	claim := func(kind, id string) bool {
		if !isUUID(id) {
			fail("%s %q: id must be a UUID", kind, id)
			return false
		}
		id = strings.ToLower(id)
		if prev, dup := ids[id]; dup {
			fail("%s %s: id already used by a %s", kind, id, prev)
			return false
		}
		ids[id] = kind
		return true
	}

	for _, p := range seed.DCRProviders {
		if !claim("dcr provider", p.ID) {
			continue
		}
		in, params := parseProvider(toObject(p))
		if len(params) > 0 {
			fail("dcr provider %s: %s", p.ID, describe(params))
			continue
		}
		st.addProvider(strings.ToLower(p.ID), in, seedTime)
	}
	for _, s := range seed.AuthStrategies {
		if !claim("auth strategy", s.ID) {
			continue
		}
		in, params := parseStrategy(toObject(s))
		if len(params) == 0 && in.providerID != "" && st.providers[in.providerID] == nil {
			params = append(params, missingProvider())
		}
		if len(params) > 0 {
			fail("auth strategy %s: %s", s.ID, describe(params))
			continue
		}
		st.addStrategy(strings.ToLower(s.ID), in, seedTime)
	}
	names := map[string]bool{}
	for _, p := range seed.Portals {
		if !claim("portal", p.ID) {
			continue
		}
		if p.Name == "" || names[p.Name] {
			fail("portal %s: name must be set and unique", p.ID)
			continue
		}
		names[p.Name] = true
		if p.DefaultDomain == "" {
			fail("portal %s: default_domain is required", p.ID)
			continue
		}
		if id := p.DefaultApplicationAuthStrategyID; id != "" && st.strategies[strings.ToLower(id)] == nil {
			fail("portal %s: default_application_auth_strategy_id %s does not exist", p.ID, id)
			continue
		}
		st.addPortal(seedPortal(p))
		portalID := strings.ToLower(p.ID)
		emails, teamNames := map[string]bool{}, map[string]bool{}
		for _, d := range p.Developers {
			if !claim("developer", d.ID) {
				continue
			}
			status := orDefault(d.Status, "approved")
			if d.Email == "" || d.FullName == "" || emails[strings.ToLower(d.Email)] || !slices.Contains(developerStatuses, status) {
				fail("portal %s developer %s: email (unique), full_name and a valid status are required", p.ID, d.ID)
				continue
			}
			emails[strings.ToLower(d.Email)] = true
			st.developers[strings.ToLower(d.ID)] = &developerRec{portalID: portalID, seq: st.next(), Developer: Developer{
				ID: strings.ToLower(d.ID), Email: d.Email, FullName: d.FullName, Status: status,
				CreatedAt: seedTime, UpdatedAt: seedTime}}
		}
		for _, tm := range p.Teams {
			if !claim("team", tm.ID) {
				continue
			}
			if tm.Name == "" || teamNames[tm.Name] || tm.Description == "" {
				fail("portal %s team %s: a unique name and a description are required", p.ID, tm.ID)
				continue
			}
			teamNames[tm.Name] = true
			st.teams[strings.ToLower(tm.ID)] = &teamRec{portalID: portalID, seq: st.next(), Team: Team{
				ID: strings.ToLower(tm.ID), Name: tm.Name, Description: tm.Description,
				CanOwnApplications: tm.CanOwnApplications, CreatedAt: seedTime, UpdatedAt: seedTime}}
		}
	}
	nameVersions := map[string]bool{}
	for _, a := range seed.APIs {
		if !claim("api", a.ID) {
			continue
		}
		if a.Name == "" || nameVersions[a.Name+"\x00"+a.Version] {
			fail("api %s: name must be set and name+version unique", a.ID)
			continue
		}
		nameVersions[a.Name+"\x00"+a.Version] = true
		st.addAPI(seedAPI(a))
	}
	for i, p := range seed.Publications {
		apiID, portalID := strings.ToLower(p.APIID), strings.ToLower(p.PortalID)
		if st.apis[apiID] == nil || st.portals[portalID] == nil {
			fail("publications[%d]: api %s or portal %s does not exist", i, p.APIID, p.PortalID)
			continue
		}
		in, params := parsePublication(toObject(struct {
			IDs        []string `json:"auth_strategy_ids"`
			Visibility string   `json:"visibility,omitempty"`
			Auto       bool     `json:"auto_approve_registrations"`
		}{p.AuthStrategyIDs, p.Visibility, p.AutoApproveRegistrations}))
		params = append(params, st.checkStrategies(in.strategyIDs)...)
		if len(params) > 0 {
			fail("publications[%d]: %s", i, describe(params))
			continue
		}
		st.putPublication(apiID, portalID, in, seedTime)
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("konnect seed: %w", errors.Join(errs...))
	}
	return st, tokens, nil
}

func cloneSeed(s Seed) (Seed, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return Seed{}, fmt.Errorf("konnect seed: %w", err)
	}
	var out Seed
	if err := json.Unmarshal(raw, &out); err != nil {
		return Seed{}, fmt.Errorf("konnect seed: %w", err)
	}
	return out, nil
}

func seedPortal(p SeedPortal) Portal {
	out := Portal{
		ID: strings.ToLower(p.ID), Name: p.Name, DisplayName: p.DisplayName, Description: p.Description,
		AuthenticationEnabled: true, RBACEnabled: p.RBACEnabled, SIPREnabled: p.SIPREnabled,
		DefaultAPIVisibility: orDefault(p.DefaultAPIVisibility, "private"), DefaultPageVisibility: orDefault(p.DefaultPageVisibility, "private"),
		AutoApproveDevelopers: p.AutoApproveDevelopers, AutoApproveApplications: p.AutoApproveApplications,
		DefaultDomain: p.DefaultDomain, CanonicalDomain: orDefault(p.CanonicalDomain, p.DefaultDomain),
		Labels: cloneLabels(p.Labels), CreatedAt: seedTime, UpdatedAt: seedTime,
	}
	if out.DisplayName == "" {
		out.DisplayName = p.Name
	}
	if p.AuthenticationEnabled != nil {
		out.AuthenticationEnabled = *p.AuthenticationEnabled
	}
	if p.DefaultApplicationAuthStrategyID != "" {
		id := strings.ToLower(p.DefaultApplicationAuthStrategyID)
		out.DefaultApplicationAuthStrategyID = &id
	}
	return out
}

func seedAPI(a SeedAPI) API {
	out := API{
		ID: strings.ToLower(a.ID), Name: a.Name, APISpecIDs: []string{},
		Labels: cloneLabels(a.Labels), Attributes: map[string][]string{}, CreatedAt: seedTime, UpdatedAt: seedTime,
	}
	for k, v := range a.Attributes {
		out.Attributes[k] = append([]string(nil), v...)
	}
	if a.Description != "" {
		out.Description = &a.Description
	}
	if a.Version != "" {
		out.Version = &a.Version
	}
	slug := a.Slug
	if slug == "" {
		slug = slugify(a.Name, a.Version)
	}
	out.Slug = &slug
	return out
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func cloneLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// toObject turns a seed entry into the JSON object the API's validators take.
func toObject(v any) map[string]any {
	raw, _ := json.Marshal(v)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	_ = dec.Decode(&obj)
	if obj == nil {
		obj = map[string]any{}
	}
	delete(obj, "id")
	return obj
}

func describe(params []InvalidParameter) string {
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = p.Field + " " + p.Reason
	}
	return strings.Join(parts, "; ")
}
