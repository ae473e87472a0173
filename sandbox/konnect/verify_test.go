package konnect

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeOkta is a tiny Okta DCR endpoint: it registers clients for one SSWS token.
type fakeOkta struct {
	token string

	mu      sync.Mutex
	created map[string]map[string]any
	deleted []string
}

func (f *fakeOkta) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "SSWS "+f.token {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"x","errorCauses":[]}`))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == "POST" && r.URL.Path == "/oauth2/v1/clients":
		var body map[string]any
		if json.NewDecoder(r.Body).Decode(&body) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		id := "0oa" + newUUID()[:12]
		f.created[id] = body
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"client_id": id, "client_secret": "s3cr3t", "client_name": body["client_name"]})
	case r.Method == "DELETE" && strings.HasPrefix(r.URL.Path, "/oauth2/v1/clients/"):
		id := strings.TrimPrefix(r.URL.Path, "/oauth2/v1/clients/")
		if f.created[id] == nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		delete(f.created, id)
		f.deleted = append(f.deleted, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func verifyProvider(t *testing.T, h *harness, issuer, token string) verifyResult {
	t.Helper()
	b := oktaProvider("okta-"+newUUID()[:8], token)
	b["issuer"] = issuer
	a := h.call("POST", "/v2/dcr-providers", b)
	want(t, a, http.StatusCreated)
	var p DCRProvider
	a.decode(t, &p)
	// The verification's own answer is checked against the Konnect spec; the fake
	// Okta is reached with a plain client (it is not the Okta emulator).
	a = h.call("POST", "/v2/dcr-providers/"+p.ID+"/verify", nil)
	want(t, a, http.StatusOK)
	if strings.Contains(string(a.body), token) {
		t.Fatalf("verify answer shows the token: %s", a.body)
	}
	var res verifyResult
	a.decode(t, &res)
	return res
}

func TestVerify_RegistersAndDeletesAClient(t *testing.T) {
	t.Parallel()
	okta := &fakeOkta{token: "00good-dcr-token", created: map[string]map[string]any{}}
	srv := httptest.NewServer(okta)
	t.Cleanup(srv.Close)
	h := start(t)

	res := verifyProvider(t, h, srv.URL+"/oauth2/default", "00good-dcr-token")
	if res.Status != "success" || len(res.Errors) != 0 {
		t.Fatalf("verify %+v, want success", res)
	}
	okta.mu.Lock()
	defer okta.mu.Unlock()
	if len(okta.deleted) != 1 || len(okta.created) != 0 {
		t.Fatalf("fake Okta saw %d deletions and keeps %d clients; want the one client registered then deleted", len(okta.deleted), len(okta.created))
	}
}

func TestVerify_RegistersAServiceClient(t *testing.T) {
	t.Parallel()
	var got map[string]any
	okta := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			_ = json.NewDecoder(r.Body).Decode(&got)
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"client_id":"0oa1"}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(okta)
	t.Cleanup(srv.Close)
	h := start(t)
	if res := verifyProvider(t, h, srv.URL+"/oauth2/aus123", "tok"); res.Status != "success" {
		t.Fatalf("verify %+v", res)
	}
	if got["application_type"] != "service" || got["token_endpoint_auth_method"] != "client_secret_basic" ||
		!strings.HasPrefix(got["client_name"].(string), "konnect-dcr-verification-") {
		t.Fatalf("registration body %v", got)
	}
	if gt, _ := got["grant_types"].([]any); len(gt) != 1 || gt[0] != "client_credentials" {
		t.Fatalf("grant_types %v", got["grant_types"])
	}
}

func TestVerify_Failures(t *testing.T) {
	t.Parallel()
	okta := &fakeOkta{token: "00good-dcr-token", created: map[string]map[string]any{}}
	srv := httptest.NewServer(okta)
	t.Cleanup(srv.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	h := start(t)

	tests := []struct {
		name, issuer, token, wantErr string
	}{
		{"wrong token", srv.URL + "/oauth2/default", "00wrong-token-value", "401 (Invalid token provided)"},
		{"unreachable org", closed.URL + "/oauth2/default", "00good-dcr-token", "could not be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := verifyProvider(t, h, tt.issuer, tt.token)
			if res.Status != "failed" || len(res.Errors) != 1 || !strings.Contains(res.Errors[0], tt.wantErr) {
				t.Fatalf("verify %+v, want failed with %q", res, tt.wantErr)
			}
			if strings.Contains(res.Errors[0], tt.token) {
				t.Fatalf("error shows the token: %q", res.Errors[0])
			}
		})
	}
	want(t, h.call("POST", "/v2/dcr-providers/"+newUUID()+"/verify", nil), http.StatusNotFound)
}

func TestRedact_RemovesToken(t *testing.T) {
	t.Parallel()
	if got := redact("bad token abc123 here", "abc123"); strings.Contains(got, "abc123") {
		t.Fatalf("redact kept the token: %q", got)
	}
}
