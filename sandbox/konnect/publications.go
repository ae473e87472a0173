package konnect

import (
	"net/http"
	"strings"
)

type pubInput struct {
	strategyIDs    []string // nil with strategyIDsSet: explicit null, no application auth
	strategyIDsSet bool     // false: omitted, the portal's default strategy applies
	visibility     string
	autoApprove    bool
}

// parsePublication validates an ApiPublication body (PUT is a full replace).
func parsePublication(obj map[string]any) (pubInput, []InvalidParameter) {
	c := &checker{}
	in := pubInput{visibility: "private"}
	// sandbox: the read-only fields are accepted and ignored.
	c.unknown(obj, "", "auth_strategy_ids", "visibility", "auto_approve_registrations", "warnings", "created_at", "updated_at")
	if raw, present := obj["auth_strategy_ids"]; present {
		in.strategyIDsSet = true
		if raw != nil {
			ids, ok := c.strList(obj, "auth_strategy_ids", "auth_strategy_ids", false, 1, 1, 0)
			for i, id := range ids {
				if !isUUID(id) {
					c.add(wrongType("auth_strategy_ids["+itoa(i)+"]", "is_uuid", "a UUID"))
					ok = false
				}
				ids[i] = strings.ToLower(id)
			}
			if ok {
				in.strategyIDs = ids
			}
		}
	}
	if v, ok := c.str(obj, "visibility", "visibility", false, 0, 0); ok {
		if v != "public" && v != "private" {
			c.add(choice("visibility", "body", "public", "private"))
		}
		in.visibility = v
	}
	in.autoApprove, _ = c.boolean(obj, "auto_approve_registrations", "auto_approve_registrations")
	return in, c.params
}

func body(p Publication) publicationBody {
	return publicationBody{
		AutoApproveRegistrations: p.AutoApproveRegistrations, AuthStrategyIDs: p.AuthStrategyIDs,
		Visibility: p.Visibility, Warnings: p.Warnings, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

// publicationTarget checks the path's API and portal (lock held) or writes the 404.
func (e *Emulator) publicationTarget(w http.ResponseWriter, r *http.Request) (pubKey, bool) {
	api := lookup(w, r, "apiId", e.st.apis, "API")
	if api == nil {
		return pubKey{}, false
	}
	portal := lookup(w, r, "portalId", e.st.portals, "Portal")
	if portal == nil {
		return pubKey{}, false
	}
	return pubKey{api.ID, portal.ID}, true
}

// publication finds the path's publication (lock held) or writes the 404.
func (e *Emulator) publication(w http.ResponseWriter, r *http.Request) (pubKey, *pubRec) {
	key, ok := e.publicationTarget(w, r)
	if !ok {
		return key, nil
	}
	rec := e.st.pubs[key]
	if rec == nil {
		writeNotFound(w, "API ["+key.apiID+"] is not published to portal ["+key.portalID+"]")
	}
	return key, rec
}

func (e *Emulator) getPublication(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, rec := e.publication(w, r); rec != nil {
		writeJSON(w, http.StatusOK, body(rec.Publication))
	}
}

func (e *Emulator) putPublication(w http.ResponseWriter, r *http.Request) {
	obj, ok := decodeObject(w, r)
	if !ok {
		return
	}
	in, params := parsePublication(obj)
	e.mu.Lock()
	defer e.mu.Unlock()
	key, ok := e.publicationTarget(w, r)
	if !ok {
		return
	}
	params = append(params, e.st.checkStrategies(in.strategyIDs)...)
	if len(params) > 0 {
		writeInvalid(w, params)
		return
	}
	rec := e.st.putPublication(key.apiID, key.portalID, in, e.now())
	writeJSON(w, http.StatusOK, body(rec.Publication))
}

func (e *Emulator) deletePublication(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	key, rec := e.publication(w, r)
	if rec == nil {
		return
	}
	delete(e.st.pubs, key)
	w.WriteHeader(http.StatusNoContent)
}

// pubItem is a list item plus the names its filters and sorts need.
type pubItem struct {
	Publication
	apiName, portalName string
}

func firstID(p pubItem) (string, bool) {
	if len(p.AuthStrategyIDs) == 0 {
		return "", false
	}
	return p.AuthStrategyIDs[0], true
}

var publicationList = listSpec[pubItem]{
	filters: map[string]filterField[pubItem]{
		"portal_id":        {kindUUID, func(p pubItem) (string, bool) { return p.PortalID, true }},
		"portal_name":      {kindString, func(p pubItem) (string, bool) { return p.portalName, true }},
		"api_id":           {kindUUID, func(p pubItem) (string, bool) { return p.APIID, true }},
		"api_name":         {kindString, func(p pubItem) (string, bool) { return p.apiName, true }},
		"auth_strategy_id": {kindUUID, firstID},
		"entity_type":      {kindString, func(p pubItem) (string, bool) { return p.EntityType, true }},
	},
	sorts: map[string]func(pubItem) string{
		"portal_id":   func(p pubItem) string { return p.PortalID },
		"portal_name": func(p pubItem) string { return p.portalName },
		"api_id":      func(p pubItem) string { return p.APIID },
		"api_name":    func(p pubItem) string { return p.apiName },
		"created_at":  func(p pubItem) string { return sortTime(p.CreatedAt) },
		"updated_at":  func(p pubItem) string { return sortTime(p.UpdatedAt) },
	},
}

func (e *Emulator) listPublications(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	var items []pubItem
	for _, p := range e.st.publicationViews() {
		it := pubItem{Publication: p}
		if a := e.st.apis[p.APIID]; a != nil {
			it.apiName = a.Name
		}
		if portal := e.st.portals[p.PortalID]; portal != nil {
			it.portalName = portal.Name
		}
		items = append(items, it)
	}
	e.mu.Unlock()
	serveList(w, r, items, publicationList)
}
