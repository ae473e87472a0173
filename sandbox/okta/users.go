package okta

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// The admins behind the SSWS management tokens: GET /api/v1/users/me names the
// token's admin, GET /api/v1/users/{userId}/roles lists its admin roles — what an
// SSWS token may do (a token carries every right of its admin's roles). A service
// app's access token has no user behind it.

// superAdmin is the role of a token the fixture names no roles for: in a real org an
// API token is most often a super admin's.
const superAdmin = "SUPER_ADMIN"

type userJSON struct {
	ID      string      `json:"id"`
	Status  string      `json:"status"`
	Created time.Time   `json:"created"`
	Profile userProfile `json:"profile"`
}

type userProfile struct {
	Login     string `json:"login"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
}

type roleJSON struct {
	ID             string    `json:"id"`
	Label          string    `json:"label"`
	Type           string    `json:"type"`
	Status         string    `json:"status"`
	AssignmentType string    `json:"assignmentType"`
	Created        time.Time `json:"created"`
	LastUpdated    time.Time `json:"lastUpdated"`
}

// adminOf is the user id of the admin whose token this is.
func adminOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "00u" + hex.EncodeToString(sum[:])[:17]
}

// sswsToken is the request's SSWS token ("" for a bearer token).
func sswsToken(r *http.Request) string {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "SSWS") {
		return ""
	}
	return strings.TrimSpace(token)
}

// tokenOfUser finds the management token whose admin has the id.
func (e *Emulator) tokenOfUser(id string) string {
	for t := range e.mgmtTokens {
		if adminOf(t) == id {
			return t
		}
	}
	return ""
}

func (e *Emulator) getUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	token := e.tokenOfUser(id)
	if id == "me" {
		token = sswsToken(r)
	}
	if token == "" {
		notFound(id, "User").write(w)
		return
	}
	writeJSON(w, http.StatusOK, userJSON{ID: adminOf(token), Status: "ACTIVE", Created: e.seedTime(),
		Profile: userProfile{Login: "admin@sandbox.example.com", Email: "admin@sandbox.example.com", FirstName: "Sandbox", LastName: "Admin"}})
}

func (e *Emulator) listUserRoles(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("userId")
	token := e.tokenOfUser(id)
	if token == "" {
		notFound(id, "User").write(w)
		return
	}
	types := e.seed.ManagementTokenRoles[token]
	if len(types) == 0 {
		types = []string{superAdmin}
	}
	out := make([]roleJSON, 0, len(types))
	for i, t := range types {
		out = append(out, roleJSON{ID: "ra" + adminOf(token)[3:] + string(rune('a'+i)), Label: strings.ReplaceAll(t, "_", " "),
			Type: t, Status: "ACTIVE", AssignmentType: "USER", Created: e.seedTime(), LastUpdated: e.seedTime()})
	}
	writeJSON(w, http.StatusOK, out)
}

// seedTime is when the sandbox's users and roles were made.
func (e *Emulator) seedTime() time.Time { return e.opts.Now().Truncate(24 * time.Hour) }
