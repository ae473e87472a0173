package konnect

import "net/http"

func boolField(b bool) (string, bool) {
	if b {
		return "true", true
	}
	return "false", true
}

func nullable(s *string) (string, bool) {
	if s == nil {
		return "", false
	}
	return *s, true
}

var portalList = listSpec[Portal]{
	filters: map[string]filterField[Portal]{
		"id":                                   {kindUUID, func(p Portal) (string, bool) { return p.ID, true }},
		"name":                                 {kindString, func(p Portal) (string, bool) { return p.Name, true }},
		"description":                          {kindString, func(p Portal) (string, bool) { return nullable(p.Description) }},
		"authentication_enabled":               {kindBool, func(p Portal) (string, bool) { return boolField(p.AuthenticationEnabled) }},
		"rbac_enabled":                         {kindBool, func(p Portal) (string, bool) { return boolField(p.RBACEnabled) }},
		"default_api_visibility":               {kindString, func(p Portal) (string, bool) { return p.DefaultAPIVisibility, true }},
		"default_page_visibility":              {kindString, func(p Portal) (string, bool) { return p.DefaultPageVisibility, true }},
		"default_application_auth_strategy_id": {kindUUID, func(p Portal) (string, bool) { return nullable(p.DefaultApplicationAuthStrategyID) }},
		"auto_approve_developers":              {kindBool, func(p Portal) (string, bool) { return boolField(p.AutoApproveDevelopers) }},
		"auto_approve_applications":            {kindBool, func(p Portal) (string, bool) { return boolField(p.AutoApproveApplications) }},
		"default_domain":                       {kindString, func(p Portal) (string, bool) { return p.DefaultDomain, true }},
		"canonical_domain":                     {kindString, func(p Portal) (string, bool) { return p.CanonicalDomain, true }},
	},
	sorts: map[string]func(Portal) string{
		"name":                      func(p Portal) string { return p.Name },
		"description":               func(p Portal) string { s, _ := nullable(p.Description); return s },
		"authentication_enabled":    func(p Portal) string { s, _ := boolField(p.AuthenticationEnabled); return s },
		"rbac_enabled":              func(p Portal) string { s, _ := boolField(p.RBACEnabled); return s },
		"auto_approve_applications": func(p Portal) string { s, _ := boolField(p.AutoApproveApplications); return s },
		"auto_approve_developers":   func(p Portal) string { s, _ := boolField(p.AutoApproveDevelopers); return s },
		"default_domain":            func(p Portal) string { return p.DefaultDomain },
		"canonical_domain":          func(p Portal) string { return p.CanonicalDomain },
		"created_at":                func(p Portal) string { return sortTime(p.CreatedAt) },
		"updated_at":                func(p Portal) string { return sortTime(p.UpdatedAt) },
	},
}

func (e *Emulator) listPortals(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, snapshot(e, (*store).portalViews), portalList)
}

func (e *Emulator) getPortal(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rec := lookup(w, r, "id", e.st.portals, "Portal"); rec != nil {
		writeJSON(w, http.StatusOK, rec.Portal)
	}
}
