package okta

import "net/http"

// replaceScope serves PUT .../scopes/{id}: the scope as the body gives it (Okta's
// replace: a field left out takes its default). A system scope cannot be changed;
// the name may change when no other scope has it.
func (e *Emulator) replaceScope(w http.ResponseWriter, r *http.Request) {
	var in scopeInput
	bad := !decodeBody(w, r, &in)
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		i, p := find(s.scopes, r.PathValue("id"), "OAuth2Scope")
		if p != nil {
			return 0, nil, p
		}
		if bad {
			return 0, nil, malformed()
		}
		cur := s.scopes[i]
		if cur.system {
			return 0, nil, validation("name", "System scopes cannot be modified.")
		}
		// Judge the body as a create against the server without this scope.
		others := &authServer{}
		*others = *s
		others.scopes = append(append([]*scope(nil), s.scopes[:i]...), s.scopes[i+1:]...)
		sc, p := newScope(others, in)
		if p != nil {
			return 0, nil, p
		}
		sc.id, sc.seq = cur.id, cur.seq
		s.scopes[i] = sc
		return http.StatusOK, e.scopeView(s, sc), nil
	})
}
