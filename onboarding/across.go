package onboarding

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/textsafe"
)

// across checks what portals share: their keys, and Konnect resources that more than
// one portal names, which must then be asked for with the same settings, or two
// runs would fight over one resource. Names are compared as Konnect may compare them
// (textsafe.Fold): one written two ways is refused.
func (p *parser) across(where []lines, specs []dcrflow.PortalSpec) {
	keys := make(map[string]int32, len(specs))
	portals := map[string]use{}
	providers := make(map[string]use, len(specs))
	strategies := make(map[string]use, len(specs))
	pubs := map[[2]string]use{}
	for i, s := range specs {
		r := where[i]
		if s.Key == "" {
			continue
		}
		if was, dup := keys[s.Key]; dup {
			p.add(firstNonZero(r.name, r.portal, r.at), s.Key, "name", "duplicate portal (first at line %d); give each portal its own name", was)
			continue
		}
		keys[s.Key] = int32(r.at)

		if u, ok := claim(portals, s.Portal, at(i, firstNonZero(r.portal, r.at))); ok {
			p.spelledTwice(firstNonZero(r.portal, r.at), s.Key, "portal", s.Portal, "the Konnect portal", u, specs[u.idx].Portal, specs)
		}

		if u, ok := claim(providers, s.DCRProvider, at(i, r.at)); !ok {
		} else if had := specs[u.idx].DCRProvider; had != s.DCRProvider {
			p.spelledTwice(r.provider, s.Key, "dcr_provider.name", s.DCRProvider, "the DCR provider", u, had, specs)
		} else if diff := providerDiffs(s, specs[u.idx]); len(diff) > 0 {
			p.add(r.provider, s.Key, "dcr_provider.name", "%s is also the DCR provider of portal %q (line %d), with a different %s; a Konnect DCR provider has one issuer, one DCR token and one set of labels, so give this portal its own dcr_provider name or make those settings the same",
				quote(s.DCRProvider), specs[u.idx].Key, u.line, strings.Join(diff, ", "))
		}

		if u, ok := claim(strategies, s.Strategy.Name, at(i, r.at)); !ok {
		} else if had := specs[u.idx].Strategy.Name; had != s.Strategy.Name {
			p.spelledTwice(r.strategy, s.Key, "auth_strategy.name", s.Strategy.Name, "the auth strategy", u, had, specs)
		} else if diff := strategyDiffs(s, specs[u.idx]); len(diff) > 0 {
			p.add(r.strategy, s.Key, "auth_strategy.name", "%s is also the auth strategy of portal %q (line %d), with a different %s; a Konnect auth strategy has one issuer, one set of scopes, one claim, one DCR provider and one set of labels, so give this portal its own auth_strategy name or make those settings the same",
				quote(s.Strategy.Name), specs[u.idx].Key, u.line, strings.Join(diff, ", "))
		}

		portal := textsafe.Fold(s.Portal) // once a portal: each key of pubs shares it
		for j, a := range s.APIs {
			if a.API == "" {
				continue
			}
			k := [2]string{portal, textsafe.Fold(a.API)}
			u, ok := pubs[k]
			if !ok {
				u = at(i, r.apis[j])
				u.api = int32(j)
				pubs[k] = u
				continue
			}
			had := specs[u.idx].APIs[u.api].API
			switch {
			case int(u.idx) == i: // listed twice in one portal: reported already
			case had != a.API:
				p.spelledTwice(r.apis[j], s.Key, "apis", a.API, "the API", u, had, specs)
			default:
				if diff := publicationDiffs(s, a, specs[u.idx], had); len(diff) > 0 {
					p.add(r.apis[j], s.Key, "apis", "%s is also published on Konnect portal %s by portal %q (line %d), with a different %s; an API has one publication per Konnect portal, so publish it from one of the two or make those settings the same",
						quote(a.API), quote(s.Portal), specs[u.idx].Key, u.line, strings.Join(diff, ", "))
				}
			}
		}
	}
}

// use is where a portal first named a shared resource (how it spelt it is in its
// spec): the portal's index and the line, and for a publication the API's index.
// Small, for there are as many as portals.
type use struct {
	idx, line, api int32
}

func at(idx, line int) use { return use{idx: int32(idx), line: int32(line)} }

// claim records u under name's folded form unless a portal came first; then it
// returns that portal's use.
func claim(m map[string]use, name string, u use) (use, bool) {
	k := textsafe.Fold(name)
	if had, ok := m[k]; ok {
		return had, true
	}
	m[k] = u
	return u, false
}

// spelledTwice refuses a name that another portal wrote with other letters (case,
// Unicode form) when Konnect may take both for one; the same spelling is fine.
func (p *parser) spelledTwice(line int, who, field, name, what string, had use, hadName string, specs []dcrflow.PortalSpec) {
	if hadName == name {
		return
	}
	here, there := quote(name), quote(hadName)
	if textsafe.LookAlike(name, hadName) {
		here, there = strconv.QuoteToASCII(clip(name)), strconv.QuoteToASCII(clip(hadName))
	}
	p.add(line, who, field, "%s is %s %s of portal %q (line %d) written differently; Konnect may take them for one: write the name the same way in both",
		here, what, there, specs[had.idx].Key, had.line)
}

// lines is where a portal and its names are in the file, all the checks across
// portals keep of it.
type lines struct {
	at, name, portal, provider, strategy int
	apis                                 []int
}

func linesOf(r rawPortal) lines {
	l := lines{at: r.line, name: r.name.line, portal: r.portal.line, provider: r.line, strategy: r.line}
	if r.provider != nil {
		l.provider = firstNonZero(r.provider.name.line, r.provider.line)
	}
	if r.strategy != nil {
		l.strategy = firstNonZero(r.strategy.name.line, r.strategy.line)
	}
	l.apis = make([]int, len(r.apis))
	for i, a := range r.apis {
		l.apis[i] = a.line
	}
	return l
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
