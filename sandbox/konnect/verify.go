package konnect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// verifyResult is the VerifyDcrProviderResponse.
type verifyResult struct {
	Status string   `json:"status"`
	Errors []string `json:"errors"`
}

func verified() verifyResult { return verifyResult{Status: "success", Errors: []string{}} }

func failed(msg string) verifyResult { return verifyResult{Status: "failed", Errors: []string{msg}} }

// verifyOkta does what Konnect does to verify an Okta DCR provider: register a
// throw-away client_credentials service client at the org's DCR endpoint with the
// stored token, then delete it. The token never appears in the answer.
func (e *Emulator) verifyOkta(ctx context.Context, issuer, token string) verifyResult {
	id, ierr := e.oktaRegister(ctx, issuer, token, "konnect-dcr-verification-"+newUUID()[:8])
	if ierr == nil {
		ierr = e.oktaDelete(ctx, issuer, token, id)
	}
	if ierr != nil {
		return failed(ierr.msg)
	}
	return verified()
}

// idpError is a failed call to a provider's DCR endpoint; status is the
// provider's answer, 0 when there was none (unreachable, or nonsense). msg never
// holds the token.
type idpError struct {
	status int
	msg    string
}

// oktaClient is what Okta's DCR endpoint answers about a client (no secret kept).
type oktaClient struct {
	ClientID              string `json:"client_id"`
	ClientIDIssuedAt      int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt int64  `json:"client_secret_expires_at"`
}

// oktaEndpoint is the org's DCR endpoint, or the client's under it.
func oktaEndpoint(issuer, clientID string) (string, bool) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return "", false
	}
	target := u.Scheme + "://" + u.Host + "/oauth2/v1/clients"
	if clientID != "" {
		target += "/" + url.PathEscape(clientID)
	}
	return target, true
}

// oktaRegister registers a client_credentials service client named name at the
// Okta org of issuer with the DCR token, and returns its client id. The secret
// Okta answers is dropped: the management API never shows one.
func (e *Emulator) oktaRegister(ctx context.Context, issuer, token, name string) (string, *idpError) {
	const what = "Unable to create the DCR application"
	target, ok := oktaEndpoint(issuer, "")
	if !ok {
		return "", &idpError{msg: what + ": the issuer is not a valid URL"}
	}
	body, _ := json.Marshal(map[string]any{
		"client_name":                name,
		"application_type":           "service",
		"grant_types":                []string{"client_credentials"},
		"response_types":             []string{"token"},
		"token_endpoint_auth_method": "client_secret_basic",
	})
	var c oktaClient
	if ierr := e.oktaDo(ctx, what, http.MethodPost, target, token, body, &c); ierr != nil {
		return "", ierr
	}
	return c.ClientID, nil
}

// oktaGet reads a client at the Okta org of issuer.
func (e *Emulator) oktaGet(ctx context.Context, issuer, token, clientID string) (oktaClient, *idpError) {
	const what = "Unable to read the DCR application"
	target, ok := oktaEndpoint(issuer, clientID)
	if !ok {
		return oktaClient{}, &idpError{msg: what + ": the issuer is not a valid URL"}
	}
	var c oktaClient
	ierr := e.oktaDo(ctx, what, http.MethodGet, target, token, nil, &c)
	return c, ierr
}

// oktaDelete deletes a client at the Okta org of issuer.
func (e *Emulator) oktaDelete(ctx context.Context, issuer, token, clientID string) *idpError {
	const what = "Unable to delete the DCR application"
	target, ok := oktaEndpoint(issuer, clientID)
	if !ok {
		return &idpError{msg: what + ": the issuer is not a valid URL"}
	}
	return e.oktaDo(ctx, what, http.MethodDelete, target, token, nil, nil)
}

// oktaDo makes one call and decodes a 2xx answer into out (which, when given,
// must then carry a client_id); what opens every failure message.
func (e *Emulator) oktaDo(ctx context.Context, what, method, target, token string, body []byte, out *oktaClient) *idpError {
	status, answer, err := e.oktaCall(ctx, method, target, token, body)
	if err != nil {
		return &idpError{msg: redact(what+": "+err.Error(), token)}
	}
	if status < 200 || status > 299 {
		return &idpError{status: status, msg: redact(fmt.Sprintf("%s: the provider answered %d %s", what, status, oktaReason(answer)), token)}
	}
	if out != nil && (json.Unmarshal(answer, out) != nil || out.ClientID == "") {
		return &idpError{msg: what + ": the provider's answer has no client_id"}
	}
	return nil
}

// oktaCall sends one SSWS-authenticated request and reads at most 64 KiB back.
func (e *Emulator) oktaCall(ctx context.Context, method, target, token string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("bad DCR endpoint URL")
	}
	req.Header.Set("Authorization", "SSWS "+token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("the provider could not be reached (%s %s)", method, target)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, answer, nil
}

// oktaReason pulls the human part out of an Okta error body (management or OAuth style).
func oktaReason(body []byte) string {
	var e struct {
		Summary     string `json:"errorSummary"`
		Description string `json:"error_description"`
		Code        string `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	switch {
	case e.Summary != "":
		return "(" + e.Summary + ")"
	case e.Description != "":
		return "(" + e.Description + ")"
	case e.Code != "":
		return "(" + e.Code + ")"
	}
	return ""
}

// redact removes the token from a message, whatever echoed it.
func redact(msg, token string) string {
	if token == "" {
		return msg
	}
	return strings.ReplaceAll(msg, token, "[REDACTED]")
}

// serverSide is the context of Konnect's own calls into Okta while it answers r:
// Konnect finishes what it started (registering and deleting a client) even when
// the caller goes away mid-request, as a server does; bounded on its own.
func serverSide(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
}
