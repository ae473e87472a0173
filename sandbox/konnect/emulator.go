// Package konnect emulates the Kong Konnect endpoints used to set up Dev Portal
// Dynamic Client Registration: DCR providers and application auth strategies (v2),
// portals with their developers, teams and applications, APIs and API publications
// (v3). It answers as the official specs say: bearer-token auth, problem+json
// errors with invalid_parameters, page-number pagination and deep-object filters.
// Verifying an Okta DCR provider really registers (and deletes) a client at the
// provider's Okta org, as Konnect does; so does creating (deleting) an application
// whose auth strategy has a DCR provider.
//
// Sandbox choices where the specs are silent are marked "sandbox:" in comments.
package konnect

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dcrflow/dcrflow/sandbox/ratelimit"
)

// Rate-limit headers. Real Konnect documents only Retry-After on a 429, and that is
// all the sandbox sends by default. With Seed.RateLimitHeaders it also sends these
// (IETF RateLimit draft names, Reset in seconds) on every answer, for clients that
// can adapt to them; dcrflow must not depend on them.
const (
	headerLimit     = "RateLimit-Limit"
	headerRemaining = "RateLimit-Remaining"
	headerReset     = "RateLimit-Reset"
)

// Options configure an Emulator. The zero value works.
type Options struct {
	// Limiter is the request budget every call takes from. Optional: unlimited.
	Limiter *ratelimit.Window
	// HTTPClient makes verify's outbound DCR calls. Optional: 10 s timeout.
	HTTPClient *http.Client
	// Now stamps created_at/updated_at. Optional: time.Now.
	Now func() time.Time
}

// Emulator serves the Konnect API from memory. It is safe for concurrent use.
type Emulator struct {
	opts    Options
	seed    Seed
	handler http.Handler

	mu     sync.Mutex
	st     *store
	tokens map[string]bool
}

// New builds an emulator in the seed's state; a seed that the API itself would
// reject (bad ids, labels, references) is an error.
func New(seed Seed, opts Options) (*Emulator, error) {
	st, tokens, err := build(seed)
	if err != nil {
		return nil, err
	}
	if opts.Limiter == nil {
		opts.Limiter = ratelimit.New(ratelimit.Settings{})
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// Keep a private copy: Reset must not see later changes to the caller's seed.
	own, err := cloneSeed(seed)
	if err != nil {
		return nil, err
	}
	e := &Emulator{opts: opts, seed: own, st: st, tokens: tokens}
	e.handler = e.routes()
	return e, nil
}

// Reset returns to the seed's state.
func (e *Emulator) Reset() {
	st, tokens, err := build(e.seed) // the seed was valid in New
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.st, e.tokens = st, tokens
}

// State returns a State: every resource as the API shows it, never a token.
func (e *Emulator) State() any {
	e.mu.Lock()
	defer e.mu.Unlock()
	return State{
		DCRProviders:   e.st.providerViews(),
		AuthStrategies: e.st.strategyViews(),
		Publications:   e.st.publicationViews(),
		Portals:        e.st.portalViews(),
		APIs:           e.st.apiViews(),
		Developers:     e.st.developerViews(""),
		Teams:          e.st.teamViews(""),
		Applications:   e.st.appViews(""),

		DCRTokenFingerprints: e.st.tokenFingerprints(),
	}
}

func (e *Emulator) now() time.Time { return stamp(e.opts.Now()) }

// ServeHTTP takes one request from the budget, authenticates it and routes it.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now() // the limiter's clock, not opts.Now
	d := e.opts.Limiter.Take()
	if e.seed.RateLimitHeaders {
		w.Header().Set(headerLimit, strconv.Itoa(d.Limit))
		w.Header().Set(headerRemaining, strconv.Itoa(d.Remaining))
		w.Header().Set(headerReset, strconv.Itoa(ceilSeconds(d.Reset.Sub(now))))
	}
	if !d.Allowed {
		w.Header().Set("Retry-After", strconv.Itoa(ceilSeconds(d.RetryAfter(now))))
		writeProblem(w, http.StatusTooManyRequests, "", nil)
		return
	}
	if !e.authorized(r) {
		writeProblem(w, http.StatusUnauthorized, "", nil)
		return
	}
	e.handler.ServeHTTP(w, r)
}

func (e *Emulator) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tokens[strings.TrimSpace(token)]
}

func (e *Emulator) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v2/dcr-providers", methods{"GET": e.listProviders, "POST": e.createProvider})
	mux.Handle("/v2/dcr-providers/{id}", methods{"GET": e.getProvider, "PATCH": e.updateProvider, "DELETE": e.deleteProvider})
	mux.Handle("/v2/dcr-providers/{id}/verify", methods{"POST": e.verifyProvider})
	mux.Handle("/v2/application-auth-strategies", methods{"GET": e.listStrategies, "POST": e.createStrategy})
	mux.Handle("/v2/application-auth-strategies/{id}", methods{"GET": e.getStrategy, "DELETE": e.deleteStrategy})
	mux.Handle("/v3/portals", methods{"GET": e.listPortals})
	mux.Handle("/v3/portals/{id}", methods{"GET": e.getPortal})
	mux.Handle("/v3/portals/{portalId}/developers", methods{"GET": e.listDevelopers})
	mux.Handle("/v3/portals/{portalId}/teams", methods{"GET": e.listTeams})
	mux.Handle("/v3/portals/{portalId}/developers/{developerId}", methods{"GET": e.getDeveloper})
	mux.Handle("/v3/portals/{portalId}/teams/{teamId}", methods{"GET": e.getTeam})
	mux.Handle("/v3/portals/{portalId}/applications", methods{"GET": e.listApplications, "POST": e.createApplication})
	mux.Handle("/v3/portals/{portalId}/applications/{applicationId}", methods{"GET": e.getApplication, "DELETE": e.deleteApplication})
	mux.Handle("/v3/portals/{portalId}/applications/{applicationId}/credentials", methods{"GET": e.listCredentials})
	mux.Handle("/v3/apis", methods{"GET": e.listAPIs})
	mux.Handle("/v3/apis/{id}", methods{"GET": e.getAPI})
	mux.Handle("/v3/apis/{apiId}/publications/{portalId}", methods{"GET": e.getPublication, "PUT": e.putPublication, "DELETE": e.deletePublication})
	mux.Handle("/v3/api-publications", methods{"GET": e.listPublications})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeNotFound(w, "") })
	return mux
}

// methods dispatches on the request method; others get a 405 problem with Allow.
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
	writeProblem(w, http.StatusMethodNotAllowed, "", nil)
}

// pathID is a path parameter, lower-cased as Konnect's ids are; ok is false when
// it is not a UUID. sandbox: such ids are answered with 404, like unknown ones.
func pathID(r *http.Request, name string) (string, bool) {
	id := strings.ToLower(r.PathValue(name))
	return id, isUUID(id)
}

// lookup finds the record named by the path parameter param (lock held), or
// writes Konnect's 404, "<what> [<id as sent>] not found", and returns nil.
func lookup[R any](w http.ResponseWriter, r *http.Request, param string, recs map[string]*R, what string) *R {
	id, ok := pathID(r, param)
	if rec := recs[id]; ok && rec != nil {
		return rec
	}
	writeNotFound(w, what+" ["+r.PathValue(param)+"] not found")
	return nil
}

// snapshot takes a list's views with the lock held; the list is then filtered,
// sorted and written without it.
func snapshot[T any](e *Emulator, of func(*store) []T) []T {
	e.mu.Lock()
	defer e.mu.Unlock()
	return of(e.st)
}
