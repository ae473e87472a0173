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
