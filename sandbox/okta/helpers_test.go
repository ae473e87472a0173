package okta

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow/internal/contract"
	"github.com/dcrflow/dcrflow/sandbox/ratelimit"
)

// harness is an emulator behind a real HTTP server, reached through a client that
// checks every exchange against the official specs.
type harness struct {
	t                *testing.T
	em               *Emulator
	url              string
	mgmt, dcr, token *ratelimit.Window
	client           *http.Client
}

func start(t *testing.T) *harness {
	t.Helper()
	return startSeed(t, DefaultSeed())
}

// startSeed is start with another seed.
func startSeed(t *testing.T, seed Seed) *harness {
	t.Helper()
	h := &harness{t: t, mgmt: ratelimit.New(ratelimit.Settings{}), dcr: ratelimit.New(ratelimit.Settings{}), token: ratelimit.New(ratelimit.Settings{})}
	var em *Emulator
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { em.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	var err error
	em, err = New(seed, Options{BaseURL: srv.URL, Management: h.mgmt, DCR: h.dcr, Token: h.token})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.em, h.url = em, srv.URL
	h.client = &http.Client{Transport: contract.Transport(t, http.DefaultTransport)}
	return h
}

// offSpec is h with a client that skips the contract checks, for behaviour Okta
// has that its published spec omits (401 E0000011 on management calls, 405).
func (h *harness) offSpec() *harness {
	c := *h
	c.client = &http.Client{}
	return &c
}

// reply is a finished exchange.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// oktaErr decodes an Okta error body and checks its shape.
func (r reply) oktaErr(t *testing.T) oktaError {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error content type %q", ct)
	}
	var e oktaError
	r.decode(t, &e)
	if e.ErrorCode == "" || e.ErrorLink != e.ErrorCode || e.ErrorID == "" || e.ErrorCauses == nil {
		t.Fatalf("not an Okta error body: %s", r.body)
	}
	return e
}

func (r reply) oauthErr(t *testing.T) oauthError {
	t.Helper()
	var e oauthError
	r.decode(t, &e)
	if e.Error == "" {
		t.Fatalf("not an OAuth error body: %s", r.body)
	}
	return e
}

// call sends a request with an SSWS token (none when token is "") and a JSON body.
func (h *harness) call(method, path, token string, body any) reply {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = h.url + path
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
	return h.send(req)
}

func (h *harness) send(req *http.Request) reply {
	h.t.Helper()
	// Errorf, not Fatalf: concurrent tests call this from other goroutines.
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Errorf("%s %s: %v", req.Method, req.URL, err)
		return reply{}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Errorf("read %s: %v", req.URL, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func (h *harness) mgmtCall(method, path string, body any) reply {
	h.t.Helper()
	return h.call(method, path, DefaultManagementToken, body)
}

// form posts to the token endpoint; basic is "id:secret" for client_secret_basic.
func (h *harness) tokenCall(serverID string, form url.Values, id, secret string) reply {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+"/oauth2/"+serverID+"/v1/token", strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return h.send(req)
}

// register makes a client_credentials service client and returns id and secret.
func (h *harness) register(name string) (string, string) {
	h.t.Helper()
	r := h.call(http.MethodPost, "/oauth2/v1/clients", DefaultDCRToken, map[string]any{
		"client_name": name, "application_type": "service", "grant_types": []string{"client_credentials"},
		"response_types": []string{"token"}, "token_endpoint_auth_method": "client_secret_basic"})
	if r.status != http.StatusCreated {
		h.t.Fatalf("register: %d %s", r.status, r.body)
	}
	var c clientJSON
	r.decode(h.t, &c)
	return c.ClientID, *c.ClientSecret
}

// createScope adds a custom scope and returns its JSON.
func (h *harness) createScope(serverID string, body map[string]any) scopeJSON {
	h.t.Helper()
	r := h.mgmtCall(http.MethodPost, "/api/v1/authorizationServers/"+serverID+"/scopes", body)
	if r.status != http.StatusCreated {
		h.t.Fatalf("create scope: %d %s", r.status, r.body)
	}
	var s scopeJSON
	r.decode(h.t, &s)
	return s
}

// nextLink returns the rel="next" URL of a reply, or "".
func nextLink(header http.Header) string {
	for _, l := range header.Values("Link") {
		if strings.Contains(l, `rel="next"`) {
			return strings.TrimSuffix(strings.TrimPrefix(strings.Split(l, ";")[0], "<"), ">")
		}
	}
	return ""
}
