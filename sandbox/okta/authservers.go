package okta

import (
	"net/http"
	"strings"
	"time"
)

// Status values shared by servers, claims, policies and rules.
const (
	statusActive   = "ACTIVE"
	statusInactive = "INACTIVE"
)

type serverJSON struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Audiences   []string    `json:"audiences"`
	Issuer      string      `json:"issuer"`
	IssuerMode  string      `json:"issuerMode"`
	Status      string      `json:"status"`
	Created     string      `json:"created"`
	LastUpdated string      `json:"lastUpdated"`
	Credentials credentials `json:"credentials"`
	Links       serverLinks `json:"_links"`
}

type credentials struct {
	Signing signing `json:"signing"`
}

type signing struct {
	RotationMode string `json:"rotationMode"`
	LastRotated  string `json:"lastRotated"`
	NextRotation string `json:"nextRotation"`
	Kid          string `json:"kid"`
	Use          string `json:"use"`
}

type serverLinks struct {
	Scopes     *link  `json:"scopes"`
	Claims     *link  `json:"claims"`
	Policies   *link  `json:"policies"`
	Self       *link  `json:"self"`
	Metadata   []link `json:"metadata"`
	RotateKey  *link  `json:"rotateKey"`
	Deactivate *link  `json:"deactivate"`
}

func (e *Emulator) serverView(s *authServer) serverJSON {
	base := e.serverURL(s.id)
	iss := e.issuer(s.id)
	allowGet := &hints{Allow: []string{"GET"}}
	return serverJSON{
		ID: s.id, Name: s.name, Description: s.description, Audiences: s.audiences,
		Issuer: iss, IssuerMode: "ORG_URL", Status: statusActive,
		Created: timestamp(s.created), LastUpdated: timestamp(s.created),
		Credentials: credentials{Signing: signing{RotationMode: "AUTO", LastRotated: timestamp(s.created),
			NextRotation: timestamp(s.created.Add(90 * 24 * time.Hour)), Kid: e.keys[s.id].kid, Use: "sig"}},
		Links: serverLinks{
			Scopes:   linkTo(base+"/scopes", "GET"),
			Claims:   linkTo(base+"/claims", "GET"),
			Policies: linkTo(base+"/policies", "GET"),
			Self:     linkTo(base, "GET", "DELETE", "PUT"),
			Metadata: []link{
				{Name: "oauth-authorization-server", Href: iss + "/.well-known/oauth-authorization-server", Hints: allowGet},
				{Name: "openid-configuration", Href: iss + "/.well-known/openid-configuration", Hints: allowGet},
			},
			RotateKey:  linkTo(base+"/credentials/lifecycle/keyRotate", "POST"),
			Deactivate: linkTo(base+"/lifecycle/deactivate", "POST"),
		},
	}
}

// listServers serves GET /api/v1/authorizationServers: q searches name and
// audiences (case-insensitive substring), paged by limit/after.
func (e *Emulator) listServers(w http.ResponseWriter, r *http.Request) {
	q := strings.ToLower(r.URL.Query().Get("q"))
	limit := listLimit(r)
	e.respond(w, func() (int, any, *apiProblem) {
		var matched []*authServer
		for _, s := range e.org.servers {
			if q == "" || strings.Contains(strings.ToLower(s.name), q) || containsFold(s.audiences, q) {
				matched = append(matched, s)
			}
		}
		page, more := paginate(e.org, matched, func(s *authServer) int64 { return e.org.seqOf[s.id] },
			r.URL.Query().Get("after"), limit)
		e.setLinks(w, r, limit, lastID(page, func(s *authServer) string { return s.id }), more)
		return http.StatusOK, viewsOf(page, e.serverView), nil
	})
}

func (e *Emulator) getServer(w http.ResponseWriter, r *http.Request) {
	e.inServer(w, r, func(s *authServer) (int, any, *apiProblem) {
		return http.StatusOK, e.serverView(s), nil
	})
}

func containsFold(values []string, lowerNeedle string) bool {
	for _, v := range values {
		if strings.Contains(strings.ToLower(v), lowerNeedle) {
			return true
		}
	}
	return false
}
