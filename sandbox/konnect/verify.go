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
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return failed("Unable to create the DCR application: the issuer is not a valid URL")
	}
	org := u.Scheme + "://" + u.Host
	body, _ := json.Marshal(map[string]any{
		"client_name":                "konnect-dcr-verification-" + newUUID()[:8],
		"application_type":           "service",
		"grant_types":                []string{"client_credentials"},
		"response_types":             []string{"token"},
		"token_endpoint_auth_method": "client_secret_basic",
	})
	status, answer, err := e.oktaCall(ctx, http.MethodPost, org+"/oauth2/v1/clients", token, body)
	if err != nil {
		return failed(redact("Unable to create the DCR application: "+err.Error(), token))
	}
	if status != http.StatusCreated && status != http.StatusOK {
		return failed(redact(fmt.Sprintf("Unable to create the DCR application: the provider answered %d %s", status, oktaReason(answer)), token))
	}
	var client struct {
		ClientID string `json:"client_id"`
	}
	if json.Unmarshal(answer, &client) != nil || client.ClientID == "" {
		return failed("Unable to create the DCR application: the provider's answer has no client_id")
	}
	status, answer, err = e.oktaCall(ctx, http.MethodDelete, org+"/oauth2/v1/clients/"+url.PathEscape(client.ClientID), token, nil)
	if err != nil {
		return failed(redact("Unable to delete the DCR application: "+err.Error(), token))
	}
	if status != http.StatusNoContent && status != http.StatusOK {
		return failed(redact(fmt.Sprintf("Unable to delete the DCR application: the provider answered %d %s", status, oktaReason(answer)), token))
	}
	return verified()
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
