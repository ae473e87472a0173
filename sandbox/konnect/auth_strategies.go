package konnect

import (
	"encoding/json"
	"net/http"
	"strings"
)

const (
	strategyOIDC    = "openid_connect"
	strategyKeyAuth = "key_auth"
)

type strategyInput struct {
	name, displayName, strategyType, providerID string
	configs                                     map[string]any
	labels                                      map[string]string
	principals                                  Principals
}

func missingProvider() InvalidParameter {
	return InvalidParameter{Field: "dcr_provider_id", Rule: "missing_reference", Source: "body",
		Reason: "references a DCR provider that does not exist"}
}

// parseStrategy validates a CreateAppAuthStrategyRequest (openid_connect, or a
// minimal key_auth). Whether dcr_provider_id exists is checked by the caller.
func parseStrategy(obj map[string]any) (strategyInput, []InvalidParameter) {
	c := &checker{}
	var in strategyInput
	st, ok := c.str(obj, "strategy_type", "strategy_type", true, 0, 0)
	if ok && st != strategyOIDC && st != strategyKeyAuth {
		c.add(choice("strategy_type", "body", strategyKeyAuth, strategyOIDC))
		ok = false
	}
	in.strategyType = st
	allowed := []string{"name", "display_name", "strategy_type", "configs", "labels", "principals"}
	if st == strategyOIDC {
		allowed = append(allowed, "dcr_provider_id")
	}
	c.unknown(obj, "", allowed...)
	in.name, _ = c.str(obj, "name", "name", true, 1, 256)
	in.displayName, _ = c.str(obj, "display_name", "display_name", true, 0, 256)
	if cfg, present := c.object(obj, "configs", "configs", true); present && ok {
		switch st {
		case strategyOIDC:
			c.unknown(cfg, "configs", "openid-connect")
			in.configs = parseOIDCConfig(c, cfg)
		case strategyKeyAuth:
			c.unknown(cfg, "configs", "key-auth")
			in.configs = parseKeyAuthConfig(c, cfg)
		}
	}
	if v, present := obj["dcr_provider_id"]; present && v != nil && st == strategyOIDC {
		id, isStr := v.(string)
		switch {
		case !isStr:
			c.add(wrongType("dcr_provider_id", "is_string", "a string"))
		case !isUUID(id):
			c.add(wrongType("dcr_provider_id", "is_uuid", "a UUID"))
		default:
			in.providerID = strings.ToLower(id)
		}
	}
	set, _, _ := c.labels(obj, "labels", false)
	in.labels = applyLabels(nil, set, false)
	if p, present := c.object(obj, "principals", "principals", false); present {
		c.unknown(p, "principals", "enabled")
		if _, has := p["enabled"]; !has {
			c.add(required("principals.enabled"))
		}
		in.principals.Enabled, _ = c.boolean(p, "enabled", "principals.enabled")
	}
	return in, c.params
}

// parseOIDCConfig checks configs["openid-connect"]; extra properties are kept when
// they are OIDC plugin fields, and refused otherwise (oidc_fields.go).
func parseOIDCConfig(c *checker, cfg map[string]any) map[string]any {
	const p = "configs.openid-connect"
	oidc, ok := c.object(cfg, "openid-connect", p, true)
	if !ok {
		return nil
	}
	c.urlString(oidc, "issuer", p+".issuer", true, 256)
	c.strList(oidc, "credential_claim", p+".credential_claim", true, 0, 10, 128)
	c.strList(oidc, "scopes", p+".scopes", true, 0, 50, 128)
	c.strList(oidc, "auth_methods", p+".auth_methods", true, 0, 10, 64)
	for _, k := range unknownOIDCFields(oidc) {
		c.add(InvalidParameter{Field: p + "." + k, Rule: "invalid", Source: "body", Reason: "unknown field"})
	}
	return map[string]any{"openid-connect": oidc}
}

func parseKeyAuthConfig(c *checker, cfg map[string]any) map[string]any {
	const p = "configs.key-auth"
	ka, ok := c.object(cfg, "key-auth", p, true)
	if !ok {
		return nil
	}
	c.unknown(ka, p, "key_names", "ttl")
	c.strList(ka, "key_names", p+".key_names", false, 1, 10, 256)
	if ttl, ok := c.object(ka, "ttl", p+".ttl", false); ok {
		c.unknown(ttl, p+".ttl", "value", "unit")
		if raw, has := ttl["value"]; !has {
			c.add(required(p + ".ttl.value"))
		} else if n, isNum := raw.(json.Number); !isNum {
			c.add(wrongType(p+".ttl.value", "is_integer", "an integer"))
		} else if v, err := n.Int64(); err != nil || v < 1 {
			c.add(wrongType(p+".ttl.value", "is_integer", "an integer of at least 1"))
		}
		if u, _ := ttl["unit"].(string); u != "days" && u != "weeks" && u != "years" {
			c.add(choice(p+".ttl.unit", "body", "days", "weeks", "years"))
		}
	}
	return map[string]any{"key-auth": ka}
}

var strategyList = listSpec[AuthStrategy]{
	filters: map[string]filterField[AuthStrategy]{
		"strategy_type":     {kindString, func(s AuthStrategy) (string, bool) { return s.StrategyType, true }},
		"name":              {kindString, func(s AuthStrategy) (string, bool) { return s.Name, true }},
		"display_name":      {kindString, func(s AuthStrategy) (string, bool) { return s.DisplayName, true }},
		"dcr_provider_id":   {kindUUID, func(s AuthStrategy) (string, bool) { return ref(s).ID, s.DCRProvider != nil }},
		"dcr_provider_name": {kindString, func(s AuthStrategy) (string, bool) { return ref(s).Name, s.DCRProvider != nil }},
		"dcr_provider_type": {kindString, func(s AuthStrategy) (string, bool) { return ref(s).ProviderType, s.DCRProvider != nil }},
	},
	sorts: map[string]func(AuthStrategy) string{
		"created_at":        func(s AuthStrategy) string { return sortTime(s.CreatedAt) },
		"updated_at":        func(s AuthStrategy) string { return sortTime(s.UpdatedAt) },
		"strategy_type":     func(s AuthStrategy) string { return s.StrategyType },
		"name":              func(s AuthStrategy) string { return s.Name },
		"display_name":      func(s AuthStrategy) string { return s.DisplayName },
		"dcr_provider_id":   func(s AuthStrategy) string { return ref(s).ID },
		"dcr_provider_name": func(s AuthStrategy) string { return ref(s).Name },
		"dcr_provider_type": func(s AuthStrategy) string { return ref(s).ProviderType },
	},
}

func ref(s AuthStrategy) DCRProviderRef {
	if s.DCRProvider == nil {
		return DCRProviderRef{}
	}
	return *s.DCRProvider
}

func (e *Emulator) listStrategies(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, snapshot(e, (*store).strategyViews), strategyList)
}

func (e *Emulator) createStrategy(w http.ResponseWriter, r *http.Request) {
	obj, ok := decodeObject(w, r)
	if !ok {
		return
	}
	in, params := parseStrategy(obj)
	e.mu.Lock()
	defer e.mu.Unlock()
	if in.providerID != "" && e.st.providers[in.providerID] == nil {
		params = append(params, missingProvider())
	}
	if len(params) > 0 {
		writeInvalid(w, params)
		return
	}
	// Konnect answers a duplicate name with 409 (kongctl and kong-operator rely on it).
	if nameTaken(e.st.strategies, func(s *strategyRec) string { return s.Name }, in.name, "") {
		writeProblem(w, http.StatusConflict, conflictName(in.name), nil)
		return
	}
	rec := e.st.addStrategy(newUUID(), in, e.now())
	writeJSON(w, http.StatusCreated, e.st.strategyView(rec, e.st.strategyUsers()))
}

// strategy finds the path's strategy (lock held) or writes the 404.
func (e *Emulator) strategy(w http.ResponseWriter, r *http.Request) *strategyRec {
	return lookup(w, r, "id", e.st.strategies, "Application auth strategy")
}

func (e *Emulator) getStrategy(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rec := e.strategy(w, r); rec != nil {
		writeJSON(w, http.StatusOK, e.st.strategyView(rec, e.st.strategyUsers()))
	}
}

// deleteStrategy refuses (409) while a publication or an application uses the
// strategy or a portal has it as its default, as the spec's delete description says.
func (e *Emulator) deleteStrategy(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec := e.strategy(w, r)
	if rec == nil {
		return
	}
	if n := e.st.strategyUsers()[rec.ID]; n > 0 {
		writeProblem(w, http.StatusConflict, "Application auth strategy ["+rec.ID+"] is in use by ["+itoa(n)+"] API publications", nil)
		return
	}
	if n := e.st.appUsers()[rec.ID]; n > 0 {
		writeProblem(w, http.StatusConflict, "Application auth strategy ["+rec.ID+"] is in use by ["+itoa(n)+"] applications", nil)
		return
	}
	for _, p := range e.st.portals {
		if d := p.DefaultApplicationAuthStrategyID; d != nil && *d == rec.ID {
			writeProblem(w, http.StatusConflict, "Application auth strategy ["+rec.ID+"] is the default of portal ["+p.ID+"]", nil)
			return
		}
	}
	delete(e.st.strategies, rec.ID)
	w.WriteHeader(http.StatusNoContent)
}
