// Package okta emulates the Okta endpoints that a DCR setup touches: custom
// authorization servers with their scopes, claims and access policies
// (/api/v1/authorizationServers...), Dynamic Client Registration
// (/oauth2/v1/clients), and each server's token, keys and metadata endpoints, with
// Okta's status codes, error bodies, Link pagination, rate-limit headers and real
// RS256-signed access tokens. State lives in memory; the emulator is safe for
// concurrent use.
package okta

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dcrflow/dcrflow/sandbox/ratelimit"
)

// Options configure an Emulator.
type Options struct {
	// BaseURL is the org URL clients use, e.g. http://127.0.0.1:41234; issuers are
	// BaseURL + "/oauth2/" + server id.
	BaseURL string
	// Management is the bucket for /api/v1, DCR the one for /oauth2/v1/clients,
	// Token the one for the custom authorization servers' token endpoints
	// (/oauth2/{as}/v1/token). Nil means unlimited.
	Management, DCR, Token *ratelimit.Window
	// Now is the clock. Optional; defaults to time.Now.
	Now func() time.Time
}

// Emulator is an Okta org in memory. It serves HTTP.
type Emulator struct {
	opts       Options
	seed       Seed
	mgmtTokens map[string]bool
	dcrTokens  *tokenBook
	keys       map[string]*signingKey // by server id; made once, kept across Reset
	oauth      *orgOAuth              // service apps of OAuth 2.0 for Okta
	handler    http.Handler

	mu  sync.Mutex
	org *orgState
}

// New builds an emulator seeded with seed.
func New(seed Seed, opts Options) (*Emulator, error) {
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("okta emulator: base URL %q: want http(s)://host[:port]", opts.BaseURL)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Management == nil {
		opts.Management = ratelimit.New(ratelimit.Settings{})
	}
	if opts.DCR == nil {
		opts.DCR = ratelimit.New(ratelimit.Settings{})
	}
	if opts.Token == nil {
		opts.Token = ratelimit.New(ratelimit.Settings{})
	}
	org, err := buildState(seed, opts.Now())
	if err != nil {
		return nil, fmt.Errorf("okta emulator: seed: %w", err)
	}
	e := &Emulator{opts: opts, seed: seed, org: org,
		mgmtTokens: tokenSet(seed.ManagementTokens), dcrTokens: newTokenBook(seed.DCRTokens, opts.Now)}
	if e.oauth, err = newOrgOAuth(seed.ServiceApps); err != nil {
		return nil, fmt.Errorf("okta emulator: seed: %w", err)
	}
	ids := make([]string, 0, len(org.servers))
	for _, s := range org.servers {
		ids = append(ids, s.id)
	}
	if e.keys, err = newSigningKeys(ids); err != nil {
		return nil, fmt.Errorf("okta emulator: %w", err)
	}
	e.handler = e.routes()
	return e, nil
}

func tokenSet(tokens []string) map[string]bool {
	m := make(map[string]bool, len(tokens))
	for _, t := range tokens {
		if t != "" {
			m[t] = true
		}
	}
	return m
}

// Reset returns the org to its seed; signing keys stay.
func (e *Emulator) Reset() {
	org, err := buildState(e.seed, e.opts.Now())
	if err != nil {
		return // the seed was accepted by New, so this cannot happen
	}
	e.oauth.reset()
	e.dcrTokens.reset()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.org = org
}

// ServeHTTP answers one call.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	stampHeaders(w, e.opts.Now())
	e.handler.ServeHTTP(w, r)
}

func (e *Emulator) routes() http.Handler {
	api := http.NewServeMux()
	as := "/api/v1/authorizationServers"
	api.Handle(as, methods{http.MethodGet: e.listServers})
	api.Handle(as+"/{as}", methods{http.MethodGet: e.getServer})
	api.Handle(as+"/{as}/scopes", methods{http.MethodGet: e.listScopes, http.MethodPost: e.createScope})
	api.Handle(as+"/{as}/scopes/{id}", methods{http.MethodGet: e.getScope, http.MethodPut: e.replaceScope, http.MethodDelete: e.deleteScope})
	api.Handle(as+"/{as}/claims", methods{http.MethodGet: e.listClaims, http.MethodPost: e.createClaim})
	api.Handle(as+"/{as}/claims/{id}", methods{http.MethodGet: e.getClaim, http.MethodDelete: e.deleteClaim})
	api.Handle(as+"/{as}/policies", methods{http.MethodGet: e.listPolicies, http.MethodPost: e.createPolicy})
	api.Handle(as+"/{as}/policies/{pid}", methods{http.MethodGet: e.getPolicy, http.MethodPut: e.replacePolicy, http.MethodDelete: e.deletePolicy})
	api.Handle(as+"/{as}/policies/{pid}/lifecycle/activate", methods{http.MethodPost: e.policyLifecycle(statusActive)})
	api.Handle(as+"/{as}/policies/{pid}/lifecycle/deactivate", methods{http.MethodPost: e.policyLifecycle(statusInactive)})
	api.Handle(as+"/{as}/policies/{pid}/rules", methods{http.MethodGet: e.listRules, http.MethodPost: e.createRule})
	api.Handle(as+"/{as}/policies/{pid}/rules/{id}", methods{http.MethodGet: e.getRule, http.MethodPut: e.replaceRule, http.MethodDelete: e.deleteRule})
	api.Handle(as+"/{as}/policies/{pid}/rules/{id}/lifecycle/activate", methods{http.MethodPost: e.ruleLifecycle(statusActive)})
	api.Handle(as+"/{as}/policies/{pid}/rules/{id}/lifecycle/deactivate", methods{http.MethodPost: e.ruleLifecycle(statusInactive)})
	api.Handle("/api/v1/users/{id}", methods{http.MethodGet: e.getUser})
	api.Handle("/api/v1/users/{userId}/roles", methods{http.MethodGet: e.listUserRoles})
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { notFound(r.URL.Path, "Resource").write(w) })

	dcr := http.NewServeMux()
	dcr.Handle("/oauth2/v1/clients", methods{http.MethodGet: e.listClients, http.MethodPost: e.registerClient})
	dcr.Handle("/oauth2/v1/clients/{id}", methods{http.MethodGet: e.getClient, http.MethodDelete: e.deleteClient})
	dcr.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { notFound(r.URL.Path, "Resource").write(w) })

	mux := http.NewServeMux()
	mux.Handle("/api/v1/", e.managementGuard(api))
	mux.Handle("/oauth2/v1/clients", e.dcrGuarded(dcr))
	mux.Handle("/oauth2/v1/clients/", e.dcrGuarded(dcr))
	// The org authorization server's token endpoint, for service apps (OAuth 2.0
	// for Okta). Okta limits it in its own bucket, not modelled here.
	mux.Handle("/oauth2/v1/token", methods{http.MethodPost: e.orgToken})
	// Token, keys and metadata are per server; the token endpoints share a bucket,
	// keys and metadata are not rate limited (as Okta documents).
	mux.Handle("/oauth2/{as}/v1/token", limited(e.opts.Token, methods{http.MethodPost: e.token}))
	mux.Handle("/oauth2/{as}/v1/keys", methods{http.MethodGet: e.keysHandler})
	mux.Handle("/oauth2/{as}/.well-known/oauth-authorization-server", methods{http.MethodGet: e.oauthMetadata})
	mux.Handle("/oauth2/{as}/.well-known/openid-configuration", methods{http.MethodGet: e.oidcMetadata})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { notFound(r.URL.Path, "Resource").write(w) })
	return mux
}

// methods dispatches on the HTTP method and answers Okta's 405 otherwise.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h(w, r)
		return
	}
	allow := make([]string, 0, len(m))
	for k := range m {
		allow = append(allow, k)
	}
	slices.Sort(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	methodNotAllowed().write(w)
}

// issuer is the server's issuer URL (issuerMode ORG_URL).
func (e *Emulator) issuer(serverID string) string {
	return e.opts.BaseURL + "/oauth2/" + serverID
}

// inServer is respond for calls under /oauth2/{as} and
// /api/v1/authorizationServers/{as}: f runs with the path's server. An unknown
// server is Okta's 404 before anything else about the call is looked at.
func (e *Emulator) inServer(w http.ResponseWriter, r *http.Request, f func(s *authServer) (status int, body any, p *apiProblem)) {
	e.respond(w, func() (int, any, *apiProblem) {
		id := r.PathValue("as")
		s := e.org.server(id)
		if s == nil {
			return 0, nil, notFound(id, "AuthorizationServer")
		}
		return f(s)
	})
}

// identified is what find looks up: scopes, claims, policies and rules.
type identified interface{ ident() string }

// find returns the index of the item whose id is id, or Okta's 404 naming kind,
// the resource's Okta type (OAuth2Scope, PolicyRule, ...).
func find[T identified](items []T, id, kind string) (int, *apiProblem) {
	i := slices.IndexFunc(items, func(it T) bool { return it.ident() == id })
	if i < 0 {
		return -1, notFound(id, kind)
	}
	return i, nil
}

// ownable is a scope or claim: Okta owns the system ones.
type ownable interface {
	identified
	isSystem() bool
}

// removeCustom answers the delete of the item with the given id from *items;
// deleting one that Okta owns is a 403.
func removeCustom[T ownable](items *[]T, id, kind string) (int, any, *apiProblem) {
	i, p := find(*items, id, kind)
	if p != nil {
		return 0, nil, p
	}
	if (*items)[i].isSystem() {
		return 0, nil, forbidden()
	}
	*items = slices.Delete(*items, i, i+1)
	return http.StatusNoContent, nil, nil
}

// viewsOf maps items to their JSON form, in order; never nil, so that an empty
// list is written as [].
func viewsOf[T, V any](items []T, view func(T) V) []V {
	out := make([]V, 0, len(items))
	for _, it := range items {
		out = append(out, view(it))
	}
	return out
}

// decodeBody reads a JSON body of at most 1 MiB into v and reports whether it was
// well-formed. Create handlers report a bad body only once the path's server (and
// policy) are found, as Okta does.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	return json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v) == nil
}

// respond runs f with e.mu held and writes its outcome after releasing it: a
// problem, a JSON body, or a bare status when body is nil.
func (e *Emulator) respond(w http.ResponseWriter, f func() (status int, body any, p *apiProblem)) {
	e.mu.Lock()
	status, body, p := f()
	e.mu.Unlock()
	switch {
	case p != nil:
		p.write(w)
	case body == nil:
		w.WriteHeader(status)
	default:
		writeJSON(w, status, body)
	}
}

// timestamp is Okta's date-time format.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
