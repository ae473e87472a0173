package okta

import "slices"

// State is a snapshot of the org for the control API and tests. It holds no
// token and no client secret.
type State struct {
	AuthorizationServers []ServerState `json:"authorization_servers"`
	Clients              []ClientState `json:"clients"`
	TokensIssued         int           `json:"tokens_issued"`
}

// ServerState is one authorization server with everything in it.
type ServerState struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Issuer    string        `json:"issuer"`
	Audiences []string      `json:"audiences"`
	Scopes    []ScopeState  `json:"scopes"`
	Claims    []ClaimState  `json:"claims"`
	Policies  []PolicyState `json:"policies"`
}

// ScopeState is a scope.
type ScopeState struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Consent         string `json:"consent"`
	MetadataPublish string `json:"metadata_publish"`
	Default         bool   `json:"default"`
	System          bool   `json:"system"`
}

// ClaimState is a claim.
type ClaimState struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Status    string   `json:"status"`
	ClaimType string   `json:"claim_type"`
	ValueType string   `json:"value_type"`
	Value     string   `json:"value"`
	Scopes    []string `json:"scopes"`
	System    bool     `json:"system"`
}

// PolicyState is an access policy with its rules.
type PolicyState struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Status   string      `json:"status"`
	Priority int         `json:"priority"`
	System   bool        `json:"system"`
	Clients  []string    `json:"clients"`
	Rules    []RuleState `json:"rules"`
}

// RuleState is a policy rule.
type RuleState struct {
	ID                         string   `json:"id"`
	Name                       string   `json:"name"`
	Status                     string   `json:"status"`
	Priority                   int      `json:"priority"`
	System                     bool     `json:"system"`
	GrantTypes                 []string `json:"grant_types"`
	Scopes                     []string `json:"scopes"`
	AccessTokenLifetimeMinutes int      `json:"access_token_lifetime_minutes"`
}

// ClientState is a client registered through DCR, without its secret.
type ClientState struct {
	ClientID                string   `json:"client_id"`
	ClientName              string   `json:"client_name"`
	ApplicationType         string   `json:"application_type"`
	GrantTypes              []string `json:"grant_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

// State returns a deep copy of the org.
func (e *Emulator) State() any { return e.Snapshot() }

// Snapshot is State with its concrete type, for tests.
func (e *Emulator) Snapshot() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := State{AuthorizationServers: []ServerState{}, Clients: []ClientState{}, TokensIssued: e.org.tokensIssued}
	for _, s := range e.org.servers {
		ss := ServerState{ID: s.id, Name: s.name, Issuer: e.issuer(s.id), Audiences: slices.Clone(s.audiences),
			Scopes: []ScopeState{}, Claims: []ClaimState{}, Policies: []PolicyState{}}
		for _, sc := range s.scopes {
			ss.Scopes = append(ss.Scopes, ScopeState{ID: sc.id, Name: sc.name, Consent: sc.consent,
				MetadataPublish: sc.publish, Default: sc.isDefault, System: sc.system})
		}
		for _, c := range s.claims {
			ss.Claims = append(ss.Claims, ClaimState{ID: c.id, Name: c.name, Status: c.status, ClaimType: c.claimType,
				ValueType: c.valueType, Value: c.value, Scopes: slices.Clone(c.scopes), System: c.system})
		}
		for _, p := range s.policies {
			ps := PolicyState{ID: p.id, Name: p.name, Status: p.status, Priority: p.priority, System: p.system,
				Clients: slices.Clone(p.clients), Rules: []RuleState{}}
			for _, r := range p.rules {
				ps.Rules = append(ps.Rules, RuleState{ID: r.id, Name: r.name, Status: r.status, Priority: r.priority, System: r.system,
					GrantTypes: slices.Clone(r.grantTypes), Scopes: slices.Clone(r.scopes),
					AccessTokenLifetimeMinutes: r.lifetimeMinutes})
			}
			ss.Policies = append(ss.Policies, ps)
		}
		st.AuthorizationServers = append(st.AuthorizationServers, ss)
	}
	for _, c := range e.org.clients {
		st.Clients = append(st.Clients, ClientState{ClientID: c.id, ClientName: c.name, ApplicationType: c.appType,
			GrantTypes: slices.Clone(c.grantTypes), TokenEndpointAuthMethod: c.authMethod})
	}
	return st
}
