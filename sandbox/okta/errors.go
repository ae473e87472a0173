package okta

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Okta's management error body (spec schema Error).
type oktaError struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []errorCause `json:"errorCauses"`
}

type errorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

// The OAuth endpoints' error body (spec schema OAuthError).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// apiProblem is a management API failure on its way to the wire.
type apiProblem struct {
	status        int
	code, summary string
	causes        []string
}

func (p *apiProblem) String() string {
	if len(p.causes) == 0 {
		return p.summary
	}
	return p.summary + " (" + strings.Join(p.causes, "; ") + ")"
}

// validation is Okta's E0000001 for one field, the shape it uses for duplicates too.
func validation(field, cause string) *apiProblem {
	return &apiProblem{status: http.StatusBadRequest, code: "E0000001",
		summary: "Api validation failed: " + field, causes: []string{field + ": " + cause}}
}

func malformed() *apiProblem {
	return &apiProblem{status: http.StatusBadRequest, code: "E0000003", summary: "The request body was not well-formed."}
}

func notFound(id, kind string) *apiProblem {
	return &apiProblem{status: http.StatusNotFound, code: "E0000007",
		summary: fmt.Sprintf("Not found: Resource not found: %s (%s)", id, kind)}
}

// forbidden is Okta's answer to changing what Okta owns (system scopes, claims).
func forbidden() *apiProblem {
	return &apiProblem{status: http.StatusForbidden, code: "E0000006", summary: "You do not have permission to perform the requested action"}
}

func badFilter() *apiProblem {
	return &apiProblem{status: http.StatusBadRequest, code: "E0000031", summary: "Invalid search criteria."}
}

func invalidToken() *apiProblem {
	return &apiProblem{status: http.StatusUnauthorized, code: "E0000011", summary: "Invalid token provided"}
}

func rateLimited() *apiProblem {
	return &apiProblem{status: http.StatusTooManyRequests, code: "E0000047",
		summary: "API call exceeded rate limit due to too many requests."}
}

func methodNotAllowed() *apiProblem {
	return &apiProblem{status: http.StatusMethodNotAllowed, code: "E0000022",
		summary: "The endpoint does not support the provided HTTP method"}
}

func (p *apiProblem) write(w http.ResponseWriter) {
	causes := make([]errorCause, 0, len(p.causes))
	for _, c := range p.causes {
		causes = append(causes, errorCause{ErrorSummary: c})
	}
	writeJSON(w, p.status, oktaError{ErrorCode: p.code, ErrorSummary: p.summary, ErrorLink: p.code,
		ErrorID: "oae" + randomString(22), ErrorCauses: causes})
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, oauthError{Error: code, Description: description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// WriteError writes an injected status the way Okta would answer it: the Okta
// error body (E0000047 with rate-limit headers whose reset is retryAfter away for
// 429, at least one second), or an OAuth error body on the token endpoint.
func WriteError(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration) {
	now := time.Now()
	stampHeaders(w, now)
	if status == http.StatusTooManyRequests {
		if retryAfter < time.Second {
			retryAfter = time.Second
		}
		// Like Okta's concurrency 429s, the limit is unknown here: report 0/0.
		setRateHeaders(w, 0, 0, now.Add(retryAfter))
		rateLimited().write(w)
		return
	}
	if isTokenPath(r.URL.Path) {
		code, desc := oauthErrorFor(status)
		writeOAuthError(w, status, code, desc)
		return
	}
	if status == http.StatusBadRequest && strings.HasPrefix(r.URL.Path, "/oauth2/v1/clients") {
		writeOAuthError(w, status, "invalid_client_metadata", "Invalid request")
		return
	}
	problemFor(status, r.URL.Path).write(w)
}

// problemFor maps a bare status to the Okta error a management call would get.
func problemFor(status int, path string) *apiProblem {
	switch {
	case status == http.StatusBadRequest:
		return &apiProblem{status: status, code: "E0000001", summary: "Api validation failed: request"}
	case status == http.StatusUnauthorized:
		return invalidToken()
	case status == http.StatusForbidden:
		return forbidden()
	case status == http.StatusNotFound:
		return notFound(path, "Resource")
	case status == http.StatusMethodNotAllowed:
		return methodNotAllowed()
	case status == http.StatusInternalServerError:
		return &apiProblem{status: status, code: "E0000009", summary: "Internal Server Error"}
	case status >= 500:
		return &apiProblem{status: status, code: "E0000009", summary: http.StatusText(status)}
	default:
		return &apiProblem{status: status, code: "E0000001", summary: "Api validation failed: " + http.StatusText(status)}
	}
}

func oauthErrorFor(status int) (code, description string) {
	switch {
	case status == http.StatusUnauthorized:
		return "invalid_client", "Client authentication failed. Either the client or the client credentials are invalid."
	case status == http.StatusForbidden:
		return "access_denied", "The resource owner or authorization server denied the request."
	case status >= 500:
		return "server_error", "The authorization server encountered an unexpected condition that prevented it from fulfilling the request."
	default:
		return "invalid_request", http.StatusText(status)
	}
}

// isTokenPath matches /oauth2/{authServerId}/v1/token.
func isTokenPath(p string) bool {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	return len(parts) == 4 && parts[0] == "oauth2" && parts[2] == "v1" && parts[3] == "token"
}

// stampHeaders sets the headers every Okta answer carries.
func stampHeaders(w http.ResponseWriter, now time.Time) {
	h := w.Header()
	if h.Get("X-Okta-Request-Id") == "" {
		h.Set("X-Okta-Request-Id", randomString(27))
	}
	h.Set("Date", now.UTC().Format(http.TimeFormat))
}
