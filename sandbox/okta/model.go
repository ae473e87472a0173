package okta

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
	"time"
)

// The org's state. Every object carries seq, its place in creation order, which
// is also the order lists are served in.

type authServer struct {
	id, name, description string
	audiences             []string
	created               time.Time
	scopes                []*scope
	claims                []*claim
	policies              []*policy
}

type scope struct {
	seq                                                  int64
	id, name, displayName, description, consent, publish string
	isDefault, system                                    bool
}

type claim struct {
	seq                                                        int64
	id, name, status, claimType, valueType, value, groupFilter string
	alwaysInclude, system                                      bool
	scopes                                                     []string
}

type policy struct {
	seq                           int64
	id, name, description, status string
	priority                      int
	system                        bool
	clients                       []string
	created, updated              time.Time
	rules                         []*rule
}

type rule struct {
	seq                                            int64
	id, name, status                               string
	priority                                       int
	system                                         bool
	grantTypes, scopes, groups, users              []string
	lifetimeMinutes, refreshMinutes, windowMinutes int
	created, updated                               time.Time
}

// Accessors for the generic lookups (find, removeCustom).
func (sc *scope) ident() string  { return sc.id }
func (c *claim) ident() string   { return c.id }
func (p *policy) ident() string  { return p.id }
func (r *rule) ident() string    { return r.id }
func (sc *scope) isSystem() bool { return sc.system }
func (c *claim) isSystem() bool  { return c.system }

// client is an app registered through DCR.
type client struct {
	seq                                     int64
	id, secret, name, appType, authMethod   string
	grantTypes, responseTypes, redirectURIs []string
	issuedAt                                time.Time
}

// systemScopes are the OIDC scopes Okta creates on every custom server.
var systemScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access"}

// ID prefixes as Okta uses them.
const (
	prefixScope  = "scp"
	prefixClaim  = "ocl"
	prefixPolicy = "00p"
	prefixRule   = "0pr"
	prefixApp    = "0oa"
)

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// randomID returns prefix + 17 random characters, the shape of Okta ids.
func randomID(prefix string) string { return prefix + randomString(17) }

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

// seededID is stable across Reset, so fixtures and tests can name seeded objects.
func seededID(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%s\x00", p)
	}
	sum := h.Sum(nil)
	b := make([]byte, 17)
	for i := range b {
		b[i] = idAlphabet[int(sum[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}

// orgState is everything Reset restores.
type orgState struct {
	servers      []*authServer
	clients      []*client
	seqOf        map[string]int64 // every id ever issued, for pagination cursors
	nextSeq      int64
	tokensIssued int
}

func (o *orgState) seq(id string) int64 {
	o.nextSeq++
	o.seqOf[id] = o.nextSeq
	return o.nextSeq
}

func (o *orgState) server(id string) *authServer {
	for _, s := range o.servers {
		if s.id == id {
			return s
		}
	}
	return nil
}

// buildState turns a seed into a fresh org; it reports seed mistakes.
func buildState(seed Seed, now time.Time) (*orgState, error) {
	o := &orgState{seqOf: map[string]int64{}}
	for _, ss := range seed.AuthorizationServers {
		if ss.ID == "" || ss.Name == "" {
			return nil, fmt.Errorf("authorization server needs id and name")
		}
		if o.server(ss.ID) != nil {
			return nil, fmt.Errorf("authorization server %q seeded twice", ss.ID)
		}
		s := &authServer{id: ss.ID, name: ss.Name, description: ss.Description,
			audiences: slices.Clone(ss.Audiences), created: now}
		o.seq(s.id)
		if len(s.audiences) == 0 {
			s.audiences = []string{"api://" + ss.ID}
		}
		for _, name := range systemScopes {
			id := seededID(prefixScope, ss.ID, "scope", name)
			s.scopes = append(s.scopes, &scope{seq: o.seq(id), id: id, name: name, consent: consentImplicit,
				publish: publishAll, system: true, description: "System scope " + name})
		}
		id := seededID(prefixClaim, ss.ID, "claim", "sub")
		s.claims = append(s.claims, &claim{seq: o.seq(id), id: id, name: "sub", status: statusActive,
			claimType: claimResource, valueType: valueExpression, alwaysInclude: true, system: true,
			value: "(appuser != null) ? appuser.userName : app.clientId"})
		for _, sc := range ss.Scopes {
			in := scopeInput{Name: &sc.Name, DisplayName: &sc.DisplayName, Description: &sc.Description,
				Consent: optional(sc.Consent), MetadataPublish: optional(sc.MetadataPublish), Default: &sc.Default}
			sp, problem := newScope(s, in)
			if problem != nil {
				return nil, fmt.Errorf("server %s scope %q: %s", ss.ID, sc.Name, problem)
			}
			sp.id = seededID(prefixScope, ss.ID, "scope", sc.Name)
			sp.seq = o.seq(sp.id)
			s.scopes = append(s.scopes, sp)
		}
		for _, sc := range ss.Claims {
			in := claimInput{Name: sc.Name, Status: orDefault(sc.Status, statusActive), ClaimType: sc.ClaimType,
				ValueType: sc.ValueType, Value: sc.Value, GroupFilterType: sc.GroupFilterType,
				AlwaysIncludeInToken: &sc.AlwaysInclude}
			in.Conditions.Scopes = sc.Scopes
			cl, problem := newClaim(s, in)
			if problem != nil {
				return nil, fmt.Errorf("server %s claim %q: %s", ss.ID, sc.Name, problem)
			}
			cl.id = seededID(prefixClaim, ss.ID, "claim", sc.Name, sc.ClaimType)
			cl.seq = o.seq(cl.id)
			s.claims = append(s.claims, cl)
		}
		for _, sp := range ss.Policies {
			p, err := seedPolicy(o, s, sp, now)
			if err != nil {
				return nil, fmt.Errorf("server %s: %w", ss.ID, err)
			}
			s.policies = append(s.policies, p)
			rerank(s.policies, p.id, p.priority)
		}
		o.servers = append(o.servers, s)
	}
	return o, nil
}

func seedPolicy(o *orgState, s *authServer, sp SeedPolicy, now time.Time) (*policy, error) {
	in := policyInput{Name: sp.Name, Description: sp.Description, Status: sp.Status, Priority: intPtr(sp.Priority)}
	in.Conditions.Clients.Include = sp.Clients
	p, problem := newPolicy(s, in, now)
	if problem != nil {
		return nil, fmt.Errorf("policy %q: %s", sp.Name, problem)
	}
	p.id = seededID(prefixPolicy, s.id, "policy", sp.Name)
	p.seq = o.seq(p.id)
	p.system = sp.System
	for _, sr := range sp.Rules {
		rin := ruleInput{Name: sr.Name, Status: sr.Status, Priority: intPtr(sr.Priority), Type: ruleType}
		rin.Conditions.GrantTypes.Include = sr.GrantTypes
		rin.Conditions.Scopes.Include = sr.Scopes
		if len(sr.Groups) > 0 {
			rin.Conditions.People = &peopleInput{Groups: &includeExclude{Include: sr.Groups}}
		}
		if sr.AccessTokenLifetimeMinutes > 0 {
			rin.Actions.Token.AccessTokenLifetimeMinutes = intPtr(sr.AccessTokenLifetimeMinutes)
		}
		r, problem := newRule(s, p, rin, now)
		if problem != nil {
			return nil, fmt.Errorf("policy %q rule %q: %s", sp.Name, sr.Name, problem)
		}
		r.id = seededID(prefixRule, s.id, "rule", sp.Name, sr.Name)
		r.seq = o.seq(r.id)
		r.system = sr.System
		p.rules = append(p.rules, r)
		rerank(p.rules, r.id, r.priority)
	}
	return p, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func intPtr(v int) *int {
	if v == 0 {
		return nil
	}
	return &v
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
