package konnect

import (
	"cmp"
	"slices"
	"time"

	"github.com/dcrflow/dcrflow/sandbox/okta"
)

// The store holds every resource; the Emulator guards it with its mutex. Records
// keep the answer's shape plus what the answer must not show (the DCR token) or
// derives (references). Maps in records are replaced, never changed in place, so
// views handed out earlier stay valid.

type providerRec struct {
	DCRProvider
	token string
	seq   int64
}

type strategyRec struct {
	AuthStrategy
	providerID string
	seq        int64
}

type portalRec struct {
	Portal
	seq int64
}

type apiRec struct {
	API
	seq int64
}

type pubKey struct{ apiID, portalID string }

type pubRec struct {
	Publication
	seq int64
}

type developerRec struct {
	Developer
	portalID string
	seq      int64
}

type teamRec struct {
	Team
	portalID string
	seq      int64
}

type appRec struct {
	Application
	strategyID string
	seq        int64
}

type store struct {
	seq        int64
	providers  map[string]*providerRec
	strategies map[string]*strategyRec
	portals    map[string]*portalRec
	apis       map[string]*apiRec
	pubs       map[pubKey]*pubRec
	developers map[string]*developerRec
	teams      map[string]*teamRec
	apps       map[string]*appRec
}

func newStore() *store {
	return &store{
		providers:  map[string]*providerRec{},
		strategies: map[string]*strategyRec{},
		portals:    map[string]*portalRec{},
		apis:       map[string]*apiRec{},
		pubs:       map[pubKey]*pubRec{},
		developers: map[string]*developerRec{},
		teams:      map[string]*teamRec{},
		apps:       map[string]*appRec{},
	}
}

func (s *store) next() int64 { s.seq++; return s.seq }

// ordered returns a map's records in creation order.
func ordered[K comparable, R any](m map[K]*R, seq func(*R) int64) []*R {
	out := make([]*R, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *R) int { return cmp.Compare(seq(a), seq(b)) })
	return out
}

func (s *store) addProvider(id string, in providerInput, now time.Time) *providerRec {
	rec := &providerRec{
		DCRProvider: DCRProvider{
			ID: id, Name: in.name, DisplayName: in.displayName, ProviderType: in.providerType,
			Issuer: in.issuer, Labels: in.labels, CreatedAt: now, UpdatedAt: now,
		},
		token: in.token,
		seq:   s.next(),
	}
	s.providers[id] = rec
	return rec
}

func (s *store) addStrategy(id string, in strategyInput, now time.Time) *strategyRec {
	rec := &strategyRec{
		AuthStrategy: AuthStrategy{
			ID: id, Name: in.name, DisplayName: in.displayName, StrategyType: in.strategyType,
			Configs: in.configs, Labels: in.labels, CreatedAt: now, UpdatedAt: now,
			SupportsMultipleCredentials: in.strategyType == strategyKeyAuth,
			Principals:                  in.principals,
		},
		providerID: in.providerID,
		seq:        s.next(),
	}
	s.strategies[id] = rec
	return rec
}

func (s *store) addPortal(p Portal) { s.portals[p.ID] = &portalRec{Portal: p, seq: s.next()} }

func (s *store) addAPI(a API) { s.apis[a.ID] = &apiRec{API: a, seq: s.next()} }

// putPublication creates or fully replaces a publication; created_at survives a
// replace. Omitted auth_strategy_ids take the portal's default strategy.
func (s *store) putPublication(apiID, portalID string, in pubInput, now time.Time) *pubRec {
	ids := in.strategyIDs
	if !in.strategyIDsSet {
		ids = nil
		if def := s.portals[portalID].DefaultApplicationAuthStrategyID; def != nil {
			ids = []string{*def}
		}
	}
	key := pubKey{apiID, portalID}
	created, seq := now, int64(0)
	if old := s.pubs[key]; old != nil {
		created, seq = old.CreatedAt, old.seq
	} else {
		seq = s.next()
	}
	rec := &pubRec{
		Publication: Publication{
			APIID: apiID, PortalID: portalID, AutoApproveRegistrations: in.autoApprove, EntityType: "api",
			Visibility: in.visibility, AuthStrategyIDs: ids, Warnings: []string{}, CreatedAt: created, UpdatedAt: now,
		},
		seq: seq,
	}
	s.pubs[key] = rec
	return rec
}

// nameTaken reports whether a record other than the one with id except (the map
// key) is already called name.
func nameTaken[R any](recs map[string]*R, nameOf func(*R) string, name, except string) bool {
	for id, rec := range recs {
		if nameOf(rec) == name && id != except {
			return true
		}
	}
	return false
}

// checkStrategies reports publication strategy ids that do not exist.
func (s *store) checkStrategies(ids []string) []InvalidParameter {
	var params []InvalidParameter
	for i, id := range ids {
		if s.strategies[id] == nil {
			params = append(params, InvalidParameter{
				Field: "auth_strategy_ids[" + itoa(i) + "]", Rule: "missing_reference", Source: "body",
				Reason: "references an application auth strategy [" + id + "] that does not exist",
			})
		}
	}
	return params
}

// providerUsers counts the strategies that reference each provider.
func (s *store) providerUsers() map[string]int {
	n := map[string]int{}
	for _, st := range s.strategies {
		if st.providerID != "" {
			n[st.providerID]++
		}
	}
	return n
}

// strategyUsers counts the publications that use each strategy.
func (s *store) strategyUsers() map[string]int {
	n := map[string]int{}
	for _, p := range s.pubs {
		for _, id := range p.AuthStrategyIDs {
			n[id]++
		}
	}
	return n
}

func (s *store) providerView(p *providerRec, users map[string]int) DCRProvider {
	v := p.DCRProvider
	v.Active = users[p.ID] > 0
	return v
}

func (s *store) strategyView(st *strategyRec, users map[string]int) AuthStrategy {
	v := st.AuthStrategy
	v.Active = users[st.ID] > 0
	if p := s.providers[st.providerID]; p != nil {
		v.DCRProvider = &DCRProviderRef{ID: p.ID, Name: p.Name, DisplayName: p.DisplayName, ProviderType: p.ProviderType}
	}
	return v
}

// apiPortals lists, per API, the portals it is published to (in publishing order).
func (s *store) apiPortals() map[string][]PortalRef {
	out := map[string][]PortalRef{}
	for _, p := range ordered(s.pubs, func(r *pubRec) int64 { return r.seq }) {
		if portal := s.portals[p.PortalID]; portal != nil {
			out[p.APIID] = append(out[p.APIID], PortalRef{ID: portal.ID, Name: portal.Name, DisplayName: portal.DisplayName})
		}
	}
	return out
}

func (s *store) apiView(a *apiRec, portals map[string][]PortalRef) API {
	v := a.API
	v.Portals = portals[a.ID]
	if v.Portals == nil {
		v.Portals = []PortalRef{}
	}
	return v
}

// Lists of views in creation order.

// viewsOf maps a map's records, in creation order, to their views; never nil, so
// that an empty list is written as [].
func viewsOf[K comparable, R, V any](m map[K]*R, seq func(*R) int64, view func(*R) V) []V {
	out := []V{}
	for _, r := range ordered(m, seq) {
		out = append(out, view(r))
	}
	return out
}

func (s *store) providerViews() []DCRProvider {
	users := s.providerUsers()
	return viewsOf(s.providers, func(r *providerRec) int64 { return r.seq },
		func(p *providerRec) DCRProvider { return s.providerView(p, users) })
}

func (s *store) strategyViews() []AuthStrategy {
	users := s.strategyUsers()
	return viewsOf(s.strategies, func(r *strategyRec) int64 { return r.seq },
		func(st *strategyRec) AuthStrategy { return s.strategyView(st, users) })
}

func (s *store) portalViews() []Portal {
	return viewsOf(s.portals, func(r *portalRec) int64 { return r.seq },
		func(p *portalRec) Portal { return p.Portal })
}

func (s *store) apiViews() []API {
	portals := s.apiPortals()
	return viewsOf(s.apis, func(r *apiRec) int64 { return r.seq },
		func(a *apiRec) API { return s.apiView(a, portals) })
}

func (s *store) developerViews(portalID string) []Developer {
	out := []Developer{}
	for _, d := range ordered(s.developers, func(r *developerRec) int64 { return r.seq }) {
		if portalID == "" || d.portalID == portalID {
			out = append(out, d.Developer)
		}
	}
	return out
}

func (s *store) teamViews(portalID string) []Team {
	out := []Team{}
	for _, t := range ordered(s.teams, func(r *teamRec) int64 { return r.seq }) {
		if portalID == "" || t.portalID == portalID {
			out = append(out, t.Team)
		}
	}
	return out
}

func (s *store) appViews(portalID string) []Application {
	out := []Application{}
	for _, a := range ordered(s.apps, func(r *appRec) int64 { return r.seq }) {
		if portalID == "" || a.PortalID == portalID {
			out = append(out, a.Application)
		}
	}
	return out
}

// appUsers counts the applications that use each strategy.
func (s *store) appUsers() map[string]int {
	n := map[string]int{}
	for _, a := range s.apps {
		n[a.strategyID]++
	}
	return n
}

func (s *store) publicationViews() []Publication {
	return viewsOf(s.pubs, func(r *pubRec) int64 { return r.seq },
		func(p *pubRec) Publication { return p.Publication })
}

// tokenFingerprints names each provider's DCR token by its fingerprint.
func (s *store) tokenFingerprints() map[string]string {
	out := make(map[string]string, len(s.providers))
	for id, p := range s.providers {
		out[id] = okta.Fingerprint(p.token)
	}
	return out
}
