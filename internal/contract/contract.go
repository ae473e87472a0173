// Package contract checks HTTP traffic against the official OpenAPI specs of Okta and
// Konnect (../shared/specs). Tests put Transport under the clients they exercise, so
// that every request a client sends and every answer the sandbox gives is validated
// against the same contract the real services publish.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dcrflow/dcrflow/internal/testenv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// faultHeader marks answers produced by the sandbox's fault injection; they are not
// the emulator's behaviour, so only their requests are checked.
const faultHeader = "X-Sandbox-Fault"

// routingHost stands in for every spec's server, so one router serves any base URL.
const routingHost = "contract.invalid"

// specFiles are the specs dcrflow talks to, relative to the specs folder.
var specFiles = []string{
	"okta/management-2026.06.3.yaml",
	"okta/oauth-2026.06.3.yaml",
	"konnect/application-auth-strategies-v2.yaml",
	"konnect/api-builder-v3.yaml",
	"konnect/portal-management-v3.yaml",
}

type spec struct {
	name   string
	router routers.Router
}

// Validator holds the loaded specs.
type Validator struct {
	specs []spec
}

// SpecsDir finds the specs folder: $DCRFLOW_SPECS_DIR, else ../shared/specs beside
// the repository root. ok is false when it does not exist (a user's checkout).
func SpecsDir() (dir string, ok bool) {
	if d := os.Getenv("DCRFLOW_SPECS_DIR"); d != "" {
		_, err := os.Stat(d)
		return d, err == nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && !strings.Contains(d, string(filepath.Separator)+"tools") {
			cand := filepath.Join(filepath.Dir(d), "shared", "specs")
			if _, err := os.Stat(cand); err == nil {
				return cand, true
			}
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

var (
	loadOnce sync.Once
	loaded   *Validator
	loadErr  error
)

// Load reads and indexes the specs once per process.
func Load(dir string) (*Validator, error) {
	loadOnce.Do(func() { loaded, loadErr = load(dir) })
	return loaded, loadErr
}

func load(dir string) (*Validator, error) {
	v := &Validator{}
	for _, f := range specFiles {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(filepath.Join(dir, f))
		if err != nil {
			return nil, fmt.Errorf("load spec %s: %w", f, err)
		}
		if err := applyFixes(f, doc); err != nil {
			return nil, fmt.Errorf("spec %s: %w", f, err)
		}
		base, err := basePath(doc)
		if err != nil {
			return nil, fmt.Errorf("spec %s: %w", f, err)
		}
		// Route on path alone: the sandbox runs on loopback ports, not the spec's hosts.
		doc.Servers = openapi3.Servers{{URL: "http://" + routingHost + base}}
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("route spec %s: %w", f, err)
		}
		v.specs = append(v.specs, spec{name: f, router: r})
	}
	return v, nil
}

// basePath is the path part of the spec's first server (e.g. "/v2"), with variables
// at their defaults.
func basePath(doc *openapi3.T) (string, error) {
	if len(doc.Servers) == 0 {
		return "", nil
	}
	s := doc.Servers[0]
	raw := s.URL
	for name, v := range s.Variables {
		raw = strings.ReplaceAll(raw, "{"+name+"}", v.Default)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("server url %q: %w", s.URL, err)
	}
	return strings.TrimSuffix(u.Path, "/"), nil
}

// Violation is one way a request or response broke the contract.
type Violation struct {
	Method, Path string
	Spec         string
	Stage        string // "route", "request" or "response"
	Status       int
	Err          error
}

func (v Violation) String() string {
	where := v.Method + " " + v.Path
	if v.Status != 0 {
		where += fmt.Sprintf(" -> %d", v.Status)
	}
	return fmt.Sprintf("contract %s violation (%s) %s: %v", v.Stage, v.Spec, where, v.Err)
}

func (v *Validator) find(req *http.Request) (spec, *routers.Route, map[string]string, bool) {
	routed := req.Clone(req.Context())
	u := *req.URL
	u.Scheme, u.Host = "http", routingHost
	routed.URL = &u
	routed.Host = routingHost
	for _, s := range v.specs {
		route, params, err := s.router.FindRoute(routed)
		if err == nil {
			return s, route, params, true
		}
	}
	return spec{}, nil, nil, false
}

func options() *openapi3filter.Options {
	return &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
}

// Check validates one exchange; resp may be nil (transport error). Bodies are read
// from the byte slices, so the caller's request and response stay untouched.
func (v *Validator) Check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) []Violation {
	method, path := req.Method, req.URL.Path
	s, route, params, ok := v.find(req)
	if !ok {
		if ex := exceptionFor(method, path, "route", 0); ex != nil {
			return nil
		}
		return []Violation{{Method: method, Path: path, Spec: "none", Stage: "route", Err: errors.New("no operation in the specs matches")}}
	}
	var out []Violation
	routed := req.Clone(context.Background())
	u := *req.URL
	u.Scheme, u.Host = "http", routingHost
	routed.URL = &u
	routed.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.RequestValidationInput{Request: routed, PathParams: params, Route: route, Options: options()}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && exceptionFor(method, path, "request", 0) == nil {
		out = append(out, Violation{Method: method, Path: path, Spec: s.name, Stage: "request", Err: err})
	}
	if resp == nil || resp.Header.Get(faultHeader) != "" {
		return out
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                options(),
	}
	rin.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil && exceptionFor(method, path, "response", resp.StatusCode) == nil {
		out = append(out, Violation{Method: method, Path: path, Spec: s.name, Stage: "response", Status: resp.StatusCode, Err: err})
	}
	return out
}

// Reporter receives violations; *testing.T satisfies it.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// Transport wraps base so that every exchange is checked, and violations reported to
// r. Without the specs folder it passes traffic through and says so once.
func Transport(r Reporter, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	dir, ok := SpecsDir()
	if !ok {
		testenv.MissingMessage(r.Errorf, r.Logf, "contract checks skipped: specs folder ../shared/specs not found (set DCRFLOW_SPECS_DIR)")
		return base
	}
	v, err := Load(dir)
	if err != nil {
		r.Errorf("contract: %v", err)
		return base
	}
	return &transport{v: v, r: r, base: base}
}

type transport struct {
	v    *Validator
	r    Reporter
	base http.RoundTripper
}

// maxBody caps what is buffered for checking; the specs' bodies are small.
const maxBody = 8 << 20

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxBody))
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		t.report(t.v.Check(req, reqBody, nil, nil))
		return nil, err
	}
	respBody, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if rerr != nil {
		return resp, nil // the caller sees the truncated body; nothing to check
	}
	t.report(t.v.Check(req, reqBody, resp, respBody))
	return resp, nil
}

func (t *transport) report(vs []Violation) {
	for _, v := range vs {
		t.r.Errorf("%s", v)
	}
}
