package konnect

import "net/http"

var apiList = listSpec[API]{
	filters: map[string]filterField[API]{
		"id":                  {kindUUID, func(a API) (string, bool) { return a.ID, true }},
		"name":                {kindString, func(a API) (string, bool) { return a.Name, true }},
		"version":             {kindString, func(a API) (string, bool) { return nullable(a.Version) }},
		"implementation_mode": {kindString, func(API) (string, bool) { return "", false }}, // no implementations in the sandbox
	},
	labels: func(a API) map[string]string { return a.Labels },
	sorts: map[string]func(API) string{
		"name":       func(a API) string { return a.Name },
		"version":    func(a API) string { s, _ := nullable(a.Version); return s },
		"created_at": func(a API) string { return sortTime(a.CreatedAt) },
		"updated_at": func(a API) string { return sortTime(a.UpdatedAt) },
	},
}

func (e *Emulator) listAPIs(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, snapshot(e, (*store).apiViews), apiList)
}

func (e *Emulator) getAPI(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rec := lookup(w, r, "id", e.st.apis, "API"); rec != nil {
		writeJSON(w, http.StatusOK, e.st.apiView(rec, e.st.apiPortals()))
	}
}
