package konnect

import (
	"net/http"
	"strings"
	"time"
)

// appInput is a CreateApplicationRequest.
type appInput struct {
	name, strategyID, clientID string
	description                *string
	labels                     map[string]string
	owner                      AppOwner
	hasClientID, hasDCRClient  bool
}

// parseApplication validates a CreateApplicationRequest; whether the owner and
// the strategy exist is checked by the caller.
func parseApplication(obj map[string]any) (appInput, []InvalidParameter) {
	c := &checker{}
	var in appInput
	c.unknown(obj, "", "name", "description", "labels", "dcr_client_id", "client_id", "auth_strategy_id", "owner")
	in.name, _ = c.str(obj, "name", "name", true, 1, 255)
	if d, ok := c.str(obj, "description", "description", false, 0, 255); ok {
		in.description = &d
	}
	set, _, _ := c.labels(obj, "labels", false)
	in.labels = applyLabels(nil, set, false)
	in.clientID, in.hasClientID = c.str(obj, "client_id", "client_id", false, 1, 255)
	_, in.hasDCRClient = c.str(obj, "dcr_client_id", "dcr_client_id", false, 1, 255)
	if v, present := obj["auth_strategy_id"]; present {
		if id, isStr := v.(string); isStr && isUUID(id) {
			in.strategyID = strings.ToLower(id)
		} else {
			// The spec's own example of this answer.
			c.add(InvalidParameter{Field: "auth_strategy_id", Rule: "is_uuid", Source: "body", Reason: `"auth_strategy_id" must be a valid UUID`})
		}
	}
	if owner, ok := c.object(obj, "owner", "owner", true); ok {
		c.unknown(owner, "owner", "type", "id")
		if t, ok := c.str(owner, "type", "owner.type", true, 0, 0); ok {
			if t != "developer" && t != "team" {
				c.add(choice("owner.type", "body", "developer", "team"))
			}
			in.owner.Type = t
		}
		if id, ok := c.str(owner, "id", "owner.id", true, 0, 0); ok {
			if !isUUID(id) {
				c.add(wrongType("owner.id", "is_uuid", "a UUID"))
			}
			in.owner.ID = strings.ToLower(id)
		}
	}
	return in, c.params
}

func invalidRef(field, reason string) InvalidParameter {
	return InvalidParameter{Field: field, Rule: "missing_reference", Source: "body", Reason: reason}
}

func invalidField(field, reason string) InvalidParameter {
	return InvalidParameter{Field: field, Rule: "invalid", Source: "body", Reason: reason}
}

// checkOwner finds the owner in the portal (lock held). sandbox: a developer who
// is not approved cannot own applications (the spec says such developers cannot
// create or modify them), nor can a team without can_own_applications.
func (s *store) checkOwner(portalID string, o AppOwner) []InvalidParameter {
	switch o.Type {
	case "developer":
		d := s.developers[o.ID]
		if d == nil || d.portalID != portalID {
			return []InvalidParameter{invalidRef("owner.id", "references a developer ["+o.ID+"] that does not exist in this portal")}
		}
		if d.Status != "approved" {
			return []InvalidParameter{invalidField("owner.id", "developer ["+o.ID+"] is "+d.Status+", not approved")}
		}
	case "team":
		t := s.teams[o.ID]
		if t == nil || t.portalID != portalID {
			return []InvalidParameter{invalidRef("owner.id", "references a team ["+o.ID+"] that does not exist in this portal")}
		}
		if !t.CanOwnApplications {
			return []InvalidParameter{invalidField("owner.id", "team ["+o.ID+"] cannot own applications")}
		}
	}
	return nil
}

// appPlan is what creating an application needs once the input is checked.
type appPlan struct {
	strategy         *strategyRec
	credential       string
	authMethods      []string
	keyNames         []string
	issuer, token    string // the DCR provider's, when DCR
	providerID       string
	clientIDAtCreate string // self-managed: the correlation id
}

// plan resolves the strategy (the given one, else the portal's default) and the
// credential kind, and checks the client ids against it (lock held).
func (s *store) plan(portal *portalRec, in appInput) (appPlan, []InvalidParameter) {
	id := in.strategyID
	if id == "" && portal.DefaultApplicationAuthStrategyID != nil {
		id = *portal.DefaultApplicationAuthStrategyID
	}
	if id == "" {
		// sandbox: without a strategy and a portal default, the application could
		// issue no credential at all.
		return appPlan{}, []InvalidParameter{{Field: "auth_strategy_id", Rule: "required", Source: "body",
			Reason: "is required: the portal has no default application auth strategy"}}
	}
	st := s.strategies[id]
	if st == nil {
		return appPlan{}, []InvalidParameter{invalidRef("auth_strategy_id", "references an application auth strategy ["+id+"] that does not exist")}
	}
	p := appPlan{strategy: st}
	switch {
	case st.StrategyType == strategyKeyAuth:
		p.credential = CredentialKeyAuth
		p.keyNames = configStrings(st.Configs, "key-auth", "key_names")
		if len(p.keyNames) == 0 {
			p.keyNames = []string{"apikey"} // Konnect's default key name
		}
		if in.hasClientID || in.hasDCRClient {
			return appPlan{}, []InvalidParameter{invalidField("client_id", "cannot be set with a key_auth strategy")}
		}
	case st.providerID != "":
		p.credential = CredentialClientCredentials
		prov := s.providers[st.providerID]
		if prov == nil { // cannot happen: a provider in use is never deleted
			return appPlan{}, []InvalidParameter{invalidRef("auth_strategy_id", "the strategy's DCR provider does not exist")}
		}
		p.issuer, p.token, p.providerID = prov.Issuer, prov.token, prov.ID
		if in.hasClientID {
			return appPlan{}, []InvalidParameter{invalidField("client_id", "cannot be set when using Dynamic Client Registration")}
		}
		if in.hasDCRClient {
			return appPlan{}, []InvalidParameter{invalidField("dcr_client_id", "sandbox: linking an existing DCR client is not emulated")}
		}
	default:
		p.credential = CredentialSelfManagedClientID
		if in.hasDCRClient {
			return appPlan{}, []InvalidParameter{invalidField("dcr_client_id", "can only be set when the auth strategy has a DCR provider")}
		}
		if !in.hasClientID {
			return appPlan{}, []InvalidParameter{{Field: "client_id", Rule: "required", Source: "body",
				Reason: "is required: the auth strategy has no DCR provider, so the application is linked to its IdP client by client_id"}}
		}
		p.clientIDAtCreate = in.clientID
	}
	if p.credential != CredentialKeyAuth {
		p.authMethods = configStrings(st.Configs, "openid-connect", "auth_methods")
	}
	return p, nil
}

// configStrings reads a string list out of a strategy's configs[kind][key].
func configStrings(configs map[string]any, kind, key string) []string {
	cfg, _ := configs[kind].(map[string]any)
	raw, _ := cfg[key].([]any)
	var out []string
	for _, v := range raw {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// idpProblem answers a failed call to the DCR provider. The create, delete and
// credentials operations document no such failure. sandbox: a refusal by the
// provider (4xx) is the caller's to fix, a 400 naming the provider's answer; a
// provider that is down or unreachable is a 502 Bad Gateway, worth retrying.
func idpProblem(w http.ResponseWriter, ierr *idpError) {
	if ierr.status >= 400 && ierr.status < 500 {
		writeProblem(w, http.StatusBadRequest, ierr.msg, []InvalidParameter{
			invalidField("auth_strategy_id", "the strategy's DCR provider refused the call: "+ierr.msg)})
		return
	}
	writeProblem(w, http.StatusBadGateway, ierr.msg, nil)
}

func (e *Emulator) createApplication(w http.ResponseWriter, r *http.Request) {
	obj, ok := decodeObject(w, r)
	if !ok {
		return
	}
	in, params := parseApplication(obj)
	e.mu.Lock()
	portal := lookup(w, r, "portalId", e.st.portals, "Portal")
	if portal == nil {
		e.mu.Unlock()
		return
	}
	var p appPlan
	if len(params) == 0 {
		params = e.st.checkOwner(portal.ID, in.owner)
	}
	if len(params) == 0 {
		p, params = e.st.plan(portal, in)
	}
	e.mu.Unlock()
	if len(params) > 0 {
		writeInvalid(w, params)
		return
	}
	clientID := p.clientIDAtCreate
	ctx, cancel := serverSide(r)
	defer cancel()
	if p.credential == CredentialClientCredentials {
		// Konnect registers the IdP client through the provider, without the lock.
		id, ierr := e.oktaRegister(ctx, p.issuer, p.token, in.name)
		if ierr != nil {
			idpProblem(w, ierr)
			return
		}
		clientID = id
	}
	e.mu.Lock()
	if e.st.strategies[p.strategy.ID] == nil { // deleted meanwhile
		e.mu.Unlock()
		if clientID != "" && p.credential == CredentialClientCredentials {
			_ = e.oktaDelete(ctx, p.issuer, p.token, clientID)
		}
		writeInvalid(w, []InvalidParameter{invalidRef("auth_strategy_id", "references an application auth strategy ["+p.strategy.ID+"] that does not exist")})
		return
	}
	now := e.now()
	rec := &appRec{strategyID: p.strategy.ID, seq: e.st.next(), Application: Application{
		ID: newUUID(), Name: in.name, Description: in.description, Labels: in.labels, ClientID: clientID,
		DCRProviderID: p.providerID, PortalID: portal.ID, Owner: in.owner, CreatedAt: now, UpdatedAt: now,
		AuthStrategy: AppAuthStrategy{ID: p.strategy.ID, Name: p.strategy.Name, CredentialType: p.credential,
			AuthMethods: p.authMethods, KeyNames: p.keyNames}}}
	e.st.apps[rec.ID] = rec
	view := rec.Application
	e.mu.Unlock()
	writeJSON(w, http.StatusCreated, view)
}

var appList = listSpec[Application]{
	filters: map[string]filterField[Application]{
		"name":         {kindString, func(a Application) (string, bool) { return a.Name, true }},
		"developer_id": {kindUUID, func(a Application) (string, bool) { return a.Owner.ID, a.Owner.Type == "developer" }},
		"team_id":      {kindUUID, func(a Application) (string, bool) { return a.Owner.ID, a.Owner.Type == "team" }},
	},
	sorts: map[string]func(Application) string{
		"created_at":   func(a Application) string { return sortTime(a.CreatedAt) },
		"developer_id": func(a Application) string { return a.Owner.ID },
		"name":         func(a Application) string { return a.Name },
	},
}

func (e *Emulator) listApplications(w http.ResponseWriter, r *http.Request) {
	inPortal(e, w, r, func(id string) []Application { return e.st.appViews(id) }, appList)
}

// application finds the path's application in the path's portal (lock held), or
// writes the 404.
func (e *Emulator) application(w http.ResponseWriter, r *http.Request) *appRec {
	portal := lookup(w, r, "portalId", e.st.portals, "Portal")
	if portal == nil {
		return nil
	}
	id, ok := pathID(r, "applicationId")
	if app := e.st.apps[id]; ok && app != nil && app.PortalID == portal.ID {
		return app
	}
	writeNotFound(w, "Application ["+r.PathValue("applicationId")+"] not found")
	return nil
}

func (e *Emulator) getApplication(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if app := e.application(w, r); app != nil {
		writeJSON(w, http.StatusOK, app.Application)
	}
}

// dcrOf returns the provider's issuer and token for a DCR application (lock held).
func (e *Emulator) dcrOf(app *appRec) (issuer, token string, ok bool) {
	if app.DCRProviderID == "" {
		return "", "", false
	}
	p := e.st.providers[app.DCRProviderID] // kept while a strategy, so an application, uses it
	if p == nil {
		return "", "", false
	}
	return p.Issuer, p.token, true
}

// deleteApplication deletes the application with its IdP client: Konnect deletes
// the client through the DCR provider first. A client already gone is fine; any
// other failure keeps the application, so that the delete can be retried.
func (e *Emulator) deleteApplication(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	app := e.application(w, r)
	var issuer, token, clientID, id string
	var dcr bool
	if app != nil {
		issuer, token, dcr = e.dcrOf(app)
		clientID, id = app.ClientID, app.ID
	}
	e.mu.Unlock()
	if app == nil {
		return
	}
	if dcr {
		ctx, cancel := serverSide(r)
		defer cancel()
		if ierr := e.oktaDelete(ctx, issuer, token, clientID); ierr != nil && ierr.status != http.StatusNotFound {
			writeProblem(w, http.StatusBadGateway, ierr.msg, nil)
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st.apps[id] == nil { // a concurrent delete won
		writeNotFound(w, "Application ["+r.PathValue("applicationId")+"] not found")
		return
	}
	delete(e.st.apps, id)
	w.WriteHeader(http.StatusNoContent)
}

// credential is a ClientSecretCredentialListItem: never the secret itself.
type credential struct {
	Type        string     `json:"type"`
	ID          string     `json:"id"`
	DisplayName *string    `json:"display_name"`
	ClientID    string     `json:"client_id"`
	CreatedAt   *time.Time `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
}

// listCredentials serves a DCR application's credential as its IdP reports it
// (one client secret, an empty list if the IdP client is gone). sandbox: key_auth
// and self-managed applications have none, as no credential can be added here.
func (e *Emulator) listCredentials(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	app := e.application(w, r)
	var issuer, token, clientID string
	var dcr bool
	if app != nil {
		issuer, token, dcr = e.dcrOf(app)
		clientID = app.ClientID
	}
	e.mu.Unlock()
	if app == nil {
		return
	}
	items := []credential{}
	if dcr {
		c, ierr := e.oktaGet(r.Context(), issuer, token, clientID)
		switch {
		case ierr != nil && ierr.status == http.StatusNotFound:
		case ierr != nil:
			writeProblem(w, http.StatusBadGateway, ierr.msg, nil)
			return
		default:
			cr := credential{Type: "client_secret", ID: c.ClientID, ClientID: c.ClientID}
			if c.ClientIDIssuedAt > 0 {
				t := time.Unix(c.ClientIDIssuedAt, 0).UTC()
				cr.CreatedAt = &t
			}
			if c.ClientSecretExpiresAt > 0 {
				t := time.Unix(c.ClientSecretExpiresAt, 0).UTC()
				cr.ExpiresAt = &t
			}
			items = append(items, cr)
		}
	}
	serveList(w, r, items, listSpec[credential]{})
}
