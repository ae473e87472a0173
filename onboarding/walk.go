package onboarding

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dcrflow/dcrflow"
)

// file walks the whole document.
func (p *parser) file(root *yaml.Node) (rawFile, bool) {
	var f rawFile
	root = p.resolve(root)
	if root.Kind != yaml.MappingNode {
		fix := "start the file with `portals:` followed by the list of portals"
		if root.Kind == yaml.SequenceNode {
			fix = "put this list under `portals:`"
		}
		p.add(root.Line, "", "", "the file is %s, expected a mapping with `portals:` (and optionally `defaults:`); %s", describe(root), fix)
		return f, false
	}
	var portals *yaml.Node
	p.fields(root, "", "", "the file's", topFields, func(key string, v *yaml.Node) {
		switch key {
		case "defaults":
			f.defaults = p.defaults(v)
		case "portals":
			portals = v
		}
	})
	if portals == nil {
		p.add(root.Line, "", "portals", "missing; list the portals to onboard under `portals:` (see examples/portals.yaml)")
		return f, false
	}
	if p.items != nil {
		return p.splitPortals(f)
	}
	items, ok := p.seq(portals, "", "portals", "a list of portals; write each as `- name: ...` under `portals:`")
	if !ok {
		return f, false
	}
	if len(items) == 0 {
		p.add(p.resolve(portals).Line, "", "portals", "the file lists no portal; add at least one under `portals:`")
		return f, false
	}
	if p.tooManyPortals(len(items)) {
		return f, false
	}
	f.portals = make([]rawPortal, 0, len(items))
	for _, it := range items {
		if pt, ok := p.portal(it); ok {
			f.portals = append(f.portals, pt)
		}
	}
	return f, true
}

func (p *parser) defaults(n *yaml.Node) rawDefaults {
	var d rawDefaults
	m, ok := p.mapping(n, "", "defaults", "a mapping of default settings, e.g. `defaults: {auth_server: default}`")
	if !ok {
		return d
	}
	p.fields(m, "", "defaults", "`defaults:`'s", defaultsFields, func(key string, v *yaml.Node) {
		f := "defaults." + key
		switch key {
		case "auth_server":
			d.authServer = p.str(v, "", f, "the Okta authorization server's id or name")
		case "claim":
			d.claim = p.str(v, "", f, "a claim name such as client_id")
		case "dcr_token":
			d.dcrToken = p.str(v, "", f, "the NAME of a DCR token the worker holds, e.g. default")
		case "auth_methods":
			d.authMethods = p.strList(v, "", f, "a list of auth methods, e.g. [client_credentials, bearer]", "an auth method")
		case "visibility":
			d.visibility = p.str(v, "", f, "public or private")
		case "auto_approve":
			d.autoApprove = p.boolean(v, "", f)
		case "validate":
			d.validate, d.validateVia = p.validation(v, "", f)
		case "access_policy":
			d.accessPolicy = p.str(v, "", f, "check or ensure")
		case "on_failure":
			d.onFailure = p.str(v, "", f, "compensate or hold")
		case "labels":
			d.labels = p.labels(v, "", f)
		}
	})
	return d
}

// portalLabel finds what to call a portal in messages before reading it: its name,
// else its Konnect portal.
func (p *parser) portalLabel(m *yaml.Node) string {
	var name, portal string
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if v.Kind != yaml.ScalarNode || isNull(v) {
			continue
		}
		switch k.Value {
		case "name":
			name = v.Value
		case "portal":
			portal = v.Value
		}
	}
	return firstNonZero(name, portal)
}

func (p *parser) portal(n *yaml.Node) (rawPortal, bool) {
	m := p.resolve(n)
	if m.Kind != yaml.MappingNode {
		fix := "write each portal as a mapping: `- name: payments` with its fields below"
		if m.Kind == yaml.ScalarNode && !isNull(m) {
			fix = fmt.Sprintf("write `- name: %s` and its `scopes:` below", clip(m.Value))
		}
		p.add(m.Line, "", "portals", "an entry is %s, expected a portal (a mapping); %s", describe(m), fix)
		return rawPortal{}, false
	}
	pt := rawPortal{line: m.Line}
	who := p.portalLabel(m)
	p.fields(m, who, "", "a portal's", portalFields, func(key string, v *yaml.Node) {
		switch key {
		case "name":
			pt.name = p.str(v, who, key, "the portal's key: lowercase letters, digits and '-'")
		case "portal":
			pt.portal = p.str(v, who, key, "the Konnect portal's name or id")
		case "auth_server":
			pt.authServer = p.str(v, who, key, "the Okta authorization server's id or name")
		case "claim":
			pt.claim = p.str(v, who, key, "a claim name such as client_id")
		case "on_failure":
			pt.onFailure = p.str(v, who, key, "compensate or hold")
		case "validate":
			pt.validate, pt.validateVia = p.validation(v, who, key)
		case "access_policy":
			pt.accessPolicy = p.str(v, who, key, "check or ensure")
		case "validation_owner":
			if om, ok := p.mapping(v, who, key, "a mapping, e.g. `validation_owner: {type: developer, id: <uuid>}`"); ok {
				ow := rawOwner{line: om.Line}
				p.fields(om, who, key, "validation_owner's", ownerFields, func(k string, v *yaml.Node) {
					switch k {
					case "type":
						ow.typ = p.str(v, who, "validation_owner.type", "developer or team")
					case "id":
						ow.id = p.str(v, who, "validation_owner.id", "the id (a UUID) of a developer or team of the portal")
					}
				})
				pt.owner = &ow
			}
		case "labels":
			pt.labels = p.labels(v, who, key)
		case "scopes":
			pt.scopesLine = p.resolve(v).Line
			items, ok := p.seq(v, who, key, "a list of scopes; write `scopes: [payments:read]` or one `- name` per line")
			pt.scopesBad = !ok
			for _, it := range items {
				if sc, ok := p.scope(it, who); ok {
					pt.scopes = append(pt.scopes, sc)
				} else {
					pt.scopesBad = true
				}
			}
		case "apis":
			items, _ := p.seq(v, who, key, "a list of APIs; write `apis: [payments-api]` or `apis: [{api: payments-api, visibility: public}]`")
			for _, it := range items {
				if a, ok := p.api(it, who); ok {
					pt.apis = append(pt.apis, a)
				}
			}
		case "dcr_provider":
			if pm, ok := p.mapping(v, who, key, "a mapping, e.g. `dcr_provider: {name: dcrflow-payments, dcr_token: default}`"); ok {
				pv := rawProvider{line: pm.Line}
				p.fields(pm, who, key, "dcr_provider's", providerFields, func(k string, v *yaml.Node) {
					switch k {
					case "name":
						pv.name = p.str(v, who, "dcr_provider.name", "the Konnect DCR provider's name")
					case "dcr_token":
						pv.dcrToken = p.str(v, who, "dcr_provider.dcr_token", "the NAME of a DCR token the worker holds, e.g. default")
					}
				})
				pt.provider = &pv
			}
		case "auth_strategy":
			if sm, ok := p.mapping(v, who, key, "a mapping, e.g. `auth_strategy: {name: dcrflow-payments, auth_methods: [client_credentials]}`"); ok {
				st := rawStrategy{line: sm.Line}
				p.fields(sm, who, key, "auth_strategy's", strategyFields, func(k string, v *yaml.Node) {
					switch k {
					case "name":
						st.name = p.str(v, who, "auth_strategy.name", "the Konnect auth strategy's name")
					case "display_name":
						st.displayName = p.str(v, who, "auth_strategy.display_name", "the name developers see in the portal")
					case "auth_methods":
						st.authMethods = p.strList(v, who, "auth_strategy.auth_methods", "a list of auth methods, e.g. [client_credentials, bearer]", "an auth method")
					}
				})
				pt.strategy = &st
			}
		}
	})
	return pt, true
}

// scope reads a bare name or {name, description}.
func (p *parser) scope(n *yaml.Node, who string) (rawScope, bool) {
	m := p.resolve(n)
	var sc rawScope
	switch m.Kind {
	case yaml.ScalarNode:
		sc.name = p.str(m, who, "scopes", "a scope name such as payments:read")
		return sc, true
	case yaml.MappingNode:
		es := p.entries(m, who, "scopes", 0)
		if len(es) == 1 && m.Style&yaml.FlowStyle == 0 && looksLikeScope(es[0].key) && p.resolve(es[0].v).Kind == yaml.ScalarNode {
			// `- payments: read` is a mapping; the space after ':' is the usual slip.
			e := es[0]
			p.add(e.k.Line, who, "scopes", "%s is a mapping because of the space after ':'; write the scope as %s, or as {name: ..., description: ...}",
				quote(e.key+": "+p.resolve(e.v).Value), quote(e.key+":"+p.resolve(e.v).Value))
			return sc, false
		}
		for _, e := range es {
			switch e.key {
			case "name":
				sc.name = p.str(e.v, who, "scopes.name", "a scope name such as payments:read")
			case "description":
				sc.description = p.str(e.v, who, "scopes.description", "a description")
			default:
				p.unknown(e.k, who, "scopes", "a scope's", e.key, scopeFields)
			}
		}
		if !sc.name.set {
			p.add(m.Line, who, "scopes", "a scope has no `name`; write {name: payments:read, description: ...}")
			return sc, false
		}
		return sc, true
	}
	p.add(m.Line, who, "scopes", "an entry is %s, expected a scope name or {name, description}", describe(m))
	return sc, false
}

// looksLikeScope tells `- payments: read` (a scope with a stray space) from a
// misspelt field such as `- descr: x`.
func looksLikeScope(key string) bool {
	if closest(key, scopeFields) != "" {
		return false
	}
	for _, f := range scopeFields {
		if strings.HasPrefix(f, key) {
			return false
		}
	}
	return true
}

// api reads a bare name/id or {api, visibility, auto_approve}.
func (p *parser) api(n *yaml.Node, who string) (rawAPI, bool) {
	m := p.resolve(n)
	a := rawAPI{line: m.Line}
	switch m.Kind {
	case yaml.ScalarNode:
		a.api = p.str(m, who, "apis", "the Konnect API's name or id")
		return a, true
	case yaml.MappingNode:
		p.fields(m, who, "apis", "an API entry's", apiFields, func(k string, v *yaml.Node) {
			switch k {
			case "api":
				a.api = p.str(v, who, "apis.api", "the Konnect API's name or id")
			case "visibility":
				a.visibility = p.str(v, who, "apis.visibility", "public or private")
			case "auto_approve":
				a.autoApprove = p.boolean(v, who, "apis.auto_approve")
			}
		})
		if !a.api.set {
			p.add(m.Line, who, "apis", "an API entry has no `api` (the Konnect API's name or id); write {api: payments-api, ...}")
			return a, false
		}
		return a, true
	}
	p.add(m.Line, who, "apis", "an entry is %s, expected an API name or {api, visibility, auto_approve}", describe(m))
	return a, false
}

// splitPortals reads the portals of a file read in pieces, a batch of items at a
// time, and checks each once read (as check does), keeping of it only its spec and
// its lines.
func (p *parser) splitPortals(f rawFile) (rawFile, bool) {
	all := p.items.items
	if p.tooManyPortals(len(all)) {
		return f, true // refused as when read whole: nothing more is checked
	}
	d := f.defaults
	p.checking = true
	p.checkDefaults(d)
	p.checking = false
	// For the items that look like portals: an item may be 4 bytes, a spec is 300.
	p.specs = make([]dcrflow.PortalSpec, 0, p.items.maps)
	where := make([]lines, 0, p.items.maps)
	for len(all) > 0 {
		n, values := 0, 0
		for n < len(all) && (n == 0 || all[n-1].end-all[0].start < batchBytes) {
			v := valueBound(p.raw[all[n].start:all[n].end])
			if n > 0 && values+v > batchBudget {
				break
			}
			n, values = n+1, values+v
		}
		if values > pieceBudget {
			p.whole = true // one portal too large to read alone: read whole, which says so
			return f, false
		}
		items, err := p.batch(all[:n])
		if err != nil {
			p.whole = true
			return f, false
		}
		for _, it := range items {
			if pt, ok := p.portal(it); ok {
				p.checking = true
				p.specs = append(p.specs, p.portalSpec(pt, d))
				where = append(where, linesOf(pt))
				p.checking = false
			}
		}
		all = all[n:]
	}
	p.checking = true
	p.across(where, p.specs)
	p.checking = false
	return f, true
}
