package konnect

import "net/http"

// developerStatuses are the spec's DeveloperStatus values.
var developerStatuses = []string{"approved", "pending", "revoked", "rejected"}

var developerList = listSpec[Developer]{
	filters: map[string]filterField[Developer]{
		"name":   {kindString, func(d Developer) (string, bool) { return d.FullName, true }},
		"status": {kindString, func(d Developer) (string, bool) { return d.Status, true }},
		"email":  {kindString, func(d Developer) (string, bool) { return d.Email, true }},
	},
	sorts: map[string]func(Developer) string{
		"created_at": func(d Developer) string { return sortTime(d.CreatedAt) },
		"updated_at": func(d Developer) string { return sortTime(d.UpdatedAt) },
		"email":      func(d Developer) string { return d.Email },
		"name":       func(d Developer) string { return d.FullName },
		"status":     func(d Developer) string { return d.Status },
	},
}

var teamList = listSpec[Team]{
	filters: map[string]filterField[Team]{
		"name":                 {kindString, func(t Team) (string, bool) { return t.Name, true }},
		"can_own_applications": {kindBool, func(t Team) (string, bool) { return boolField(t.CanOwnApplications) }},
	},
}

// inPortal runs view with the lock held once the path's portal is found, then
// serves the list it returns; an unknown portal is the 404.
func inPortal[T any](e *Emulator, w http.ResponseWriter, r *http.Request, view func(portalID string) []T, spec listSpec[T]) {
	e.mu.Lock()
	p := lookup(w, r, "portalId", e.st.portals, "Portal")
	var items []T
	if p != nil {
		items = view(p.ID)
	}
	e.mu.Unlock()
	if p != nil {
		serveList(w, r, items, spec)
	}
}

func (e *Emulator) listDevelopers(w http.ResponseWriter, r *http.Request) {
	inPortal(e, w, r, func(id string) []Developer { return e.st.developerViews(id) }, developerList)
}

func (e *Emulator) listTeams(w http.ResponseWriter, r *http.Request) {
	inPortal(e, w, r, func(id string) []Team { return e.st.teamViews(id) }, teamList)
}

// inPortalOne serves one record of the path's portal: an unknown portal, or a record
// of another portal, is the 404.
func inPortalOne[R any, V any](e *Emulator, w http.ResponseWriter, r *http.Request, param string, recs func(*store) map[string]*R,
	portalOf func(*R) string, view func(*R) V, what string) {
	e.mu.Lock()
	var out V
	found := false
	if p := lookup(w, r, "portalId", e.st.portals, "Portal"); p != nil {
		if rec := lookup(w, r, param, recs(e.st), what); rec != nil {
			if portalOf(rec) == p.ID {
				out, found = view(rec), true
			} else {
				writeNotFound(w, what+" ["+r.PathValue(param)+"] not found")
			}
		}
	}
	e.mu.Unlock()
	if found {
		writeJSON(w, http.StatusOK, out)
	}
}

func (e *Emulator) getDeveloper(w http.ResponseWriter, r *http.Request) {
	inPortalOne(e, w, r, "developerId", func(s *store) map[string]*developerRec { return s.developers },
		func(d *developerRec) string { return d.portalID }, func(d *developerRec) Developer { return d.Developer }, "Developer")
}

func (e *Emulator) getTeam(w http.ResponseWriter, r *http.Request) {
	inPortalOne(e, w, r, "teamId", func(s *store) map[string]*teamRec { return s.teams },
		func(t *teamRec) string { return t.portalID }, func(t *teamRec) Team { return t.Team }, "Team")
}
