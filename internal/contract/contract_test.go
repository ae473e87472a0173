package contract

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dcrflow/dcrflow/internal/testenv"
)

type recorder struct {
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Logf(string, ...any) {}

func requireSpecs(t *testing.T) {
	t.Helper()
	if _, ok := SpecsDir(); !ok {
		testenv.Missing(t, "contract checks skipped: specs folder ../shared/specs not found")
	}
}

// exchange sends one request through Transport to a server answering status/body.
func exchange(t *testing.T, method, path, reqBody string, status int, respBody string) []string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, respBody)
	}))
	defer srv.Close()
	rec := &recorder{}
	c := &http.Client{Transport: Transport(rec, nil)}
	var body io.Reader
	if reqBody != "" {
		body = strings.NewReader(reqBody)
	}
	req, _ := http.NewRequest(method, srv.URL+path, body)
	if reqBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != respBody {
		t.Fatalf("transport changed the body: %q", got)
	}
	return rec.errors
}

func TestTransport_AcceptsConformingExchange(t *testing.T) {
	requireSpecs(t)
	errs := exchange(t, "POST", "/v2/dcr-providers/6f2d5e8a-9a43-4c43-9d4e-0d7d3e3a1b10/verify", "", 200,
		`{"status":"success","errors":[]}`)
	if len(errs) != 0 {
		t.Fatalf("conforming exchange reported: %v", errs)
	}
}

func TestTransport_ReportsBrokenResponse(t *testing.T) {
	requireSpecs(t)
	// status must be "success" or "failed".
	errs := exchange(t, "POST", "/v2/dcr-providers/6f2d5e8a-9a43-4c43-9d4e-0d7d3e3a1b10/verify", "", 200,
		`{"status":"maybe","errors":[]}`)
	if len(errs) != 1 || !strings.Contains(errs[0], "response") {
		t.Fatalf("want one response violation, got %v", errs)
	}
}

func TestTransport_ReportsBrokenRequest(t *testing.T) {
	requireSpecs(t)
	// A scope without its required name.
	errs := exchange(t, "POST", "/api/v1/authorizationServers/default/scopes", `{"description":"x"}`, 201,
		`{"id":"scp1","name":"x"}`)
	if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "request") {
		t.Fatalf("want a request violation, got %v", errs)
	}
}

func TestTransport_ReportsUndocumentedStatusAndUnknownRoute(t *testing.T) {
	requireSpecs(t)
	errs := exchange(t, "GET", "/v3/apis/6f2d5e8a-9a43-4c43-9d4e-0d7d3e3a1b10", "", 418, `{}`)
	if len(errs) != 1 {
		t.Fatalf("undocumented status: want one violation, got %v", errs)
	}
	errs = exchange(t, "GET", "/api/v1/no-such-endpoint/at-all", "", 200, `{}`)
	if len(errs) != 1 || !strings.Contains(errs[0], "route") {
		t.Fatalf("unknown route: want one route violation, got %v", errs)
	}
}

func TestTransport_SkipsResponsesOfInjectedFaults(t *testing.T) {
	requireSpecs(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(faultHeader, "fault-1")
		w.WriteHeader(599)
	}))
	defer srv.Close()
	rec := &recorder{}
	c := &http.Client{Transport: Transport(rec, nil)}
	resp, err := c.Get(srv.URL + "/v3/apis/6f2d5e8a-9a43-4c43-9d4e-0d7d3e3a1b10")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(rec.errors) != 0 {
		t.Fatalf("injected fault was validated: %v", rec.errors)
	}
}

func TestExceptions_WaiveOnlyTheirStatusAndOperation(t *testing.T) {
	if exceptionFor("GET", "/v3/apis", "response", 429) == nil {
		t.Error("konnect 429 not waived")
	}
	if exceptionFor("GET", "/v3/apis", "response", 500) != nil {
		t.Error("an exception waived a status it does not name")
	}
	if exceptionFor("POST", "/v2/application-auth-strategies", "response", 409) == nil {
		t.Error("duplicate strategy 409 not waived")
	}
	if exceptionFor("DELETE", "/v2/application-auth-strategies/x", "response", 409) != nil {
		t.Error("the create exception covered delete")
	}
	if exceptionFor("GET", "/api/v1/authorizationServers", "response", 429) != nil {
		t.Error("the Konnect 429 exception covered Okta")
	}
	for _, e := range Exceptions {
		if e.Name == "" || len(e.Reason) < 20 {
			t.Errorf("exception %q lacks a name or a reason", e.Name)
		}
	}
}
