package konnect

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

const providerOkta = "okta"

// providerTypes are every type the spec knows; sandbox: only okta is emulated.
var providerTypes = []string{"auth0", "azureAd", "curity", "http", "kongIdentity", providerOkta}

type providerInput struct {
	name, displayName, providerType, issuer, token string
	labels                                         map[string]string
}

// parseProvider validates a CreateDcrProviderRequestOkta body.
func parseProvider(obj map[string]any) (providerInput, []InvalidParameter) {
	c := &checker{}
	var in providerInput
	c.unknown(obj, "", "name", "display_name", "provider_type", "issuer", "dcr_config", "labels")
	in.name, _ = c.str(obj, "name", "name", true, 1, 256)
	in.displayName, _ = c.str(obj, "display_name", "display_name", false, 1, 256)
	if pt, ok := c.str(obj, "provider_type", "provider_type", true, 0, 0); ok {
		switch {
		case pt == providerOkta:
			in.providerType = pt
		case slices.Contains(providerTypes, pt):
			p := choice("provider_type", "body", providerOkta)
			p.Reason = "sandbox: only okta DCR providers are emulated"
			c.add(p)
		default:
			c.add(choice("provider_type", "body", providerTypes...))
		}
	}
	in.issuer, _ = c.urlString(obj, "issuer", "issuer", true, 256)
	if cfg, ok := c.object(obj, "dcr_config", "dcr_config", true); ok {
		c.unknown(cfg, "dcr_config", "dcr_token")
		in.token, _ = c.str(cfg, "dcr_token", "dcr_config.dcr_token", true, 0, 256)
	}
	set, _, _ := c.labels(obj, "labels", false)
	in.labels = applyLabels(nil, set, false)
	return in, c.params
}

// providerPatch is an UpdateDcrProviderRequest; nil fields are absent.
type providerPatch struct {
	name, displayName, issuer, token *string
	labels                           map[string]*string
	clearLabels, hasLabels           bool
}

func parseProviderPatch(obj map[string]any) (providerPatch, []InvalidParameter) {
	c := &checker{}
	var p providerPatch
	c.unknown(obj, "", "name", "display_name", "issuer", "labels", "dcr_config")
	if s, ok := c.str(obj, "name", "name", false, 1, 256); ok {
		p.name = &s
	}
	if s, ok := c.str(obj, "display_name", "display_name", false, 1, 256); ok {
		p.displayName = &s
	}
	if s, ok := c.urlString(obj, "issuer", "issuer", false, 256); ok {
		p.issuer = &s
	}
	p.labels, p.clearLabels, p.hasLabels = c.labels(obj, "labels", true)
	if cfg, ok := c.object(obj, "dcr_config", "dcr_config", false); ok {
		c.unknown(cfg, "dcr_config", "dcr_token") // the other types' keys do not apply to okta
		if s, ok := c.str(cfg, "dcr_token", "dcr_config.dcr_token", false, 0, 256); ok {
			p.token = &s
		}
	}
	return p, c.params
}

var providerList = listSpec[DCRProvider]{
	filters: map[string]filterField[DCRProvider]{
		"id":            {kindString, func(p DCRProvider) (string, bool) { return p.ID, true }},
		"name":          {kindString, func(p DCRProvider) (string, bool) { return p.Name, true }},
		"issuer":        {kindString, func(p DCRProvider) (string, bool) { return p.Issuer, true }},
		"provider_type": {kindString, func(p DCRProvider) (string, bool) { return p.ProviderType, true }},
		// Auth0-only fields: never set on okta providers.
		"initial_client_id":       {kindString, func(DCRProvider) (string, bool) { return "", false }},
		"initial_client_audience": {kindString, func(DCRProvider) (string, bool) { return "", false }},
	},
	sorts: map[string]func(DCRProvider) string{
		"created_at":    func(p DCRProvider) string { return sortTime(p.CreatedAt) },
		"updated_at":    func(p DCRProvider) string { return sortTime(p.UpdatedAt) },
		"provider_type": func(p DCRProvider) string { return p.ProviderType },
		"issuer":        func(p DCRProvider) string { return p.Issuer },
		"name":          func(p DCRProvider) string { return p.Name },
	},
}

// sortTime formats a time at fixed width so that strings sort chronologically.
func sortTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000") }

func (e *Emulator) listProviders(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, snapshot(e, (*store).providerViews), providerList)
}

// providerName is what nameTaken compares. sandbox: provider names are unique
// (409 on a clash, on create and rename), as strategy names are; the spec
// documents no 409 here.
func providerName(p *providerRec) string { return p.Name }

// conflictName is the detail Konnect gives for a name clash (seen by kong-operator).
func conflictName(name string) string {
	return "Key (org_id, name)=(" + sandboxOrgID + ", " + name + ") already exists."
}

// sandboxOrgID stands in for the organization in conflict details.
const sandboxOrgID = "b3f5e0c2-7d41-4a8e-9c56-1f2a3b4c5d6e"

func (e *Emulator) createProvider(w http.ResponseWriter, r *http.Request) {
	obj, ok := decodeObject(w, r)
	if !ok {
		return
	}
	in, params := parseProvider(obj)
	if len(params) > 0 {
		writeInvalid(w, params)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if nameTaken(e.st.providers, providerName, in.name, "") {
		writeProblem(w, http.StatusConflict, conflictName(in.name), nil)
		return
	}
	rec := e.st.addProvider(newUUID(), in, e.now())
	writeJSON(w, http.StatusCreated, e.st.providerView(rec, e.st.providerUsers()))
}

// provider finds the path's provider (lock held) or writes the 404.
func (e *Emulator) provider(w http.ResponseWriter, r *http.Request) *providerRec {
	return lookup(w, r, "id", e.st.providers, "DCR provider")
}

func (e *Emulator) getProvider(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rec := e.provider(w, r); rec != nil {
		writeJSON(w, http.StatusOK, e.st.providerView(rec, e.st.providerUsers()))
	}
}

func (e *Emulator) updateProvider(w http.ResponseWriter, r *http.Request) {
	obj, ok := decodeObject(w, r)
	if !ok {
		return
	}
	patch, params := parseProviderPatch(obj)
	e.mu.Lock()
	defer e.mu.Unlock()
	rec := e.provider(w, r)
	if rec == nil {
		return
	}
	if len(params) > 0 {
		writeInvalid(w, params)
		return
	}
	if patch.name != nil && nameTaken(e.st.providers, providerName, *patch.name, rec.ID) {
		writeProblem(w, http.StatusConflict, conflictName(*patch.name), nil)
		return
	}
	if patch.name != nil {
		rec.Name = *patch.name
	}
	if patch.displayName != nil {
		rec.DisplayName = *patch.displayName
	}
	if patch.issuer != nil {
		rec.Issuer = *patch.issuer
	}
	if patch.token != nil {
		rec.token = *patch.token
	}
	if patch.hasLabels {
		// sandbox: labels merge; a null value removes a key, a null object clears all.
		rec.Labels = applyLabels(rec.Labels, patch.labels, patch.clearLabels)
	}
	rec.UpdatedAt = e.now()
	writeJSON(w, http.StatusOK, e.st.providerView(rec, e.st.providerUsers()))
}

// deleteProvider refuses (409) while a strategy references the provider.
// sandbox: the spec documents no 409 here; deleting a referenced provider would
// leave strategies pointing nowhere, so the sandbox refuses as it does for strategies.
func (e *Emulator) deleteProvider(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec := e.provider(w, r)
	if rec == nil {
		return
	}
	if n := e.st.providerUsers()[rec.ID]; n > 0 {
		writeProblem(w, http.StatusConflict, "DCR provider ["+rec.ID+"] is used by ["+itoa(n)+"] application auth strategies", nil)
		return
	}
	delete(e.st.providers, rec.ID)
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) verifyProvider(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	rec := e.provider(w, r)
	var issuer, token string
	if rec != nil {
		issuer, token = rec.Issuer, rec.token
	}
	e.mu.Unlock()
	if rec == nil {
		return
	}
	// The outbound call runs without the lock: other requests go on meanwhile.
	ctx, cancel := serverSide(r)
	defer cancel()
	v := e.verifyOkta(ctx, issuer, token)
	if st := e.seed.VerifyFailureStatus; v.Status != "success" && st >= 400 && st < 500 {
		writeProblem(w, st, strings.Join(v.Errors, "; "), nil)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
